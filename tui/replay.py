"""Replay and attach: the workbench screen, read-only, driven by a replay cursor.

``twb replay SESSION`` shows the panes as of a replay cursor (hyperparameters as they were, the
training log and curves up to the cursor, the attention view and console transcript the user
had then) with keys to play, change speed, step, jump from epoch to epoch, to the start and the
end; Escape leaves. ``twb attach SESSION`` opens the same view at the end and follows a session
another process is writing; quitting or losing the terminal only stops this viewer, never the
writer.

It is the workbench app itself (``create_app``) holding a ``ReplayController`` (tui.controller):
the controller keeps a listed set of the workbench's actions, adds its keys and a status line,
and feeds the panes through ``app.feed`` (engine events, as in a live run) and the pane contract
(tui.pane: ``reset``, ``show_recorded``). Which record goes to which pane is tui.replay_records.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from core.sessions.cursor import SPEEDS, ReplayCursor
from core.sessions.reader import SessionLog
from core.sessions.writer import writer_alive
from tui.replay_records import RecordFeeder

FRAME_S = 1 / 20  # playing applies what fits into one frame, then waits
POLL_S = 0.25  # attach: how often the log's size is checked
KEYS_HINT = "space play · +/- speed · ,/. step · e/E next/previous epoch · g/G start/end · esc leaves"


class SessionGrew(Message):
    """The followed session's log changed (new bytes, or its writer went away)."""

    def __init__(self, writer_gone: bool) -> None:
        super().__init__()
        self.writer_gone = writer_gone


class ReplayStatus(Static):
    """The controller's status line; also where the attach watcher's messages arrive."""

    def __init__(self, controller: "ReplayController") -> None:
        super().__init__("", id="replay-status")
        self.controller = controller

    def on_session_grew(self, message: SessionGrew) -> None:
        self.controller.session_grew(message.writer_gone)


