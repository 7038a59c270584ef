"""How the workbench records sessions: every training run, and what the user looked at.

- Each run started with F6 (or resumed with F8) is a session ``<date-time>-<preset>`` under the
  sessions folder ($TWB_SESSIONS_DIR or ./sessions), like `twb train --session`: its config, every
  engine event, the user's actions (start, resume, cancel, interrupt) and how it ended. The run's
  checkpoints go into the session's ``checkpoints/`` folder. Resuming from a checkpoint inside a
  session's folder appends to that session, as `twb train --resume ... --session` does (one
  policy for both: core.sessions.run_target).
- Attention views and pipeline prompts go into the running training session; with no run in
  progress they go into one ``<date-time>-workbench`` session, opened at the first such activity
  and closed when the workbench quits. A finished run's session is never reopened for them.
- ``TWB_NO_SESSIONS=1`` turns recording off (runs then go to ``runs/<date-time>`` as before).

Recording never stops the workbench: a session that cannot be written is reported once and the
work goes on unrecorded. Engine events are recorded on the training thread (tens of
microseconds each); attention views, which can be megabytes, are written off the UI thread.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

from core.config import PRESETS, RunConfig
from core.errors import UserError
from core.events import Event
from core.sessions import names, schema
from core.sessions.recorder import SessionRecorder
from core.sessions.run_target import open_run_target

DISABLE_ENV = "TWB_NO_SESSIONS"
EXPLORE_NAME = "workbench"


def disabled_by_env() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def run_name(config: RunConfig) -> str:
    """The preset the config equals, else "custom" (the folder name adds the date and time)."""
    return next((name for name, preset in PRESETS.items() if preset == config), "custom")


class WorkbenchSessions:
    """The sessions of one workbench process. Thread-safe: used by the UI and worker threads."""

    def __init__(self, root: str | os.PathLike | None = None, enabled: bool | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.root = names.sessions_root(root)
        self.enabled = (not disabled_by_env()) if enabled is None else enabled
        self.run: SessionRecorder | None = None  # the training run's session, while it runs
        self.explore: SessionRecorder | None = None  # attention/console activity between runs
        self.interrupting = False
        self._warn = warn or (lambda message: None)
        self._warned = False
        self._lock = threading.Lock()

    # --- training runs -----------------------------------------------------------------------

    def open_run(self, config: RunConfig, resume_from: str | None, out_dir: str | os.PathLike | None):
        """Record a run about to start (training thread). Returns the out dir the trainer should use,
        as core.sessions.run_target decides: the session's checkpoints/ unless the workbench was
        given one, or None when the run resumes inside its session (it keeps writing next to the
        checkpoint)."""
        if not self.enabled:
            return out_dir
        self.interrupting = False
        try:
            target = open_run_target(self.root, run_name(config), resume_from=resume_from, out_dir=out_dir)
        except (UserError, OSError) as exc:
            self._report(f"this run is not recorded as a session: {exc}")
            return out_dir
        for note in target.notes:
            self._warn(note)
        recorder = target.recorder
        recorder.record_config(config)
        recorder.record_action("resume" if resume_from else "start", checkpoint=resume_from)
        with self._lock:
            self.run = recorder
        return target.out_dir

    def on_event(self, event: Event) -> None:
        """EventCallback for the engine (training thread)."""
        recorder = self.run
        if recorder is not None:
            recorder.on_event(event)

    def record_action(self, action: str, **detail: Any) -> None:
        recorder = self.run
        if recorder is not None:
            recorder.record_action(action, **detail)

    def close_run(self, error: BaseException | None = None) -> None:
        """The run ended (training thread): the status its last event gave, or interrupted/failed."""
        with self._lock:
            recorder, self.run = self.run, None
        if recorder is None:
            return
        if error is not None:
            recorder.close(schema.FAILED, message=str(error) or type(error).__name__)
        elif self.interrupting:
            recorder.close(schema.INTERRUPTED)
        else:
            recorder.close()
        self._check(recorder)

    # --- what the user looked at ---------------------------------------------------------------

    def record_attention(self, view: Any, text: str | None, layer: int | None, head: int | None) -> None:
        recorder = self._activity()
        if recorder is not None:
            recorder.record_attention(view, text=text, layer=layer, head=head)
            self._check(recorder)

    def record_explanation(self, explanation: Any) -> None:
        recorder = self._activity()
        if recorder is not None:
            recorder.record_explanation(explanation)
            self._check(recorder)

    def record_console(self, task: str, model: str | None, inputs: Any, params: dict | None, result: Any = None,
                       latency_s: float | None = None, error: str | None = None) -> None:
        recorder = self._activity()
        if recorder is not None:
            recorder.record_console(task, model, inputs, params, result=result, latency_s=latency_s, error=error)
            self._check(recorder)

    def _activity(self) -> SessionRecorder | None:
        if not self.enabled:
            return None
        with self._lock:
            if self.run is not None and not self.run.closed:
                return self.run
            if self.explore is None:
                try:
                    self.explore = SessionRecorder.create(EXPLORE_NAME, self.root)
                except (UserError, OSError) as exc:
                    self.enabled = False  # one warning, not one per prompt
                    self._report(f"attention views and prompts are not recorded: {exc}")
                    return None
            return self.explore

    # --- quitting ------------------------------------------------------------------------------

    def close_all(self, interrupted: bool = False) -> None:
        """The workbench quits: close the exploring session (and a run still open, if any)."""
        status = schema.INTERRUPTED if interrupted or self.interrupting else None
        with self._lock:
            explore, self.explore = self.explore, None
        if explore is not None:
            explore.close(status or schema.FINISHED)
        if self.run is not None:  # the training thread did not get to close it
            self.close_run()

    def _check(self, recorder: SessionRecorder) -> None:
        if recorder.error is not None:
            self._report(f"session {recorder.folder.name} stopped recording: {recorder.error}")

    def _report(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            self._warn(message)


class SessionActivity:
    """The app's side of recording, held by the app as ``app.recording``: what the panes report
    (the app's message handlers call ``attention_viewed`` and ``console_answered``), the Sessions
    key (``open_picker``), and closing on exit (``close``)."""

    def __init__(self, app: Any, sessions: WorkbenchSessions) -> None:
        self.app = app
        self.sessions = sessions

    def attention_viewed(self, view: Any, text: str, layer: int | None, head: int | None) -> None:
        if getattr(view, "weights", None) is None or not self.sessions.enabled:
            return
        # Off the UI thread: a long sentence on a big model is megabytes of weights to encode.
        self.app.run_worker(lambda: self.sessions.record_attention(view, text, layer, head),
                            thread=True, group="session-record", exit_on_error=False)

    def explanation_viewed(self, explanation: Any) -> None:
        if self.sessions.enabled:
            self.app.run_worker(lambda: self.sessions.record_explanation(explanation),
                                thread=True, group="session-record", exit_on_error=False)

    def console_answered(self, record: dict[str, Any] | None) -> None:
        if record is not None and self.sessions.enabled:
            self.app.run_worker(lambda: self.sessions.record_console(**record),
                                thread=True, group="session-record", exit_on_error=False)

    def open_picker(self) -> None:
        from tui.session_picker import SessionPickerScreen, pick_and_open

        # Once: ctrl+r on the compare screen (pushed over the picker) opens no second picker.
        if not any(isinstance(screen, SessionPickerScreen) for screen in self.app.screen_stack):
            pick_and_open(self.app, root=str(self.sessions.root))

    def close(self) -> None:
        self.sessions.close_all()
