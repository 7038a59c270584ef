"""Pane 1: the hyperparameter form, generated from the engine's config dataclasses.

Every field of ``core.config.RunConfig`` becomes one row: a Select for fields with choices,
a Checkbox for booleans, an Input otherwise. Each keystroke is parsed with
``core.config.with_field`` and the whole config re-checked with ``validate(check_device=False)``
(no torch import), so errors appear under the field that causes them, in the engine's words.
The pane posts ``ConfigChanged`` with the typed config and whether it can run.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import DescendantFocus
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core.config import (
    PRESETS, SECTIONS, ConfigError, RunConfig, field_types, from_dict, validate, with_field,
)
from core.events import Event, RunStarted
from tui.file_columns import read_columns

SECTION_TITLES = {"model": "Model", "data": "Data", "train": "Training"}
PRESET_HELP = "Preset: a named starting point ('seed' is the tutorial's exact setup, 'nano' trains in seconds)."
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

    def __init__(self, config: RunConfig | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Hyperparameters"
        self.config = config or PRESETS["default"]
        self.specs = field_specs()
        self._parse_errors: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    # --- building -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label("preset", classes="field-name")
            options = [(name, name) for name in PRESETS]
            yield Select(options, value=self._matching_preset() or Select.NULL, prompt="(custom)", id="preset",
                         classes="field-editor", compact=True)
        with VerticalScroll(id="form"):
            section = ""
            for spec in self.specs:
                this_section = spec.dotted.split(".")[0]
                if this_section != section:
                    section = this_section
                    yield Static(SECTION_TITLES[section], classes="section-title")
                with Vertical(classes="field"):
                    with Horizontal(classes="field-row"):
                        yield Label(spec.dotted.split(".")[1], classes="field-name")
                        yield self._editor(spec)
                    yield Static("", classes="field-error", id=widget_id(spec.dotted) + "-error")
        yield Static(PRESET_HELP, id="field-help")
        with Horizontal(id="form-actions"):
            yield Button("Start training (F6)", id="start", variant="primary", compact=True)
            yield Static("", id="form-status")

    def _editor(self, spec: FieldSpec) -> Widget:
        value = current_value(self.config, spec.dotted)
        wid = widget_id(spec.dotted)
        if spec.choices:
            return Select([(c, c) for c in spec.choices], value=value, allow_blank=False, id=wid,
                          classes="field-editor", compact=True)
        if spec.kind is bool:
            return Checkbox("on", value=bool(value), id=wid, classes="field-editor", compact=True)
        suggestions = SUGGESTIONS.get(spec.dotted)
        return Input(as_text(value), id=wid, classes="field-editor", compact=True, select_on_focus=False,
                     suggester=SuggestFromList(suggestions, case_sensitive=False) if suggestions else None)

    def on_mount(self) -> None:
        self._revalidate()

    # --- reading edits ----------------------------------------------------------------------

    def _spec_for(self, widget: Widget | None) -> FieldSpec | None:
        wid = getattr(widget, "id", None) or ""
        return next((s for s in self.specs if widget_id(s.dotted) == wid), None)

    @on(Input.Changed, ".field-editor")
    def _input_changed(self, event: Input.Changed) -> None:
        spec = self._spec_for(event.input)
        if spec:
            self._set_field(spec.dotted, event.value)

    @on(Select.Changed, ".field-editor")
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        spec = self._spec_for(event.select)
        if spec and event.value is not Select.NULL:
            self._set_field(spec.dotted, str(event.value))

    @on(Checkbox.Changed, ".field-editor")
    def _switch_changed(self, event: Checkbox.Changed) -> None:
        spec = self._spec_for(event.checkbox)
        if spec:
            self._set_field(spec.dotted, event.value)

    @on(Select.Changed, "#preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL and PRESETS.get(str(event.value)) != self.config:
            self.set_config(PRESETS[str(event.value)])

    @on(Button.Pressed, "#start")
    def _start_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.StartRequested())

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        spec = self._spec_for(event.widget)
        text = PRESET_HELP if getattr(event.widget, "id", None) == "preset" else (spec.help if spec else None)
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
        self._revalidate()

    def _offer_columns(self) -> None:
        """Suggest the training file's columns for the text/label column fields."""
        columns = read_columns(self.config.data.train_path)
        for name in ("data.text_column", "data.label_column"):
            editor = self.query_one("#" + widget_id(name), Input)
            editor.suggester = SuggestFromList(columns, case_sensitive=True) if columns else None
            editor.placeholder = ("columns: " + ", ".join(columns)) if columns else "detect"

    def _revalidate(self) -> None:
        errors = {e.field: e.message for e in validate(self.config, check_device=False)}
        errors.update(self._parse_errors)  # what the user typed beats the last parsed value
        self.errors = errors
        for spec in self.specs:
            message = errors.get(spec.dotted, "")
            label = self.query_one("#" + widget_id(spec.dotted) + "-error", Static)
            label.update(message)
            label.set_class(bool(message), "-shown")
            self.query_one("#" + widget_id(spec.dotted)).set_class(bool(message), "-invalid")
        self.query_one("#start", Button).disabled = bool(errors)
        status = self.query_one("#form-status", Static)
        if errors:
            status.update(f"{len(errors)} field{'s' if len(errors) > 1 else ''} to fix: {', '.join(errors)}")
        else:
            status.update("ready")
        preset = self.query_one("#preset", Select)
        with self.prevent(Select.Changed):
            preset.value = self._matching_preset() or Select.NULL
        self.post_message(self.ConfigChanged(self.config, dict(errors)))

    def _matching_preset(self) -> str | None:
        return next((name for name, cfg in PRESETS.items() if cfg == self.config), None)

    # --- setting from outside ----------------------------------------------------------------

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` in every field (a preset, a loaded TOML file, a replayed run)."""
        self.config = config
        self._parse_errors.clear()
        with self.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
            for spec in self.specs:
                editor = self.query_one("#" + widget_id(spec.dotted))
                value = current_value(config, spec.dotted)
                if isinstance(editor, Input):
                    editor.value = as_text(value)
                else:
                    editor.value = value
        self._offer_columns()
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