class ReplayController:
    BINDINGS = [
        Binding("space", "cursor('toggle_play')", "Play/pause"),
        Binding("plus,equals_sign", "cursor('speed', 1)", "Faster"),
        Binding("minus", "cursor('speed', -1)", "Slower", show=False),
        Binding("full_stop", "cursor('step', 1)", "Step", show=False),
        Binding("comma", "cursor('step', -1)", "Back", show=False),
        Binding("e", "cursor('epoch', 1)", "Next epoch"),
        Binding("E", "cursor('epoch', -1)", "Previous epoch", show=False),
        Binding("ctrl+home,g", "cursor('to_start')", "Start", show=False),
        Binding("ctrl+end,G", "cursor('to_end')", "End", show=False),
        Binding("escape,ctrl+d", "cursor('leave')", "Leave"),
    ]
    # What stays of the workbench: looking around, saving the recorded settings, exporting the run's
    # model. Never training (a replay never trains; attach never touches the writer).
    allowed_actions = frozenset({"help", "show_pane", "save_config", "export_model", "explain_view", "quit"})
    COMMANDS = frozenset({"toggle_play", "speed", "step", "epoch", "to_start", "to_end", "leave"})

    def __init__(self, log: SessionLog, follow: bool = False) -> None:
        self.session = log
        self.cursor = ReplayCursor(log)
        self.follow = follow
        self.playing = False
        self.speed_index = SPEEDS.index(10.0)
        self.ended_note = ""
        self.title = f"{'Attached to' if follow else 'Replay of'} {log.header.get('name') or log.name}"
        self.status_line = ReplayStatus(self)
        self.opened = asyncio.Event()  # set once the panes show the session (tests await it)
        self.app: Any = None
        self.feeder: RecordFeeder | None = None
        self._stop_watch = threading.Event()
        self._play_timer = None

    # --- the controller contract (tui.controller) ----------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.status_line

    def start(self, app: Any) -> None:
        self.app = app
        self.feeder = RecordFeeder(app, self.session, self.cursor)
        app.form.disabled = True  # read-only: the hyperparameters are the recorded ones
        for problem in self.session.problems:
            app.log_pane.note(f"[session] {problem}")
        self.show(self.cursor.last)
        if self.follow:
            app.run_worker(self._watch, thread=True, exclusive=True, exit_on_error=False, group="attach")
        app.action_show_pane("training")
        self.opened.set()

    def command(self, name: str, *args: Any) -> None:
        if name in self.COMMANDS and self.app is not None:
            getattr(self, name)(*args)

    def close(self) -> None:
        self._stop_watch.set()  # detaching leaves the writer alone

    # --- showing a position ------------------------------------------------------------------

    def show(self, index: int) -> None:
        self.feeder.show(index)
        self._update_status()

    def _update_status(self) -> None:
        speed = SPEEDS[self.speed_index]
        state = ("playing " if self.playing else "paused ") + ("instant" if speed is None else f"{speed:g}x")
        ended = f" · {self.ended_note}" if self.ended_note else ""
        mode = "following" if self.follow and self.cursor.at_end else state
        problems = f" · {len(self.session.problems)} problem(s), see the log" if self.session.problems else ""
        self.status_line.update(f"{mode} · {self.cursor.describe()} · {self.cursor.status()}{ended}{problems} · {KEYS_HINT}")

    # --- commands (keys) ---------------------------------------------------------------------------

    def toggle_play(self) -> None:
        if self.playing:
            self._pause()
            return
        if self.cursor.at_end:
            self.show(0)
        self.playing = True
        self._tick()

    def _pause(self) -> None:
        self.playing = False
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
        self._update_status()

    def _tick(self) -> None:
        if not self.playing:
            return
        speed = SPEEDS[self.speed_index]
        if speed is None:
            self.show(self.cursor.last)
            self._pause()
            return
        # Apply every record due within one frame, then wait for the next one.
        target, waited = self.cursor.position, 0.0
        while target < self.cursor.last and waited < FRAME_S:
            self.cursor.seek(target)
            waited += self.cursor.delay_to_next(speed)
            target += 1
        self.show(target)
        if self.cursor.at_end:
            self._pause()
            return
        self._play_timer = self.app.set_timer(max(waited, FRAME_S), self._tick)

    def speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + int(delta)))
        self._update_status()

    def step(self, delta: int) -> None:
        self._pause()
        self.show(self.cursor.position + int(delta))

    def to_start(self) -> None:
        self._pause()
        self.show(0)

    def to_end(self) -> None:
        self._pause()
        self.show(self.cursor.last)

    def epoch(self, direction: int) -> None:
        """To the end of the next (1) or the previous (-1) epoch that completed."""
        position = self.cursor.position
        ends = [i for i, _ in self.session.epochs]
        target = next((i for i in ends if i > position), None) if direction > 0 else \
            next((i for i in reversed(ends) if i < position), None)
        if target is None:
            where = "later" if direction > 0 else "earlier"
            self.app.notify(f"No {where} epoch end in this session.", severity="warning")
            return
        self._pause()
        self.show(target)

    def leave(self) -> None:
        self.close()
        self.app.exit()

    # --- attach --------------------------------------------------------------------------------

    def _watch(self) -> None:  # a thread worker
        """Watch the log's size and the writer's lock; the UI thread does the reading."""
        path, folder = self.session.path, self.session.folder
        last_size = -1
        while not self._stop_watch.is_set():
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                size = 0
            alive = writer_alive(folder)
            if size != last_size or not alive:
                last_size = size
                self.status_line.post_message(SessionGrew(writer_gone=not alive))
                if not alive:
                    return
            self._stop_watch.wait(POLL_S)

    def session_grew(self, writer_gone: bool) -> None:
        log = self.session
        was_at_end = self.cursor.at_end
        log.refresh()
        if was_at_end and not self.playing:
            self.show(self.cursor.last)  # following: keep up with the writer
        if writer_gone:
            self.ended_note = f"writer ended: {log.end_detail()}"
            self.app.notify(self.ended_note, title="Session ended", timeout=10)
        self._update_status()


def open_viewer(ref: str, *, follow: bool = False, root: str | None = None, **options: Any):
    """The workbench on a session name or folder; SessionError/UserError when it cannot open."""
    from core.sessions.reader import open_session

    return replay_app(open_session(ref, root), follow=follow, **options)


def replay_app(log: SessionLog, *, follow: bool = False, **options: Any):
    from tui.app import create_app

    options.setdefault("record_sessions", False)  # viewing a session records nothing
    return create_app(None, controller=ReplayController(log, follow), **options)
