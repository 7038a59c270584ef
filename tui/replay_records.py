"""Which recorded record goes to which pane, for replay: the panes as of a record index.

Engine events go through ``app.feed`` exactly as in a live run; everything else a session holds
goes to one pane's ``show_recorded`` (tui.pane). Small forward moves are fed record by record;
big jumps reset the panes and rebuild them from the log's small derived state (curves, epoch
markers) instead of replaying every logged step, so a jump costs about the same anywhere in a
100,000-record session.
"""
from __future__ import annotations

import json
from typing import Any

from core import config as cfg
from core.events import EVENT_TYPES, RunStarted, from_record
from core.sessions import schema
from core.sessions.cursor import ReplayCursor, attention_from_record, explanation_from_record
from core.sessions.reader import MALFORMED, SessionLog
from core.sessions.curves import chart_series
from tui.pane import RecordError

INCREMENTAL_LIMIT = 400  # a forward move of at most this many records is fed record by record
MAX_CURVE_POINTS = 1000  # step points handed to the chart on a rebuild (a terminal chart shows fewer)
REBUILD_REPORTS = 2  # per-class reports (a dozen lines each) written on a rebuild: the latest ones
REBUILD_LINES = 1000  # log-writing records replayed on a rebuild: the latest ones


class RecordFeeder:
    def __init__(self, app: Any, log: SessionLog, cursor: ReplayCursor) -> None:
        self.app, self.log, self.cursor = app, log, cursor
        self.shown = -1  # the record index the panes show

    def show(self, index: int) -> None:
        """Make the panes show the session as of record ``index``."""
        index = self.cursor.seek(index)
        if 0 <= self.shown <= index <= self.shown + INCREMENTAL_LIMIT:
            for i, record in self.log.records(self.shown + 1, index + 1):
                self.apply(i, record)
        else:
            self.rebuild(index)
        self.shown = index

    def _note(self, text: str) -> None:
        self.app.log_pane.show_recorded(text)

    def apply(self, index: int, record: dict[str, Any]) -> None:
        rtype = record.get("type")
        if rtype in EVENT_TYPES:
            try:
                event = from_record(record)
            except (TypeError, KeyError, ValueError):
                self._note(f"[line {index + 1}] damaged {rtype} record: {json.dumps(record)[:200]}")
                return
            if isinstance(event, RunStarted):
                self._set_form(event.config)
            self.app.feed(event)
        elif rtype == schema.CONFIG:
            self._set_form(record.get("config"))
        elif rtype == schema.ATTENTION:
            self._show_attention(index, record)
        elif rtype == schema.CONSOLE:
            self.app.console_pane.show_recorded(record)
        elif rtype == schema.EXPLANATION:
            self._show_explanation(explanation_from_record(record, index))
        elif rtype == schema.ACTION:
            detail = record.get("detail") or {}
            extra = f" ({', '.join(f'{k}={v}' for k, v in detail.items() if v not in (None, []))})" if detail else ""
            self._note(f"[user] {record.get('action')}{extra}")
        elif rtype == schema.REOPENED:
            self._note(f"[session] appended to by pid {record.get('pid')} on {record.get('host')} (resumed)")
        elif rtype == schema.END:
            self._note(f"[session] ended: {record.get('status')}")
        elif rtype == schema.HEADER:
            pass
        elif rtype == MALFORMED:
            self._note(f"[line {index + 1}] damaged line, shown raw: {record.get('raw', '')[:200]}")
        else:
            self._note(f"[line {index + 1}] unknown record {rtype!r}, shown raw: {json.dumps(record)[:200]}")

    def rebuild(self, index: int) -> None:
        log, app = self.log, self.app
        for pane in app.panes():
            pane.reset()
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
        for i in sorted(i for i in wanted if i <= index)[-REBUILD_LINES:]:
            self.apply(i, log.record(i))
        # The charts up to ``index`` (across resumes), straight from the log's arrays.
        app.log_pane.show_recorded(chart_series(log.curves, log.runs, log.epochs, index, max_steps=MAX_CURVE_POINTS))
        attention = self.cursor.attention()
        if isinstance(attention, dict):
            app.attention_pane.show_recorded(RecordError(f"[line {attention.get('line')}] {attention.get('raw')}"))
        elif attention is not None:
            app.attention_pane.show_recorded(attention)
        explanation = self.cursor.explanation()
        if explanation is not None:
            self._show_explanation(explanation)
        for _, record in self.cursor.console(limit=50):
            app.console_pane.show_recorded(record)

    def _set_form(self, config: dict | None) -> None:
        if not config:
            return
        try:
            self.app.form.show_recorded(cfg.from_dict(config))
        except cfg.ConfigError as exc:
            self._note(f"[session] recorded config not loadable here: {exc}")

    def _show_explanation(self, item: Any) -> None:
        if isinstance(item, dict):
            item = RecordError(f"[line {item.get('line')}] {item.get('raw')}")
        self.app.attention_pane.show_recorded(item)

    def _show_attention(self, index: int, record: dict[str, Any]) -> None:
        try:
            view = attention_from_record(record, index)
        except (KeyError, TypeError, ValueError) as exc:
            self.app.attention_pane.show_recorded(RecordError(f"[line {index + 1}] attention record could not be decoded: {exc}"))
            return
        self.app.attention_pane.show_recorded(view)
