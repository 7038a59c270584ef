"""Replay and attach: the workbench, read-only, on a recorded or a live session.

``twb replay SESSION`` shows the panes as of a replay cursor (hyperparameters as they were, the
training log and curves up to the cursor, the attention view and console transcript the user
had then) with keys to play, change speed, step, jump to an epoch, to the start and the end.
``twb attach SESSION`` opens the same view at the end and follows a session another process
is writing; quitting or losing the terminal only stops this viewer, never the writer.

The panes are the workbench's own, fed through ``feed`` like a live run. Big jumps rebuild
them from the log's small derived state (curves, epoch markers) instead of replaying every
logged step, so a jump costs about the same anywhere in a 100,000-record session.
"""
from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, RichLog, Static

from core import config as cfg
from core.events import EVENT_TYPES, RunStarted, StepLogged, from_record
from core.sessions import schema
from core.sessions.curves import chart_series
from core.sessions.cursor import SPEEDS, ReplayCursor, attention_from_record
from core.sessions.reader import MALFORMED, SessionLog
from core.sessions.writer import writer_alive
from tui.app import WorkbenchApp
from tui.screens.dialogs import PromptScreen
from tui.widgets.curves import Curves

INCREMENTAL_LIMIT = 400  # a forward move of at most this many records is fed record by record
FRAME_S = 1 / 20  # playing applies what fits into one frame, then waits
MAX_CURVE_POINTS = 1000  # step points handed to the chart on a rebuild (a terminal chart shows fewer)
REBUILD_REPORTS = 2  # per-class reports (a dozen lines each) written on a rebuild: the latest ones
POLL_S = 0.25  # attach: how often the log's size is checked
_TRAINING_ACTIONS = {"start_training", "cancel_training", "resume_training", "load_config"}


class SessionGrew(Message):
    """The followed session's log changed (new bytes, or its writer went away)."""

    def __init__(self, writer_gone: bool) -> None:
        super().__init__()
        self.writer_gone = writer_gone


