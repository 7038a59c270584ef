"""Appending records to a session log so that nothing is lost.

One ``os.write`` per record on an O_APPEND descriptor (no user-space buffer to lose), fsync at
checkpoints and at the end. The writer holds an exclusive ``flock`` on the session's lock file
for as long as it is open: readers use it to tell a running session from a crashed one, and a
second writer is refused instead of interleaving lines.
"""
from __future__ import annotations

import json
import math
import os
import re
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.sessions import names, schema
from core.version import twb_version

try:  # POSIX; on other systems sessions work without the liveness lock.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

_SEQ = re.compile(rb'^\{"seq":(\d+),')
_TAIL_CHUNK = 1 << 16


def _plain(value: Any) -> Any:
    """JSON fallback for numpy scalars/arrays and other odd values in results."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def encode_record(seq: int, record_type: str, fields: dict[str, Any], ts: float | None = None) -> bytes:
    """One log line: ``{"seq":..,"ts":..,"type":..,...}\\n`` (key order matters to the reader's index)."""
    ts = time.time() if ts is None else ts
    body = {"seq": seq, "ts": round(ts, 3), "type": record_type}
    for key, value in fields.items():
        if key not in body:
            body[key] = value
    try:
        line = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_plain)
    except ValueError:  # a NaN or infinity somewhere: rare, so only then is the record walked
        line = json.dumps(_null_for_non_finite(body), separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False, default=_plain)
    return line.encode("utf-8") + b"\n"


def _null_for_non_finite(value: Any) -> Any:
    """JSON has no NaN or infinity (``NaN`` is not JSON): they are written as null.

    Readers take a null where an event has a ``float`` field as NaN (core.events.from_record).
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _null_for_non_finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_null_for_non_finite(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return _null_for_non_finite(tolist())
    return value


def acquire_lock(folder: Path) -> int | None:
    """Open and exclusively flock the session's lock file; UserError if another writer holds it."""
    if fcntl is None:
        return None
    fd = os.open(folder / names.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    for attempt in range(5):  # a reader's liveness probe holds a shared lock for microseconds
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if attempt < 4:
                time.sleep(0.02)
    else:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        os.close(fd)
        raise UserError(f"session {folder.name} is being written by another process ({holder or 'unknown'})",
                        "attach to it with `twb attach` instead, or wait for it to end") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
    return fd


def writer_alive(folder: Path) -> bool:
    """True while some process holds the session's writer lock (it is still recording)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(folder / names.LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the probe's own shared lock
    return False


def repair_tail(path: Path) -> tuple[int, int] | None:
    """Cut a torn last line (a write cut short by a kill) so the next record starts clean.

    Returns ``(offset, length)`` of the bytes removed, or None when the file ended cleanly.
    """
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return None
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return None
        end = size
        cut = 0
        while end > 0:
            start = max(0, end - _TAIL_CHUNK)
            f.seek(start)
            pos = f.read(end - start).rfind(b"\n")
            if pos >= 0:
                cut = start + pos + 1
                break
            end = start
        f.truncate(cut)
        f.flush()
        os.fsync(f.fileno())
        return cut, size - cut


def last_seq(path: Path) -> int | None:
    """The ``seq`` of the last complete record (the file must end with a newline)."""
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - _TAIL_CHUNK)
            f.seek(start)
            tail = f.read(end - start) + tail
            lines = tail.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or start == 0:
                for line in reversed(lines):
                    m = _SEQ.match(line)
                    if m:
                        return int(m.group(1))
                if start == 0:
                    return None
            end = start
    return None


class SessionWriter:
    """Low-level, thread-safe appender: ``write(type, **fields)`` returns the record's seq."""

    def __init__(self, folder: Path, fd: int, lock_fd: int | None, next_seq: int):
        self.folder = folder
        self.path = folder / names.LOG_NAME
        self._fd = fd
        self._lock_fd = lock_fd
        self._seq = next_seq
        self._mutex = threading.Lock()
        self.closed = False

    @classmethod
    def create(cls, name: str, root: str | os.PathLike | None = None) -> "SessionWriter":
        """A new session folder ``<time>-<sanitised name>`` under the root, header written."""
        folder = names.new_session_dir(names.sessions_root(root), name)
        lock_fd = acquire_lock(folder)
        fd = os.open(folder / names.LOG_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        writer = cls(folder, fd, lock_fd, 0)
        writer.write(schema.HEADER, format=schema.FORMAT, schema=schema.SCHEMA_VERSION,
                     name=names.user_name(folder.name), folder=folder.name,
                     created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     pid=os.getpid(), host=socket.gethostname(), twb_version=twb_version())
        writer.sync()
        return writer

    @classmethod
    def reopen(cls, folder: str | os.PathLike) -> "SessionWriter":
        """Append to an existing session (resume), mending a torn last line first."""
        folder = Path(folder)
        path = folder / names.LOG_NAME
        if not path.is_file():
            raise UserError(f"{folder} is not a session folder (no {names.LOG_NAME})", "pass a folder listed by `twb sessions`")
        lock_fd = acquire_lock(folder)
        try:
            _check_appendable(path)
            torn = repair_tail(path)
            seq = last_seq(path)
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        writer = cls(folder, fd, lock_fd, 0 if seq is None else seq + 1)
        if seq is None:  # the header itself was torn or missing: start the log again
            writer.write(schema.HEADER, format=schema.FORMAT, schema=schema.SCHEMA_VERSION,
                         name=names.user_name(folder.name), folder=folder.name,
                         created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         pid=os.getpid(), host=socket.gethostname(), twb_version=twb_version())
        fields: dict[str, Any] = {"pid": os.getpid(), "host": socket.gethostname(), "twb_version": twb_version()}
        if torn:
            fields["repaired"] = {"offset": torn[0], "discarded_bytes": torn[1]}
        writer.write(schema.REOPENED, **fields)
        writer.sync()
        return writer

    def write(self, record_type: str, **fields: Any) -> int:
        with self._mutex:
            if self.closed:
                raise ValueError("session writer is closed")
            seq = self._seq
            data = encode_record(seq, record_type, fields)
            view = memoryview(data)
            while view:  # regular files write everything at once; loop for the rare short write
                written = os.write(self._fd, view)
                view = view[written:]
            self._seq = seq + 1
            return seq

    def sync(self) -> None:
        with self._mutex:
            if not self.closed:
                os.fsync(self._fd)

    def close(self) -> None:
        with self._mutex:
            if self.closed:
                return
            self.closed = True
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                if self._lock_fd is not None:
                    os.close(self._lock_fd)  # releases the flock: readers now see the writer gone


def _check_appendable(path: Path) -> None:
    """Refuse to append to a log this version cannot read (a newer schema)."""
    with open(path, "rb") as f:
        first = f.readline(1 << 20)
    if not first.endswith(b"\n"):
        return  # empty or torn header: reopen rewrites it
    try:
        header = json.loads(first)
    except (ValueError, RecursionError):
        raise schema.SessionError(f"{path} does not start with a readable session header",
                                  "start a new session instead of resuming into this one") from None
    schema.check_header(header, str(path))
