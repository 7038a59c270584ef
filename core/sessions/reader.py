"""Opening a session log: an index of byte offsets, small derived state, records read lazily.

Opening never json-parses the bulky records (attention matrices, console results): each line is
matched against the fixed ``{"seq":N,"ts":T,"type":"X"`` prefix the writer emits (line_scan.py),
and only the small records that feed the curves (curves.py), the epoch markers and the status
are parsed. Memory is the index (a few bytes a record) plus curves, not the file. Only JSON is
ever read: opening a session never runs code.

Damage is reported, never skipped silently: ``SessionLog.problems`` lists each torn tail (with
its byte offset), malformed line or record with wrongly typed fields (with its line number,
records.py), unknown record type, and repaired tear; an empty file, a missing header or a newer
schema raise ``SessionError``.
"""
from __future__ import annotations

import mmap
import os
from array import array
from bisect import bisect_right
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from core.events import RENAMED_EVENT_TYPES, Event, from_record
from core.sessions import line_scan, names, schema
from core.sessions.curves import RecordedCurves
from core.sessions.records import MALFORMED, Problem, check_fields, json_or_none
from core.sessions.writer import writer_alive

__all__ = ["MALFORMED", "Problem", "SessionLog", "json_or_none", "open_session"]

nan = float("nan")
_CHUNK = 1 << 20  # bytes read at a time: bounds the memory of indexing


