"""The workbench app: one factory (``create_app``), the global actions, and the wiring.

Each pane owns its widgets and keeps the pane contract (tui.pane); this module decides which
events reach the panes (a live Trainer in a thread worker, or a controller such as replay's,
tui.controller) and defines every action, calling the collaborators it holds: ``exporter``,
``recording``, ``config_files``, ``pane_focus``. torch is imported only inside workers.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable, Iterable

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.widgets import Footer, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from core.config import PRESETS, RunConfig
from core.events import TERMINAL_EVENTS, Event, RunStarted, fan_out
from tui.bridge import EngineEvent, StepProgress, event_poster
from tui.commands import WORKBENCH_ACTIONS, WORKBENCH_BINDINGS, bindings_of, offered, system_commands
from tui.config_files import ConfigFiles
from tui.controller import Controller
from tui.pane import Pane
from tui.pane_focus import PaneFocus
from tui.quitting import ask_before_quitting
from tui.explaining import open_view
from tui.exporting import Exporter, RunCheckpoints
from tui.session_recording import SessionActivity, WorkbenchSessions
from tui.signals import SignalExit
from tui.terminal import safe_driver_class
from tui.training import checkpoint_config, default_trainer_factory, job_trainer
from tui.panes.hyperparams import HyperparamsPane
from tui.screens.dialogs import PromptScreen
from tui.screens.help import HelpScreen

TrainerFactory = Callable[..., Any]  # (config, on_event, out_dir=, resume_from=) -> Trainer-like
PANE_IDS = ("hyperparams", "training", "attention", "console")
PANE_TITLES = {"hyperparams": "F2 Form", "training": "F3 Training", "attention": "F4 Attention", "console": "F5 Pipelines"}
MIN_SIZE = (60, 18)
QUIT_TIMEOUT_S = 30.0  # cancel stops within one step; this only guards against a wedged device


class WorkbenchApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "Transformer Workbench"
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (MIN_SIZE[0], "-narrow"), (140, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (MIN_SIZE[1], "-medium"), (36, "-tall")]
    BINDINGS = WORKBENCH_BINDINGS

    def __init__(self, config: RunConfig | None = None, *, out_dir: str | Path | None = None,
                 trainer_factory: TrainerFactory | None = None,
                 event_consumer: Callable[[Event], Any] | None = None,
                 config_path: str = "twb.toml", install_signal_handlers: bool = True,
                 sessions_dir: str | Path | None = None, record_sessions: bool | None = None,
                 controller: Controller | None = None) -> None:
        super().__init__()
        # Every run, attention view and prompt recorded (see tui.session_recording); None = unless $TWB_NO_SESSIONS.
        self.sessions = WorkbenchSessions(sessions_dir, record_sessions,
                                          warn=lambda message: self.notify(message, title="Sessions", severity="warning"))
        # Collaborators: the app's actions and message handlers below call them.
        self.recording = SessionActivity(self, self.sessions)
        self.checkpoints = RunCheckpoints()  # the run's best/last checkpoints, for F9 export
        self.exporter = Exporter(self, self.checkpoints)
        self.config_files = ConfigFiles(self, config_path)
        self.controller = controller  # e.g. a replay cursor instead of the user's own training
        if controller is not None:
            self.title = controller.title
            for binding in controller.BINDINGS:
                self.bind(binding.key, binding.action, description=binding.description, show=binding.show)
        self.initial_config = config or PRESETS["default"]
        self.out_dir = out_dir
        self.trainer_factory = trainer_factory or default_trainer_factory
        self.event_consumer = event_consumer  # e.g. the session recorder; called in the training thread
        self.install_signal_handlers = install_signal_handlers
        self.trainer: Any = None
        self.log_pane: Any = None  # TrainingLogPane, AttentionPane, ConsolePane: mounted after the first frame
        self.attention_pane: Any = None
        self.console_pane: Any = None
        self.training_worker: Worker | None = None
        self.config_valid, self.events_seen = True, 0
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
        if self.controller is not None:
            yield from self.controller.compose()
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
        if self.controller is not None:
            self.controller.start(self)

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_other_panes)
        self.tabs.can_focus = False
        self.pane_focus = PaneFocus(self.tabs, self.panes, "hyperparams")
        self.pane_focus.show("hyperparams", None)  # focus on its first field: the preset
        if self.install_signal_handlers:  # SIGHUP / SIGTERM: save the run, then leave (tui.signals)
            self.signal_exit = SignalExit(lambda: self._driver, self._on_signal, watchdog_s=QUIT_TIMEOUT_S + 15)
            self.signal_exit.install(asyncio.get_running_loop())

    def panes(self) -> list[Pane]:
        # Held, not queried: a modal screen on top must not hide the panes from events.
        if not self.panes_ready.is_set():
            return [self.form]
        return [self.form, self.log_pane, self.attention_pane, self.console_pane]

    def action_show_pane(self, pane_id: str) -> None:
        if self.panes_ready.is_set():
            self.pane_focus.show(pane_id, self.focused)

    def on_descendant_focus(self, event) -> None:
        self.pane_focus.focus_moved(event.widget)

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        pane_id = (event.tab.id or "").removeprefix("tab-")
        if pane_id and pane_id != self.pane_focus.active:
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
        if texts := getattr(getattr(data, "val", None), "texts", None):
            self.attention_pane.set_examples(list(texts))

    def snapshot(self) -> Any:  # a CPU copy of the model being trained (called from the attention worker)
        return trainer.snapshot() if (trainer := self.trainer) is not None else None

    # --- training ------------------------------------------------------------------------

    @property
    def training(self) -> bool:
        return self.training_worker is not None and self.training_worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def _refresh_footer(self) -> None:
        # Messages still queued while the app shuts down find no screen left to refresh.
        if self.is_running and self._screen_stack:
            self.refresh_bindings()

    @property
    def too_small(self) -> bool:
        return self.size.width < MIN_SIZE[0] or self.size.height < MIN_SIZE[1]

    def on_resize(self) -> None:
        self.refresh_bindings()  # the actions go off and on with the too-small notice

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WORKBENCH_ACTIONS and (not self.offers(action) or (self.too_small and action not in ("help", "quit"))):
            return False  # not in this mode (replay), or behind the too-small notice: nothing may start unseen
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
        # torchrun's workers, or a run kept out of the UI's process: a child job that records its own
        # session, so the workbench opens none (its recorder then passes nothing on).
        job = config.train.nproc_per_node > 1 or config.train.child_process
        out_dir = self.out_dir if job else self.sessions.open_run(config, resume_from, self.out_dir)
        on_event = fan_out(self.event_consumer, self.sessions.on_event, event_poster(self))
        try:
            try:
                trainer = job_trainer(config, on_event, self.sessions, resume_from, out_dir) if job else \
                    self.trainer_factory(config, on_event, out_dir=out_dir, resume_from=resume_from)
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
        ask_before_quitting(self)  # cancel the run; a child job may also be left running

    def get_driver_class(self):  # Textual's, dropping output once the terminal is gone (tui.terminal)
        return safe_driver_class(super().get_driver_class())

    def _on_signal(self, code: int) -> None:
        # SSH dropped or the process was asked to stop: keep the run resumable, then leave.
        self.run_worker(self._interrupt_and_exit(code), exclusive=True, group="shutdown")

    async def _interrupt_and_exit(self, code: int) -> None:
        await self.stop_training(interrupt=True)
        self.sessions.close_all(interrupted=True)
        self.exit(return_code=code)

    def action_save_config(self) -> None:
        self.config_files.save()

    def action_load_config(self) -> None:
        self.config_files.load()

    def action_preset(self, name: str) -> None:
        self.form.set_config(PRESETS[name])
        self.notify(f"The form holds the '{name}' preset.")

    def action_export_model(self) -> None:
        self.exporter.ask_and_export()

    def action_sessions(self) -> None:
        self.recording.open_picker()

    def action_explain_view(self, what: str, cell: Any = None) -> None:
        open_view(self, what, cell)  # explain, qkv or errors (of one confusion-matrix cell, if given)

    def on_training_log_pane_cell_picked(self, message: Any) -> None:
        self.action_explain_view("errors", message.cell)  # Enter on the training pane's matrix

    def on_attention_pane_view_ready(self, message: Any) -> None:
        # Bubbled up from the pane after it showed the view, so it can say which layer and head.
        self.recording.attention_viewed(message.view, message.text, *self.attention_pane.layer_and_head())

    def on_console_pane_result_ready(self, message: Any) -> None:
        self.recording.console_answered(message.record)

    def action_cursor(self, command: str, *args: Any) -> None:
        if self.controller is not None:
            self.controller.command(command, *args)

    def on_unmount(self) -> None:
        if self.controller is not None:
            self.controller.close()
        self.recording.close()

    # --- help and palette -------------------------------------------------------------------

    def key_bindings(self) -> list[Binding]:
        return bindings_of(self.controller)

    def offers(self, action: str) -> bool:
        return offered(action, self.controller)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_bindings()))

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        yield from system_commands(self, self.key_bindings())


def create_app(config: RunConfig | None = None, **options: Any) -> WorkbenchApp:
    """The one way to build the workbench (CLI, tests, benchmarks, session replay)."""
    return WorkbenchApp(config, **options)
