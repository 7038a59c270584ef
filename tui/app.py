"""The workbench app: one factory (``create_app``), the global keys, and the wiring.

Screens stay thin: each pane owns its widgets and consumes engine events through
``apply_event``; this module only decides *which* events reach the panes (a live Trainer
in a thread worker, or - for replay/attach modes - any other source calling ``feed``) and
runs the global actions. torch is imported only inside workers.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable, Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.widget import Widget
from textual.widgets import Footer, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from core.config import ConfigError, PRESETS, RunConfig, load_toml, save_toml
from core.events import TERMINAL_EVENTS, Event, RunStarted, fan_out
from tui.bridge import EngineEvent, StepProgress, event_poster
from tui.exporting import ExportAction, RunCheckpoints
from tui.session_recording import RecordsSessions, WorkbenchSessions
from tui.signals import SignalExit
from tui.terminal import safe_driver_class
from tui.training import checkpoint_config, default_trainer_factory
from tui.panes.hyperparams import HyperparamsPane
from tui.screens.dialogs import ConfirmScreen, PromptScreen
from tui.screens.help import HelpScreen

TrainerFactory = Callable[..., Any]  # (config, on_event, out_dir=, resume_from=) -> Trainer-like
PANE_IDS = ("hyperparams", "training", "attention", "console")
PANE_TITLES = {"hyperparams": "F2 Form", "training": "F3 Training", "attention": "F4 Attention", "console": "F5 Pipelines"}
MIN_SIZE = (60, 18)
QUIT_TIMEOUT_S = 30.0  # cancel stops within one step; this only guards against a wedged device


class WorkbenchApp(ExportAction, RecordsSessions, App):
    CSS_PATH = "app.tcss"
    TITLE = "Transformer Workbench"
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (MIN_SIZE[0], "-narrow"), (140, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (MIN_SIZE[1], "-medium"), (36, "-tall")]
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False, id="help-alt"),
        # F2-F5 are listed on the pane tab bar (always on screen), which leaves the footer room
        # for the actions at 80 columns.
        Binding("f2", "show_pane('hyperparams')", "Form", show=False, id="pane-form"),
        Binding("f3", "show_pane('training')", "Training log", show=False, id="pane-training"),
        Binding("f4", "show_pane('attention')", "Attention", show=False, id="pane-attention"),
        Binding("f5", "show_pane('console')", "Pipelines", show=False, id="pane-console"),
        Binding("f6", "start_training", "Train", id="start"),
        Binding("f7", "cancel_training", "Cancel", id="cancel"),
        Binding("f8", "resume_training", "Resume", id="resume"),
        Binding("f9", "export_model", "Export", id="export"),
        # In the help and the palette; the footer has no room left for it at 80 columns.
        Binding("ctrl+r", "sessions", "Sessions", show=False, id="sessions"),
        Binding("ctrl+s", "save_config", "Save", id="save"),
        Binding("ctrl+o", "load_config", "Load", id="load"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(self, config: RunConfig | None = None, *, out_dir: str | Path | None = None,
                 trainer_factory: TrainerFactory | None = None,
                 event_consumer: Callable[[Event], Any] | None = None,
                 config_path: str = "twb.toml", install_signal_handlers: bool = True,
                 sessions_dir: str | Path | None = None, record_sessions: bool | None = None) -> None:
        super().__init__()
        # Every run, attention view and prompt recorded (see tui.session_recording); None = unless $TWB_NO_SESSIONS.
        self.sessions = WorkbenchSessions(sessions_dir, record_sessions,
                                          warn=lambda message: self.notify(message, title="Sessions", severity="warning"))
        self.initial_config = config or PRESETS["default"]
        self.out_dir = out_dir
        self.trainer_factory = trainer_factory or default_trainer_factory
        self.event_consumer = event_consumer  # e.g. the session recorder; called in the training thread
        self.config_path = config_path
        self.install_signal_handlers = install_signal_handlers
        self.trainer: Any = None
        self.log_pane: Any = None  # TrainingLogPane, AttentionPane, ConsolePane: mounted after the first frame
        self.attention_pane: Any = None
        self.console_pane: Any = None
        self.checkpoints = RunCheckpoints()  # the run's best/last checkpoints, for F9 export
        self.last_export: Path | None = None
        self.training_worker: Worker | None = None
        self.config_valid = True
        self.active_pane = "hyperparams"
        self.events_seen = 0
        self._cancel_requested = False
        self._pending_events: list[Event] = []
        self.panes_ready = asyncio.Event()  # set once every pane is mounted (tests await it)

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.tabs = Tabs(*(Tab(PANE_TITLES[p], id=f"tab-{p}") for p in PANE_IDS), id="pane-tabs")
        yield self.tabs
        # Classes given at construction: adding them later would restyle each pane's subtree.
        self.form = HyperparamsPane(self.initial_config, id="hyperparams", classes="pane -active")
        with Container(id="panes"):
            # Only the form is in the first frame; the other panes mount right after it
            # (``_mount_other_panes``), so the first screen appears sooner.
            yield self.form
        yield Static(f"The terminal is too small: the workbench needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]}.\n"
                     "Enlarge the window (or the tmux pane); ctrl+q quits.", id="too-small")
        yield Footer(compact=True)

    async def _mount_other_panes(self) -> None:
        # Imported here: their modules (plotext, rich logs, ...) are not needed for the first frame.
        from tui.panes.attention import AttentionPane
        from tui.panes.console import ConsolePane
        from tui.panes.training_log import TrainingLogPane

        self.log_pane = TrainingLogPane(id="training", classes="pane")
        self.attention_pane = AttentionPane(self.snapshot, id="attention", classes="pane")
        self.console_pane = ConsolePane(id="console", classes="pane")
        await self.query_one("#panes").mount_all([self.log_pane, self.attention_pane, self.console_pane])
        self.panes_ready.set()
        pending, self._pending_events = self._pending_events, []
        self.feed_all(pending)

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_other_panes)
        self.tabs.can_focus = False
        self._mark_active("hyperparams")
        self.form.query_one("#preset").focus()
        if self.install_signal_handlers:
            self._install_signal_handlers()

    def panes(self) -> list[Widget]:
        # Held, not queried: a modal screen on top must not hide the panes from events.
        if not self.panes_ready.is_set():
            return [self.form]
        return [self.form, self.log_pane, self.attention_pane, self.console_pane]

    def _mark_active(self, pane_id: str) -> None:
        self.active_pane = pane_id
        for pane in self.panes():
            pane.set_class(pane.id == pane_id, "-active")
        tabs = self.tabs
        if tabs.active != f"tab-{pane_id}":
            tabs.active = f"tab-{pane_id}"

    def action_show_pane(self, pane_id: str) -> None:
        if not self.panes_ready.is_set():
            return
        self._mark_active(pane_id)
        pane = next(p for p in self.panes() if p.id == pane_id)
        # Back to where the user was in that pane, else its first field.
        focused = self.focused
        if focused is None or pane not in focused.ancestors:
            target = getattr(pane, "_last_focus", None)
            if target is None or not target.is_attached:
                target = next((w for w in pane.query("*") if w.focusable), None)
            if target is not None:
                target.focus()

    def on_descendant_focus(self, event) -> None:
        widget = event.widget
        for pane in self.panes():
            if pane in widget.ancestors:
                pane._last_focus = widget
                if self.active_pane != pane.id:
                    self._mark_active(pane.id)
                break

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        pane_id = (event.tab.id or "").removeprefix("tab-")
        if pane_id and pane_id != self.active_pane:
            self.action_show_pane(pane_id)

    # --- engine events -------------------------------------------------------------------

    def on_engine_event(self, message: EngineEvent) -> None:
        self.feed(message.event)

    def on_step_progress(self, message: StepProgress) -> None:
        # Textual picks handlers by the message's own class name, so the subclass needs its own.
        self.feed(message.event)

    def feed(self, event: Event) -> None:
        """Hand one engine event to every pane (live training, or a replayed session)."""
        if not self.panes_ready.is_set():  # fed before the panes exist: keep it for them
            self._pending_events.append(event)
            return
        self.events_seen += 1
        self.checkpoints.note(event)
        for pane in self.panes():
            pane.apply_event(event)
        if isinstance(event, RunStarted):
            self._offer_validation_examples()
        if isinstance(event, TERMINAL_EVENTS):
            self._refresh_footer()

    def feed_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.feed(event)

    def _offer_validation_examples(self) -> None:
        data = getattr(self.trainer, "data", None) or getattr(self.trainer, "_data", None)
        texts = getattr(getattr(data, "val", None), "texts", None)
        if texts:
            self.attention_pane.set_examples(list(texts))

    def snapshot(self) -> Any:
        """A CPU copy of the model being trained (called from the attention worker)."""
        trainer = self.trainer
        return trainer.snapshot() if trainer is not None else None

    # --- training ------------------------------------------------------------------------

    @property
    def training(self) -> bool:
        return self.training_worker is not None and self.training_worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def _refresh_footer(self) -> None:
        # Messages still queued while the app shuts down find no screen left to refresh.
        if self.is_running and self._screen_stack:
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Start/resume and cancel take turns in the footer; start shows disabled while the form is invalid.
        if action == "start_training":
            return False if self.training else (True if self.config_valid else None)
        if action == "resume_training":
            return False if self.training else True
        if action == "cancel_training":
            return True if self.training else False
        return True

    @on(HyperparamsPane.ConfigChanged)
    def _config_changed(self, message: HyperparamsPane.ConfigChanged) -> None:
        self.config_valid = message.valid
        self._refresh_footer()

    @on(HyperparamsPane.StartRequested)
    def _start_from_form(self) -> None:
        self.action_start_training()

    def action_start_training(self, resume_from: str | None = None) -> None:
        if self.training:
            self.notify("Training is already running; F7 cancels it.", severity="warning")
            return
        form = self.form
        if form.errors and resume_from is None:  # a resumed run uses its checkpoint's settings
            self.notify(f"Fix {', '.join(form.errors)} first.", title="Cannot start", severity="error")
            return
        self._cancel_requested = False
        if self.log_pane is not None:
            self.log_pane.reset(resume_from)
        self._set_cursor_blink(False)
        self.training_worker = self._train(form.config, resume_from)
        self.refresh_bindings()
        if self.screen.has_class("-narrow") or not self.screen.has_class("-tall"):
            self.action_show_pane("training")

    @work(thread=True, exclusive=True, exit_on_error=False, group="training")
    def _train(self, config: RunConfig, resume_from: str | None) -> None:
        if resume_from is not None:
            config = checkpoint_config(resume_from, config)  # the form shows it when the run starts
        out_dir = self.sessions.open_run(config, resume_from, self.out_dir)  # the session's checkpoints/
        on_event = fan_out(self.event_consumer, self.sessions.on_event, event_poster(self))
        try:
            try:
                trainer = self.trainer_factory(config, on_event, out_dir=out_dir, resume_from=resume_from)
            except ImportError as exc:
                from core.events import TrainingFailed
                on_event(TrainingFailed(f"the training engine is not available: {exc}", "install the project with its dependencies"))
                return
            self.trainer = trainer
            if self._cancel_requested:  # cancelled while torch was loading
                trainer.cancel()
            trainer.run()
        except BaseException as exc:
            self.sessions.close_run(exc)
            raise
        self.sessions.close_run()  # finished, failed or cancelled, as the run's last event says

    def _set_cursor_blink(self, blink: bool) -> None:
        # While training, a blinking cursor is a repaint twice a second for nothing (and bytes
        # over SSH); the UI thread's time is the training thread's time on a small CPU.
        from textual.widgets import Input

        for widget in self.query(Input):
            widget.cursor_blink = blink

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.training_worker:
            if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
                self._set_cursor_blink(True)
            self._refresh_footer()
            if event.state == WorkerState.ERROR:
                self.log_pane.note(f"Training worker failed: {event.worker.error}")

    def action_cancel_training(self) -> None:
        if not self.training:
            return
        self._cancel_requested = True
        self.sessions.record_action("cancel")
        if self.trainer is not None:
            self.trainer.cancel()
        self.notify("Cancelling after the current step ...")

    def action_resume_training(self) -> None:
        if self.training:
            return
        default = self.log_pane.last_checkpoint or ""

        def chosen(path: str | None) -> None:
            if path:
                self.action_start_training(resume_from=path)

        self.push_screen(PromptScreen("Resume from checkpoint folder (a run's last/ or interrupt/ folder):", default,
                                      "path/to/run/last"), chosen)

    async def stop_training(self, interrupt: bool = False, timeout: float = QUIT_TIMEOUT_S) -> None:
        """Cancel (or interrupt: save a checkpoint first) and wait for the worker to end."""
        worker = self.training_worker
        if worker is None or not self.training:
            return
        self._cancel_requested = True
        self.sessions.interrupting = interrupt
        self.sessions.record_action("interrupt" if interrupt else "cancel", reason="signal" if interrupt else "quit")
        trainer = self.trainer
        if trainer is not None:
            trainer.interrupt() if interrupt else trainer.cancel()
        try:
            await asyncio.wait_for(worker.wait(), timeout)
        except Exception:  # noqa: BLE001 - a worker error or a timeout must not stop the exit
            pass

    # --- quitting and signals --------------------------------------------------------------

    async def action_quit(self) -> None:
        if not self.training:
            self.exit()
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.stop_training()
                self.exit()

        self.push_screen(ConfirmScreen("Training is running. Cancel it and quit?", yes="Cancel and quit", no="Keep training"),
                         answered)

    def _install_signal_handlers(self) -> None:
        self.signal_exit = SignalExit(lambda: self._driver, self._on_signal, watchdog_s=QUIT_TIMEOUT_S + 15)
        self.signal_exit.install(asyncio.get_running_loop())

    def get_driver_class(self):
        # Textual's driver, made to drop output once the terminal is gone (tui.terminal).
        return safe_driver_class(super().get_driver_class())

    def _on_signal(self, code: int) -> None:
        # SSH dropped or the process was asked to stop: keep the run resumable, then leave.
        self.run_worker(self._interrupt_and_exit(code), exclusive=True, group="shutdown")

    async def _interrupt_and_exit(self, code: int) -> None:
        await self.stop_training(interrupt=True)
        self.sessions.close_all(interrupted=True)
        self.exit(return_code=code)

    # --- config files ---------------------------------------------------------------------

    def action_save_config(self) -> None:
        form = self.form

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                save_toml(form.config, path)
            except OSError as exc:
                self.notify(f"Cannot write {path}: {exc}", title="Not saved", severity="error")
                return
            self.config_path = path
            note = " (fields with errors keep their last valid value)" if form.errors else ""
            self.notify(f"Saved the configuration to {path}{note}.")

        self.push_screen(PromptScreen("Save the configuration as TOML to:", self.config_path), chosen)

    def action_load_config(self) -> None:
        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                config = load_toml(path, base=RunConfig())
            except ConfigError as exc:
                self.notify("\n".join(str(e) for e in exc.errors), title=f"Cannot load {path}", severity="error")
                return
            self.config_path = path
            self.form.set_config(config)
            self.notify(f"Loaded {path}.")

        self.push_screen(PromptScreen("Load a TOML configuration from:", self.config_path), chosen)

    # --- help and palette -------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.BINDINGS))

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if binding.description and binding.id != "help-alt" and binding.action != "quit":
                yield SystemCommand(f"{binding.description} ({binding.key})", _COMMAND_HELP.get(binding.action, ""),
                                    lambda action=binding.action: self.run_action(action))


_COMMAND_HELP = {
    "help": "List every key and explain the panes",
    "show_pane('hyperparams')": "Show the hyperparameter form",
    "show_pane('training')": "Show the live training log",
    "show_pane('attention')": "Show the attention viewer",
    "show_pane('console')": "Show the pipeline console",
    "start_training": "Train with the form's settings",
    "cancel_training": "Stop the running training after the current step",
    "resume_training": "Continue a run from a checkpoint folder",
    "save_config": "Write the form's settings to a TOML file",
    "load_config": "Fill the form from a TOML file",
    "sessions": "Replay a recorded session, or attach to one another process is writing",
    "export_model": "Write the run's best checkpoint as a Hugging Face model folder",
}


def create_app(config: RunConfig | None = None, **options: Any) -> WorkbenchApp:
    """The one way to build the workbench (CLI, tests, benchmarks, session replay)."""
    return WorkbenchApp(config, **options)
