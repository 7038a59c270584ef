"""Pane 4: the pipeline prompt console.

Pick a task and (optionally) a model, fill the task's extra inputs, type a prompt, Enter.
The pipeline runs in a thread worker (a model load can take seconds; the UI keeps going) and
the answer lands in the history. Up/down in the prompt walks through earlier prompts.
Everything about tasks comes through ``tui.pipelines_adapter``.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, Label, RichLog, Select, Static

from core.errors import UserError
from core.events import Event
from tui import pipelines_adapter as pipelines
from tui.console_format import STOPPED, outcome_text, prompt_line
from tui.widgets.history_input import HistoryInput
from tui.widgets.wrapping_log import WrappingLog


class ConsolePane(Vertical):
    class CatalogueLoaded(Message):
        def __init__(self, tasks: list[str], reason: str | None) -> None:
            super().__init__()
            self.tasks, self.reason = tasks, reason

    class ModelsLoaded(Message):
        def __init__(self, models: list[str]) -> None:
            super().__init__()
            self.models = models

    class ResultReady(Message):
        def __init__(self, text: str, ok: bool, detail: str = "", record: dict[str, Any] | None = None) -> None:
            super().__init__()
            self.text, self.ok, self.detail = text, ok, detail
            self.record = record  # task, model, inputs, params, result, error, latency_s: what the session keeps

    BINDINGS = [Binding("escape", "cancel_run", "Stop pipeline", show=False)]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Pipelines"
        self.available = False
        self.reason = "loading the pipeline catalogue ..."
        self.task_name = ""
        self.fields: list[pipelines.ParamField] = []
        self.transcript: list[str] = []  # what the history shows, for tests and captures
        self.models: list[str] = []  # local model names and folders: the model field's suggestions
        self._models_requested = False
        self._cancel = threading.Event()  # set by Escape: the running pipeline stops

    def compose(self) -> ComposeResult:
        with Horizontal(classes="input-row"):
            yield Select([], prompt="task", id="console-task", compact=True)
            yield Input(placeholder="model: empty = the task's default; or a local folder", id="console-model", compact=True)
        yield Horizontal(id="console-params")
        yield WrappingLog(id="console-history", markup=False, highlight=False, max_lines=1000)
        with Horizontal(classes="input-row"):
            yield Label("Prompt", id="console-label")
            yield HistoryInput(placeholder="type and press Enter (up/down: history)", id="console-prompt", compact=True)
        yield Static(self.reason, id="console-status")

    def on_mount(self) -> None:
        self._load_catalogue()

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-catalogue")
    def _load_catalogue(self) -> None:
        # Task names are plain data (core.hf.pipelines.tasks); the model listing, which scans the
        # Hugging Face cache, waits until the console is first used (``load_models``).
        reason = pipelines.unavailable_reason()
        self.post_message(self.CatalogueLoaded(pipelines.task_names(), reason))

    def on_console_pane_catalogue_loaded(self, message: CatalogueLoaded) -> None:
        self.available = message.reason is None
        self.reason = message.reason or ""
        select = self.query_one("#console-task", Select)
        select.set_options([(t, t) for t in message.tasks])
        if message.tasks:
            select.value = message.tasks[0]
        self._status(self.reason or f"{len(message.tasks)} tasks")

    # --- local models (loaded on first use) -------------------------------------------------

    def load_models(self) -> None:
        """(Re)list the local models in a thread worker: on first focus, first run, after an export."""
        self._models_requested = True
        self._list_models()

    def note_export(self, path: str) -> None:
        """List a model the workbench just exported (F9), where the user reads the console."""
        self._write(f"exported model: {path} (text-classification; the model field suggests it as you type)")

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-models")
    def _list_models(self) -> None:
        self.post_message(self.ModelsLoaded(pipelines.local_models()))

    def on_console_pane_models_loaded(self, message: ModelsLoaded) -> None:
        self.models = message.models
        model_input = self.query_one("#console-model", Input)
        model_input.suggester = SuggestFromList(message.models, case_sensitive=False) if message.models else None

    def _status(self, text: str) -> None:
        self.query_one("#console-status", Static).update(text)

    def _write(self, text: str) -> None:
        self.transcript.append(text)
        self.query_one("#console-history", RichLog).write(text)

    # --- task fields -----------------------------------------------------------------------

    @on(Select.Changed, "#console-task")
    async def _task_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            return
        self.task_name = str(event.value)
        self.fields = pipelines.param_fields(self.task_name)
        self.query_one("#console-label", Label).update(pipelines.input_label(self.task_name))
        box = self.query_one("#console-params", Horizontal)
        # Awaited: tasks share field names (top_k, max_length), and the new fields reuse the ids
        # of the old ones, which must be gone first. Handlers run one at a time, so a quick second
        # change waits for this one.
        await box.remove_children()
        widgets = []
        for f in self.fields:
            default = "" if f.default is None else (", ".join(f.default) if isinstance(f.default, (list, tuple)) else str(f.default))
            widgets.append(Label(f.label + ("*" if f.required else "")))
            if f.kind == "bool":
                widgets.append(Checkbox("", value=bool(f.default), id=f"param-{f.name}", compact=True))
            elif f.kind == "choice" and f.choices:
                widgets.append(Select([(c, c) for c in f.choices], value=f.default if f.default in f.choices else f.choices[0],
                                      allow_blank=False, id=f"param-{f.name}", compact=True))
            else:
                widgets.append(Input(default, placeholder=f.label + (" (required)" if f.required else ""),
                                     id=f"param-{f.name}", compact=True, classes="-long" if f.kind == "longtext" else ""))
        await box.mount_all(widgets)
        box.display = bool(widgets)
        summary = pipelines.task_summary(self.task_name)
        if self.available:
            self._status(summary or self.task_name)

    def on_descendant_focus(self, event) -> None:
        if not self._models_requested:
            self.load_models()
        wid = getattr(event.widget, "id", "") or ""
        field = next((f for f in self.fields if f"param-{f.name}" == wid), None)
        if field is not None:
            self._status(f"{field.label}: {field.help}")

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#param-{f.name}")
            if isinstance(widget, Checkbox):
                params[f.name] = widget.value
            elif isinstance(widget, Select):
                params[f.name] = widget.value
            elif widget.value.strip():
                params[f.name] = pipelines.parse_param(f, widget.value)
        return params

    # --- running -----------------------------------------------------------------------------

    @on(Input.Submitted, "#console-prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        prompt_input = self.query_one("#console-prompt", HistoryInput)
        prompt = prompt_input.value.strip()
        if not prompt:
            return
        prompt_input.remember(prompt)
        prompt_input.value = ""
        self.submit(prompt)

    def submit(self, prompt: str) -> None:
        if not self._models_requested:
            self.load_models()
        model = self.query_one("#console-model", Input).value.strip()
        self._write(prompt_line(self.task_name, model, prompt))
        if not self.available:
            self._write(self.reason or "pipelines not available")
            return
        try:
            params = self._params()
        except ValueError as exc:
            self._write(outcome_text(error=str(exc)))
            return
        self._status(f"running {self.task_name}{' on ' + model if model else ''} ... (Escape stops it)")
        self._cancel = threading.Event()
        self._run(self.task_name, model, prompt, params)

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-run")
    def _run(self, task: str, model: str, prompt: str, params: dict[str, Any]) -> None:
        started = time.perf_counter()

        def record(result: Any = None, error: str | None = None) -> dict[str, Any]:
            return {"task": task, "model": model or None, "inputs": prompt, "params": params, "result": result,
                    "error": error, "latency_s": time.perf_counter() - started}

        try:
            outcome = pipelines.run(task, model, prompt, params, cancel=self._cancel)
        except UserError as exc:
            self.post_message(self.ResultReady(outcome_text(error=str(exc)), ok=False, record=record(error=str(exc))))
            return
        except Exception as exc:  # noqa: BLE001 - a failing model must not take the app down
            message = f"{type(exc).__name__}: {exc}"
            self.post_message(self.ResultReady(outcome_text(error=message), ok=False, record=record(error=message)))
            return
        if outcome.cancelled:
            self.post_message(self.ResultReady(outcome_text(error=STOPPED), ok=False, record=record(error=STOPPED)))
            return
        text = outcome_text(outcome.result, notices=outcome.notices)
        self.post_message(self.ResultReady(text, ok=True, detail=outcome.detail, record=record(outcome.result)))

    def action_cancel_run(self) -> None:
        self._cancel.set()

    def on_console_pane_result_ready(self, message: ResultReady) -> None:
        self._write(message.text)
        self._status(("done: " + message.detail if message.detail else "done") if message.ok else "failed or stopped; see the history")

    # --- the pane contract (tui.pane) ------------------------------------------------------------

    def apply_event(self, event: Event) -> None:
        """The console does not follow training events."""

    def reset(self) -> None:
        self.transcript.clear()
        self.query_one("#console-history", RichLog).clear()

    def show_recorded(self, record: dict[str, Any]) -> None:
        """A recorded prompt and its answer, written as the live console wrote them."""
        self._write(prompt_line(record.get("task"), record.get("model"), record.get("inputs")))
        self._write(outcome_text(record.get("result"), record.get("error")))