class SessionLog:
    """A session's log, indexed. ``len(log)`` is the number of complete lines (records)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / names.LOG_NAME
        self.name = names.user_name(self.folder.name)
        self.header: dict[str, Any] = {}
        self.offsets = array("q")  # byte offset where line i starts
        self.ts = array("d")  # its timestamp (nan when malformed)
        self.types = bytearray()  # code into self.type_names
        self.type_names: list[str] = [MALFORMED]
        self._codes: dict[str, int] = {MALFORMED: 0}
        for known in schema.KNOWN_TYPES:
            self._codes[known] = len(self.type_names)
            self.type_names.append(known)
        # Types the bulk pass handles without parsing (by their prefix bytes).
        self._bulk_codes = {t.encode(): c for t, c in self._codes.items() if t not in (MALFORMED, schema.HEADER)}
        self.end = 0  # byte offset just after the last complete line
        self.problems: list[Problem] = []
        self.curves = RecordedCurves()
        # Small derived state: (record index, parsed record) in file order.
        self.epochs: list[tuple[int, dict[str, Any]]] = []
        self.runs: list[tuple[int, dict[str, Any]]] = []
        self.configs: list[tuple[int, dict[str, Any]]] = []
        self.checkpoints: list[tuple[int, dict[str, Any]]] = []
        self.validations: list[tuple[int, dict[str, Any]]] = []  # mid-epoch (ValidationReported)
        self.evaluations: list[tuple[int, dict[str, Any]]] = []  # final per-class reports
        self.terminals: list[tuple[int, dict[str, Any]]] = []
        self.actions: list[tuple[int, dict[str, Any]]] = []
        self.ends: list[tuple[int, dict[str, Any]]] = []
        self.reopens: list[tuple[int, dict[str, Any]]] = []
        self.attention_index = array("q")
        self.console_index = array("q")
        self.explanation_index = array("q")
        self.raw_index = array("q")  # unknown types and malformed lines, shown raw
        self.torn: Problem | None = None
        self._last_seq = -1
        self._inode: tuple[int, int] | None = None
        self._cache: dict[int, dict[str, Any]] = {}

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | os.PathLike) -> "SessionLog":
        log = cls(folder)
        if not log.path.is_file():
            raise schema.SessionError(f"{log.folder} has no {names.LOG_NAME}: it is not a session folder",
                                      "pass a folder listed by `twb sessions`")
        log.refresh()
        if not log.header:
            if log.torn is not None or len(log):
                # refresh() already raised for a bad first line; here only a torn header remains.
                raise schema.SessionError(f"{log.path} holds only a torn header ({log.torn.offset if log.torn else 0} bytes "
                                          "of it): the writer was killed while creating the session",
                                          "delete the folder; nothing was recorded")
            raise schema.SessionError(f"{log.path} is empty: the writer was killed before it wrote anything",
                                      "delete the folder; nothing was recorded")
        if len(log) == 1:
            log.problems.append(Problem("header_only", "the session holds only its header: nothing was recorded after it was created", 1))
        return log

    def __len__(self) -> int:
        return len(self.offsets)

    def refresh(self) -> int:
        """Index lines appended since the last call (attach follows a live session this way).

        Returns how many complete records were added. A file that was replaced or truncated
        under us is indexed again from the start.
        """
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return 0
        inode = (st.st_dev, st.st_ino)
        if self._inode is not None and (inode != self._inode or st.st_size < self.end):
            self.__init__(self.folder)  # replaced or truncated: start over
        self._inode = inode
        before = len(self)
        self.torn = None
        if st.st_size > self.end:
            with open(self.path, "rb") as f:
                f.seek(self.end)
                self._index_stream(f)
        self.problems = [p for p in self.problems if p.kind != "torn_tail"]
        # A partial last line of a live writer is a write in progress, not damage.
        if self.torn is not None and self.header and not self.writer_alive:
            self.problems.append(self.torn)
        return len(self) - before

    def _index_stream(self, f) -> None:
        carry = b""
        base = self.end
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            buf = carry + chunk if carry else chunk
            consumed = self._index_buffer(buf, base)
            base += consumed
            carry = buf[consumed:]
        self.end = base
        if carry:
            line = len(self) + 1
            self.torn = Problem(
                "torn_tail",
                f"line {line} is torn at byte offset {base} ({len(carry)} bytes without a line end): "
                "the writer was stopped mid-write; every complete record before it is kept",
                line, base)

    def _index_buffer(self, buf: bytes, base: int) -> int:
        """Index each complete line of ``buf`` (which starts at file offset ``base``); bytes consumed.

        The common records (logged steps, attention views, console prompts) are handled in bulk
        (core.sessions.line_scan); everything else is parsed one by one.
        """
        consumed = buf.rfind(b"\n") + 1
        if not consumed:
            return 0
        lines = line_scan.scan(buf, consumed, self._bulk_codes)
        codes, seqs, first = lines.codes, lines.seqs, len(self.offsets)
        starts, ends = lines.starts.tolist(), lines.ends.tolist()

        # seq must grow: flag each prefixed line whose seq is not above every seq before it.
        running = np.maximum.accumulate(np.concatenate(([self._last_seq], seqs)))[:-1]
        for i in np.flatnonzero((seqs >= 0) & (seqs <= running)).tolist():
            self.problems.append(Problem("out_of_order", f"line {first + i + 1} has seq {seqs[i]} after seq {running[i]}",
                                         first + i + 1, base + starts[i]))
        self._last_seq = max(self._last_seq, int(seqs.max()))

        step_code, attention_code, console_code = (self._codes[t] for t in ("StepLogged", schema.ATTENTION, schema.CONSOLE))
        bulk = (codes == step_code) | (codes == attention_code) | (codes == console_code)
        bulk &= lines.closed
        if first == 0:
            bulk[0] = False  # the header is checked alone
        self.offsets.frombytes((lines.starts + base).astype(np.int64).tobytes())
        self.ts.frombytes(lines.ts.tobytes())
        self.types.extend(np.where(bulk, codes, 0).tobytes())
        self.attention_index.extend((np.flatnonzero(bulk & (codes == attention_code)) + first).tolist())
        self.console_index.extend((np.flatnonzero(bulk & (codes == console_code)) + first).tolist())
        steps = np.flatnonzero(bulk & (codes == step_code)).tolist()
        columns = line_scan.step_columns(lines.step_fields, steps) if steps else None
        if columns is not None:
            curves = self.curves
            curves.index.frombytes((np.array(steps) + first).astype(np.int64).tobytes())
            for column, values in zip((curves.step, curves.epoch, curves.loss, curves.lr, curves.tokens_per_s), columns):
                column.frombytes(values.tobytes())
        # The few small records that feed derived state, and any step line the scan could not
        # read (a damaged line, or another field order): parsed, which also reports damage.
        careful = ~bulk
        if steps and columns is None:
            careful[steps] = True
        for i in np.flatnonzero(careful).tolist():
            self._add_line(first + i, base + starts[i], buf[starts[i]:ends[i]])
        self.problems.sort(key=lambda p: (p.line or 0))
        return consumed

    def _add_line(self, index: int, offset: int, raw: bytes) -> None:
        """Classify one line the careful way (parsing it), and fill its slot in the index."""
        record = json_or_none(raw)
        if isinstance(record, dict) and isinstance(record.get("type"), str):
            rtype, ts = RENAMED_EVENT_TYPES.get(record["type"], record["type"]), record.get("ts")
            ts = float(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) else nan
        else:
            rtype, ts = MALFORMED, nan
        code = self._codes.get(rtype)
        if code is None:
            code = len(self.type_names) if len(self.type_names) < 255 else 0
            if code:
                self.type_names.append(rtype)
                self._codes[rtype] = code
        self.ts[index] = ts
        self.types[index] = code
        line = index + 1
        if rtype == MALFORMED:
            self.raw_index.append(index)
            snippet = raw[:60].decode("utf-8", "replace")
            self.problems.append(Problem("malformed", f"line {line} (byte offset {offset}) is not a valid record: {snippet!r}",
                                         line, offset))
            if index == 0:
                raise schema.SessionError(f"{self.path} is not a twb session log: its first line is not a session header",
                                          "pass a folder listed by `twb sessions`")
            return
        if index == 0:
            schema.check_header(record, str(self.path))
            self.header = record
            return
        try:
            self._derive(index, rtype, record, offset)
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            self.raw_index.append(index)
            self.problems.append(Problem("malformed", f"line {line} is a {rtype} record with bad fields ({exc}): shown raw",
                                         line, offset))

    def _derive(self, index: int, rtype: str, r: dict, offset: int) -> None:
        check_fields(rtype, r)  # a record with wrong field types is damage, like a malformed line
        if rtype == "StepLogged":
            self.curves.add(index, r)
        elif rtype == "EpochCompleted":
            self.epochs.append((index, r))
        elif rtype == "ValidationReported":
            self.curves.add_validation(index, r)
            self.validations.append((index, r))
        elif rtype == "RunStarted":
            self.runs.append((index, r))
            self.configs.append((index, r.get("config") or {}))
        elif rtype == schema.CONFIG:
            self.configs.append((index, r.get("config") or {}))
        elif rtype == "CheckpointSaved":
            self.checkpoints.append((index, r))
        elif rtype == "ClassReportComputed":
            self.evaluations.append((index, r))
        elif rtype in schema.STATUS_OF_EVENT:
            self.terminals.append((index, r))
        elif rtype == schema.ACTION:
            self.actions.append((index, r))
        elif rtype == schema.END:
            self.ends.append((index, r))
        elif rtype == schema.REOPENED:
            self.reopens.append((index, r))
            repaired = r.get("repaired")
            if isinstance(repaired, dict):
                self.problems.append(Problem(
                    "repaired", f"a torn record ({repaired.get('discarded_bytes')} bytes at byte offset "
                    f"{repaired.get('offset')}) was cut when the session was resumed", index + 1, repaired.get("offset")))
        elif rtype == schema.ATTENTION:
            self.attention_index.append(index)
        elif rtype == schema.CONSOLE:
            self.console_index.append(index)
        elif rtype == schema.EXPLANATION:
            self.explanation_index.append(index)
        elif rtype != schema.HEADER:
            self.raw_index.append(index)
            self.problems.append(Problem("unknown_type", f"line {index + 1} has unknown record type {rtype!r}: shown raw",
                                         index + 1, offset))

    # --- reading records ---------------------------------------------------------------------

    def line_bytes(self, index: int) -> bytes:
        start = self.offsets[index]
        stop = self.offsets[index + 1] if index + 1 < len(self) else self.end
        with open(self.path, "rb") as f:
            f.seek(start)
            return f.read(stop - start).rstrip(b"\n")

    def record(self, index: int) -> dict[str, Any]:
        """Record ``index`` parsed; a damaged line becomes ``{"type": "(malformed)", "raw": ...}``."""
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        raw = self.line_bytes(index)
        parsed = json_or_none(raw)
        if not isinstance(parsed, dict):
            parsed = {"type": MALFORMED, "line": index + 1, "raw": raw.decode("utf-8", "replace")}
            if not any(p.line == index + 1 and p.kind == "malformed" for p in self.problems):
                self.problems.append(Problem("malformed", f"line {index + 1} (byte offset {self.offsets[index]}) is not valid JSON",
                                             index + 1, self.offsets[index]))
        if len(self._cache) > 64:  # what is shown around the cursor, not the file
            self._cache.clear()
        self._cache[index] = parsed
        return parsed

    def records_at(self, indices: list[int]) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """``(index, record)`` for each of ``indices`` through one mapping of the file: for a sample
        of records across a long log; a damaged line gives None. Slicing a mapping makes no system
        call, so a reader thread does not wait for the GIL again after each record."""
        if not indices or not self.end:
            return
        with open(self.path, "rb") as f, mmap.mmap(f.fileno(), self.end, access=mmap.ACCESS_READ) as mapped:
            for index in indices:
                stop = self.offsets[index + 1] if index + 1 < len(self) else self.end
                parsed = json_or_none(mapped[self.offsets[index]:stop])
                yield index, parsed if isinstance(parsed, dict) else None

    def records(self, start: int = 0, stop: int | None = None,
                only: frozenset[str] | set[str] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(index, record)`` for complete lines in ``[start, stop)``, streamed from disk;
        ``only`` limits it to those record types (others are not even parsed)."""
        stop = len(self) if stop is None else min(stop, len(self))
        if start >= stop:
            return
        codes = None if only is None else {self._codes[t] for t in only if t in self._codes}
        with open(self.path, "rb") as f:
            f.seek(self.offsets[start])
            for index in range(start, stop):
                raw = f.readline().rstrip(b"\n")
                if codes is not None and self.types[index] not in codes:
                    continue
                parsed = json_or_none(raw)
                if not isinstance(parsed, dict):
                    parsed = {"type": MALFORMED, "line": index + 1, "raw": raw.decode("utf-8", "replace")}
                yield index, parsed

    # --- derived answers -----------------------------------------------------------------------

    @property
    def writer_alive(self) -> bool:
        return writer_alive(self.folder)

    def segment_start(self) -> int:
        """Index where the latest writer began (0, or its ``reopened`` record)."""
        return self.reopens[-1][0] if self.reopens else 0

    def status(self, alive: bool | None = None) -> schema.SessionStatus:
        """running, finished, failed, cancelled, interrupted or crashed."""
        start = self.segment_start()
        if self.ends and self.ends[-1][0] >= start:
            status = self.ends[-1][1].get("status")
            return status if status in schema.END_STATUSES else schema.FINISHED
        if self.writer_alive if alive is None else alive:
            return schema.RUNNING
        last_run = self.runs[-1][0] if self.runs and self.runs[-1][0] >= start else None
        if last_run is not None and self.terminals and self.terminals[-1][0] > last_run:
            return schema.STATUS_OF_EVENT[self.terminals[-1][1]["type"]]
        return schema.CRASHED

    def end_detail(self) -> str:
        """How the session ended, in words, for the replay and attach views."""
        status = self.status()
        if status == schema.RUNNING:
            return "the session is still being written"
        if status == schema.CRASHED:
            last = len(self) - 1
            return (f"the writer stopped without a final record (crashed); replaying everything up to "
                    f"line {last + 1}" + (f", {self.torn.message}" if self.torn else ""))
        if self.terminals:
            t = self.terminals[-1][1]
            if t["type"] == "TrainingFailed":
                return f"training failed: {t.get('message', '')}" + (f" ({t['hint']})" if t.get("hint") else "")
            if t["type"] == "TrainingCancelled":
                return f"training was {status} at epoch {t.get('epoch')}, step {t.get('step')}"
            if t["type"] == "TrainingFinished":
                return f"training finished after {t.get('epochs_completed')} epochs ({t.get('reason', 'completed')})"
        return f"the session ended: {status}"

    def epoch_index(self, epoch: int) -> int | None:
        """Record index of the (latest) EpochCompleted for ``epoch``."""
        found = [i for i, r in self.epochs if r.get("epoch") == epoch]
        return found[-1] if found else None

    def last_before(self, items: list[tuple[int, Any]] | array, cursor: int) -> Any:
        """The last item at or before record ``cursor`` (items as (index, value) or an index array)."""
        if isinstance(items, array):
            k = bisect_right(items, cursor)
            return items[k - 1] if k else None
        k = bisect_right(items, cursor, key=lambda item: item[0])
        return items[k - 1] if k else None

    def event(self, index: int) -> Event | dict[str, Any]:
        """Record ``index`` as an engine event when it is one, else the raw record."""
        record = self.record(index)
        if record.get("type") in schema.EVENT_TYPE_NAMES:
            try:
                return from_record(record)
            except (TypeError, KeyError, ValueError):
                return record
        return record


def open_session(ref: str | os.PathLike, root: str | os.PathLike | None = None) -> SessionLog:
    """Open a session by folder path or name (see names.resolve_session)."""
    return SessionLog.open(names.resolve_session(str(ref), root))