class SessionViewerApp(WorkbenchApp):
    BINDINGS = WorkbenchApp.BINDINGS + [
        Binding("space", "toggle_play", "Play/pause", id="replay-play"),
        Binding("plus,equals_sign", "speed(1)", "Faster", id="replay-faster"),
        Binding("minus", "speed(-1)", "Slower", show=False, id="replay-slower"),
        Binding("full_stop", "step(1)", "Step", show=False, id="replay-step"),
        Binding("comma", "step(-1)", "Back", show=False, id="replay-back"),
        Binding("e", "jump_epoch", "Epoch", id="replay-epoch"),
        Binding("ctrl+home,g", "to_start", "Start", show=False, id="replay-start"),
        Binding("ctrl+end,G", "to_end", "End", show=False, id="replay-end"),
        Binding("ctrl+d", "quit", "Detach", show=False, id="replay-detach"),
    ]

    def __init__(self, log: SessionLog, *, follow: bool = False, **options: Any) -> None:
        options.setdefault("record_sessions", False)  # viewing a session records nothing
        super().__init__(None, **options)
        self.session = log
        self.cursor = ReplayCursor(log)
        self.follow = follow
        self.playing = False
        self.speed_index = SPEEDS.index(10.0)
        self.shown = -1  # the record index the panes show
        self.ended_note = ""
        self._stop_watch = threading.Event()
        self._play_timer = None
        self.opened = asyncio.Event()  # set once the panes show the session (tests await it)
        self.title = f"{'Attached to' if follow else 'Replay of'} {log.header.get('name') or log.name}"

    # --- layout ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # (Textual runs WorkbenchApp.on_mount too: handlers are called along the class hierarchy.)
        self.mount(Static("", id="replay-status"), before=self.query_one(Footer))
        self.form.disabled = True  # read-only: the hyperparameters are the recorded ones
        self.run_worker(self._open(), group="replay-open")  # a task: waiting must not block the message loop

    async def _open(self) -> None:
        ready = getattr(self, "panes_ready", None)
        if ready is not None:  # the workbench mounts the other panes just after the first frame
            await ready.wait()
        for problem in self.session.problems:
            self.log_pane.note(f"[session] {problem}")
        self.show(self.cursor.last)
        if self.follow:
            self._watch()
        self.action_show_pane("training")
        self.opened.set()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _TRAINING_ACTIONS:
            return False  # a replay never trains; attach never touches the writer
        return super().check_action(action, parameters)

    # --- showing a position ------------------------------------------------------------------

    def show(self, index: int) -> None:
        """Make the panes show the session as of record ``index``."""
        index = self.cursor.seek(index)
        if self.shown <= index <= self.shown + INCREMENTAL_LIMIT and self.shown >= 0:
            for i, record in self.session.records(self.shown + 1, index + 1):
                self._apply(i, record)
            if index - self.shown > 1:
                self.query_one(Curves).redraw()
        else:
            self._rebuild(index)
        self.shown = index
        self._update_status()

    def _apply(self, index: int, record: dict[str, Any]) -> None:
        rtype = record.get("type")
        if rtype in EVENT_TYPES:
            try:
                event = from_record(record)
            except (TypeError, KeyError, ValueError):
                self.log_pane.note(f"[line {index + 1}] damaged {rtype} record: {json.dumps(record)[:200]}")
                return
            if isinstance(event, RunStarted):
                self._set_form(event.config)
            self.feed(event)
        elif rtype == schema.CONFIG:
            self._set_form(record.get("config"))
        elif rtype == schema.ATTENTION:
            self._show_attention(index, record)
        elif rtype == schema.CONSOLE:
            self._console(record)
        elif rtype == schema.ACTION:
            detail = record.get("detail") or {}
            extra = f" ({', '.join(f'{k}={v}' for k, v in detail.items() if v not in (None, []))})" if detail else ""
            self.log_pane.note(f"[user] {record.get('action')}{extra}")
        elif rtype == schema.REOPENED:
            self.log_pane.note(f"[session] appended to by pid {record.get('pid')} on {record.get('host')} (resumed)")
        elif rtype == schema.END:
            self.log_pane.note(f"[session] ended: {record.get('status')}")
        elif rtype == schema.HEADER:
            pass
        elif rtype == MALFORMED:
            self.log_pane.note(f"[line {index + 1}] damaged line, shown raw: {record.get('raw', '')[:200]}")
        else:
            self.log_pane.note(f"[line {index + 1}] unknown record {rtype!r}, shown raw: {json.dumps(record)[:200]}")

    def _rebuild(self, index: int) -> None:
        log = self.session
        self._reset_panes()
        config = self.cursor.config()
        if config:
            self._set_form(config)
        run = log.last_before(log.runs, index)
        # Everything that writes a log line (few records), in file order; logged steps only as curves.
        wanted: set[int] = set(log.raw_index)
        for items in (log.runs, log.epochs, log.validations, log.checkpoints, log.terminals, log.actions, log.ends,
                      log.reopens):
            wanted.update(i for i, _ in items)
        wanted.update([i for i, _ in log.evaluations if i <= index][-REBUILD_REPORTS:])
        last_step = log.curves.upto(index) - 1
        if last_step >= 0 and (run is None or log.curves.index[last_step] > run[0]):
            wanted.add(log.curves.index[last_step])  # its progress bars and throughput line
        for i in sorted(i for i in wanted if i <= index)[-1000:]:
            self._apply(i, log.record(i))
        self._bulk_curves(index)
        attention = self.cursor.attention()
        if attention is not None:
            self._show_attention(attention.index if not isinstance(attention, dict) else -1, None, attention)
        for _, record in self.cursor.console(limit=50):
            self._console(record)

    def _bulk_curves(self, index: int) -> None:
        """The charts up to ``index`` (across resumes), straight from the log's arrays."""
        log = self.session
        self.query_one(Curves).set_series(
            chart_series(log.curves, log.runs, log.epochs, index, max_steps=MAX_CURVE_POINTS))

    def _reset_panes(self) -> None:
        log_pane = self.log_pane
        log_pane.query_one("#train-log", RichLog).clear()
        log_pane.lines.clear()
        log_pane.report = ""
        log_pane.state = "idle"
        log_pane.query_one(Curves).clear()
        self.console_pane.transcript.clear()
        self.console_pane.query_one("#console-history", RichLog).clear()
        self.attention_pane.view = None
        self.attention_pane.query_one("#attn-readout", Static).update("no attention view had been looked at yet")

    def _set_form(self, config: dict | None) -> None:
        if not config:
            return
        try:
            self.form.set_config(cfg.from_dict(config))
        except cfg.ConfigError as exc:
            self.log_pane.note(f"[session] recorded config not loadable here: {exc}")

    def _show_attention(self, index: int, record: dict | None, decoded: Any = None) -> None:
        try:
            view = decoded if decoded is not None else attention_from_record(record, index)
        except (KeyError, TypeError, ValueError) as exc:
            view = {"raw": f"attention record could not be decoded: {exc}"}
        if isinstance(view, dict):
            self.attention_pane._show_error(f"[line {index + 1}] {view.get('raw')}")
            return
        self.attention_pane.show_view(view)
        if view.text:
            self.attention_pane.query_one("#attn-text").value = view.text

    def _console(self, record: dict[str, Any]) -> None:
        pane = self.console_pane
        model = f" {record.get('model')}" if record.get("model") else ""
        lines = [f"> [{record.get('task', '?')}{model}] {record.get('inputs')}"]
        if record.get("error"):
            lines.append(f"error: {record['error']}")
        else:
            lines.append(json.dumps(record.get("result"), ensure_ascii=False)[:2000])
        if record.get("latency_s") is not None:
            lines.append(f"({record['latency_s']:.2f} s)")
        for line in lines:
            pane.transcript.append(line)
            pane.query_one("#console-history", RichLog).write(line)

    def _update_status(self) -> None:
        speed = SPEEDS[self.speed_index]
        state = ("playing " if self.playing else "paused ") + ("instant" if speed is None else f"{speed:g}x")
        status = self.cursor.status()
        ended = f" · {self.ended_note}" if self.ended_note else ""
        mode = "following" if self.follow and self.cursor.at_end else state
        problems = f" · {len(self.session.problems)} problem(s), see the log" if self.session.problems else ""
        self.query_one("#replay-status", Static).update(
            f"{mode} · {self.cursor.describe()} · {status}{ended}{problems} · "
            "space play · +/- speed · ,/. step · e epoch · g/G start/end")

    # --- keys --------------------------------------------------------------------------------

    def action_toggle_play(self) -> None:
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
        self._play_timer = self.set_timer(max(waited, FRAME_S), self._tick)

    def action_speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + int(delta)))
        self._update_status()

    def action_step(self, delta: int) -> None:
        self._pause()
        self.show(self.cursor.position + int(delta))

    def action_to_start(self) -> None:
        self._pause()
        self.show(0)

    def action_to_end(self) -> None:
        self._pause()
        self.show(self.cursor.last)

    def action_jump_epoch(self) -> None:
        epochs = sorted({int(r.get("epoch") or 0) for _, r in self.session.epochs})
        if not epochs:
            self.notify("No epoch completed in this session.", severity="warning")
            return

        def chosen(text: str | None) -> None:
            if text:
                self.jump_to_epoch(text)

        self.push_screen(PromptScreen(f"Jump to the end of epoch ({epochs[0]}-{epochs[-1]}):", str(epochs[-1])), chosen)

    def jump_to_epoch(self, text: str | int) -> None:
        try:
            epoch = int(text)
        except ValueError:
            self.notify(f"{text!r} is not an epoch number.", severity="error")
            return
        index = self.session.epoch_index(epoch)
        if index is None:
            self.notify(f"Epoch {epoch} never completed in this session.", severity="warning")
            return
        self._pause()
        self.show(index)

    # --- attach --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="attach")
    def _watch(self) -> None:
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
                self.post_message(SessionGrew(writer_gone=not alive))
                if not alive:
                    return
            self._stop_watch.wait(POLL_S)

    def on_session_grew(self, message: SessionGrew) -> None:
        log = self.session
        was_at_end = self.cursor.at_end
        log.refresh()
        if was_at_end and not self.playing:
            self.show(self.cursor.last)  # following: keep up with the writer
        if message.writer_gone:
            self.ended_note = f"writer ended: {log.end_detail()}"
            self.notify(self.ended_note, title="Session ended", timeout=10)
        self._update_status()

    async def action_quit(self) -> None:
        self._stop_watch.set()  # detaching leaves the writer alone
        self.exit()


def open_viewer(ref: str, *, follow: bool = False, root: str | None = None, **options: Any) -> SessionViewerApp:
    """Build the viewer for a session name or folder; SessionError/UserError when it cannot open."""
    from core.sessions.reader import open_session

    return SessionViewerApp(open_session(ref, root), follow=follow, **options)
