"""Pane 1: the hyperparameter form, generated from the engine's config dataclasses.

Every field of ``core.config.RunConfig`` becomes one row: a ChoiceInput (up/down cycles) for fields with choices,
a Checkbox for booleans, an Input otherwise. Each keystroke is parsed with
``core.config.with_field`` and the whole config re-checked with ``validate(check_device=False)``
(no torch import), so errors appear under the field that causes them, in the engine's words.
The data files are checked too (``core.data.paths``): a path that does not resolve from the
current folder is an error under its field, not a failure at F6.
A pretrained ``model.backbone`` makes the scratch-only fields read-only, showing the
backbone's values (``tui.panes.backbone_fields``); the field suggests the models on this machine.
The pane posts ``ConfigChanged`` with the typed config and whether it can run.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import DescendantFocus
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Static

from core.config import (
    PRESETS, SECTIONS, ConfigError, RunConfig, field_types, from_dict, validate, with_field,
)
from core.data.paths import check_data_paths
from core.errors import UserError
from core.events import Event, RunStarted
from core.pretrained.locate import is_scratch
from tui.file_columns import read_columns
from tui.panes.backbone_fields import BackboneFields
from tui.widgets.choice_input import ChoiceInput

SECTION_TITLES = {"model": "Model", "data": "Data", "train": "Training"}
PRESET_HELP = ("Preset: a named starting point ('seed' is the tutorial's exact setup, 'nano' trains in seconds). "
               "Up/down: " + " | ".join(PRESETS) + ".")
SUGGESTIONS = {
    "data.tokenizer": ["wordpiece", "word"],
    "train.device": ["auto", "cpu", "cuda", "cuda:0", "cuda:1"],
}


@dataclass(frozen=True)
class FieldSpec:
    dotted: str  # "model.emb_dim"
    kind: type
    help: str
    choices: tuple[str, ...] | None


def field_specs() -> list[FieldSpec]:
    specs = []
    for section, cls in SECTIONS.items():
        types = field_types(cls)
        for f in fields(cls):
            specs.append(FieldSpec(f"{section}.{f.name}", types[f.name], f.metadata.get("help", ""), f.metadata.get("choices")))
    return specs


def widget_id(dotted: str) -> str:
    return "f-" + dotted.replace(".", "-")


def current_value(config: RunConfig, dotted: str):
    section, _, name = dotted.partition(".")
    return getattr(getattr(config, section), name)


def as_text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


class OnOffCheckbox(Checkbox):
    """A checkbox whose label says its state, so a setting reads right without colour (the box
    itself draws the same glyph either way)."""

    def watch_value(self) -> None:
        self.label = "on" if self.value else "off"
        super().watch_value()


class HyperparamsPane(Vertical):
    """The form. ``config`` is always the last valid-to-parse config; ``errors`` maps field -> message."""

    class ConfigChanged(Message):
        def __init__(self, config: RunConfig, errors: dict[str, str]) -> None:
            super().__init__()
            self.config = config
            self.errors = errors

        @property
        def valid(self) -> bool:
            return not self.errors

    class StartRequested(Message):
        """The form's Start button was pressed (same as the global start key)."""

    class BackboneRead(Message):
        """A backbone's values for the scratch-only fields (None: not here yet), or why not."""

        def __init__(self, name: str, values: dict | None, problem: str) -> None:
            super().__init__()
            self.name, self.values, self.problem = name, values, problem

    def __init__(self, config: RunConfig | None = None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Hyperparameters"
        self.config = config or PRESETS["default"]
        self.specs = field_specs()
        self._parse_errors: dict[str, str] = {}
        self._error_widgets: dict[str, Static] = {}
        self._last_posted: tuple[RunConfig, dict[str, str]] | None = None
        self.errors: dict[str, str] = {}
        self._built = False
        self._backbone_problem = ""
        self.backbone_fields = BackboneFields(self, lambda dotted: self.query_one("#" + widget_id(dotted)), as_text)

    # --- building -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # A two-column grid (name, editor) rather than a row container per field, choices as
        # ChoiceInput rather than Select, and error lines mounted only when needed: the form
        # has ~40 fields and each widget saved shortens the time to the first screen. The
        # fields themselves are mounted right after the first paint (``_build_fields``).
        with VerticalScroll(id="form"):
            yield Label("preset", classes="field-name")
            yield ChoiceInput(tuple(PRESETS), self._matching_preset() or "", placeholder="(custom)", id="preset",
                              compact=True, select_on_focus=False)
        yield Static(PRESET_HELP, id="field-help")
        with Horizontal(id="form-actions"):
            yield Button("Start training (F6)", id="start", variant="primary", compact=True)
            yield Static("", id="form-status")

    def _editor(self, spec: FieldSpec) -> Widget:
        value = current_value(self.config, spec.dotted)
        wid = widget_id(spec.dotted)
        if spec.choices:
            return ChoiceInput(spec.choices, str(value), id=wid, classes="field-editor", compact=True, select_on_focus=False)
        if spec.kind is bool:
            return OnOffCheckbox("on" if value else "off", value=bool(value), id=wid, classes="field-editor",
                                 compact=True)
        suggestions = SUGGESTIONS.get(spec.dotted)
        suggester = SuggestFromList(suggestions, case_sensitive=False) if suggestions else None
        if spec.dotted == "model.backbone":
            from tui.backbone_suggester import BackboneSuggester

            suggester = BackboneSuggester()
        return Input(as_text(value), id=wid, classes="field-editor", compact=True, select_on_focus=False,
                     suggester=suggester)

    def _field_widgets(self) -> list[Widget]:
        widgets: list[Widget] = []
        section = ""
        for spec in self.specs:
            this_section = spec.dotted.split(".")[0]
            if this_section != section:
                section = this_section
                widgets.append(Static(SECTION_TITLES[section], classes="section-title"))
            widgets.append(Label(spec.dotted.split(".")[1], classes="field-name", id=widget_id(spec.dotted) + "-name"))
            widgets.append(self._editor(spec))
        return widgets

    def on_mount(self) -> None:
        self.built = asyncio.Event()  # set once every field is on screen (tests await it)
        self.call_after_refresh(self._build_fields)

    async def _build_fields(self) -> None:
        await self.query_one("#form").mount_all(self._field_widgets())
        self._built = True
        self._offer_columns()
        self._backbone_changed()
        self._revalidate()
        self.built.set()

    # --- reading edits ----------------------------------------------------------------------

    def _spec_for(self, widget: Widget | None) -> FieldSpec | None:
        wid = getattr(widget, "id", None) or ""
        return next((s for s in self.specs if widget_id(s.dotted) == wid), None)

    @on(Input.Changed, ".field-editor")
    def _input_changed(self, event: Input.Changed) -> None:
        spec = self._spec_for(event.input)
        # Inputs announce their initial value on mount; re-checking an unchanged field is waste.
        if spec and (spec.dotted in self._parse_errors or event.value != as_text(current_value(self.config, spec.dotted))):
            self._set_field(spec.dotted, event.value)

    @on(Checkbox.Changed, ".field-editor")
    def _switch_changed(self, event: Checkbox.Changed) -> None:
        spec = self._spec_for(event.checkbox)
        if spec and event.value != current_value(self.config, spec.dotted):
            self._set_field(spec.dotted, event.value)

    @on(Input.Changed, "#preset")
    def _preset_chosen(self, event: Input.Changed) -> None:
        event.stop()
        chosen = PRESETS.get(event.value.strip())
        if chosen is not None and chosen != self.config:
            self.set_config(chosen)

    @on(Button.Pressed, "#start")
    def _start_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.StartRequested())

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        spec = self._spec_for(event.widget)
        text = PRESET_HELP if getattr(event.widget, "id", None) == "preset" else (spec.help if spec else None)
        if spec is not None and spec.choices:
            text += " Up/down: " + " | ".join(spec.choices) + "."
        if text:
            self.query_one("#field-help", Static).update(text)

    def _set_field(self, dotted: str, value) -> None:
        try:
            self.config = with_field(self.config, dotted, value)
            self._parse_errors.pop(dotted, None)
        except ConfigError as exc:
            self._parse_errors[dotted] = "; ".join(e.message for e in exc.errors)
        if dotted == "data.train_path":
            self._offer_columns()
        if dotted == "model.backbone":
            self._backbone_changed()
        self._revalidate()

    def _offer_columns(self) -> None:
        """Suggest the training file's columns for the text/label column fields."""
        columns = read_columns(self.config.data.train_path)
        for name in ("data.text_column", "data.label_column"):
            editor = self.query_one("#" + widget_id(name), Input)
            editor.suggester = SuggestFromList(columns, case_sensitive=True) if columns else None
            editor.placeholder = ("columns: " + ", ".join(columns)) if columns else "detect"

    # --- the backbone ----------------------------------------------------------------------

    def _backbone_changed(self) -> None:
        name = self.config.model.backbone
        if is_scratch(name):
            self._backbone_problem = ""
            self.backbone_fields.release()
        else:
            self._read_backbone(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-backbone")
    def _read_backbone(self, name: str) -> None:
        from core.pretrained.form_facts import backbone_values

        try:
            self.post_message(self.BackboneRead(name, backbone_values(name), ""))
        except UserError as exc:
            self.post_message(self.BackboneRead(name, None, str(exc)))

    def on_hyperparams_pane_backbone_read(self, message: BackboneRead) -> None:
        if message.name != self.config.model.backbone:  # typed on since
            return
        self._backbone_problem = message.problem
        if message.problem:  # the error under the field says what to fix; nothing to show yet
            self.backbone_fields.release()
        else:
            self.backbone_fields.lock(message.name, message.values)
        self._revalidate()

    def _revalidate(self) -> None:
        if not self._built:
            return
        errors = {e.field: e.message for e in validate(self.config, check_device=False)}
        if self._backbone_problem:  # before F6, like the data files
            errors.setdefault("model.backbone", self._backbone_problem)
        for problem in check_data_paths(self.config):  # the files must be there before F6, not at it
            errors.setdefault(problem.field, problem.message)
        errors.update(self._parse_errors)  # what the user typed beats the last parsed value
        self.errors = errors
        for spec in self.specs:
            self._show_field_error(spec.dotted, errors.get(spec.dotted, ""))
        self.query_one("#start", Button).disabled = bool(errors)
        status = self.query_one("#form-status", Static)
        if errors:
            status.update(f"{len(errors)} field{'s' if len(errors) > 1 else ''} to fix: {', '.join(errors)}")
        else:
            status.update("ready")
        preset = self.query_one("#preset", ChoiceInput)
        matching = self._matching_preset() or ""
        if preset.value != matching and (matching or preset.value in PRESETS):
            with self.prevent(Input.Changed):
                preset.value = matching
        if (self.config, errors) != self._last_posted:
            self._last_posted = (self.config, dict(errors))
            self.post_message(self.ConfigChanged(self.config, dict(errors)))

    def _show_field_error(self, dotted: str, message: str) -> None:
        wid = widget_id(dotted)
        self.query_one("#" + wid).set_class(bool(message), "-invalid")
        shown = self._error_widgets.get(dotted)
        if message and shown is None:
            shown = self._error_widgets[dotted] = Static(message, classes="field-error", id=wid + "-error")
            self.query_one("#form").mount(shown, after=self.query_one("#" + wid))
        elif message:
            shown.update(message)
        elif shown is not None:
            del self._error_widgets[dotted]
            shown.remove()

    def error_text(self, dotted: str) -> str:
        """The error shown under a field ('' when it is valid)."""
        shown = self._error_widgets.get(dotted)
        return str(shown.render()) if shown is not None else ""

    def _matching_preset(self) -> str | None:
        return next((name for name, cfg in PRESETS.items() if cfg == self.config), None)

    # --- setting from outside ----------------------------------------------------------------

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` in every field (a preset, a loaded TOML file, a replayed run)."""
        self.config = config
        self._parse_errors.clear()
        if not self._built:  # the fields will be built from self.config
            return
        with self.prevent(Input.Changed, Checkbox.Changed):
            for spec in self.specs:
                editor = self.query_one("#" + widget_id(spec.dotted))
                value = current_value(config, spec.dotted)
                if isinstance(editor, Input):
                    editor.value = as_text(value)
                else:
                    editor.value = value
        self._offer_columns()
        self._backbone_changed()
        self._revalidate()

    def apply_event(self, event: Event) -> None:
        # A replayed or resumed run shows the config it actually ran with.
        if isinstance(event, RunStarted) and event.config:
            try:
                config = from_dict(event.config)
            except ConfigError:
                return
            if config != self.config:
                self.set_config(config)

    # --- the pane contract (tui.pane); apply_event is above -----------------------------------

    def reset(self) -> None:
        """The form keeps its settings: a replay shows the recorded ones with ``show_recorded``."""

    def show_recorded(self, config: RunConfig) -> None:
        self.set_config(config)
