"""Following a session another process is writing, like ``tail -f``.

Polls the log's size (and inode, so a replaced file is noticed) every ``interval`` seconds and
hands over complete new records; a partial last line waits until its line end arrives. Reading
never touches the writer: detaching, or losing the terminal, leaves the training process alone.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Iterator

from core.sessions.reader import SessionLog


class SessionFollower:
    def __init__(self, folder: str | os.PathLike, interval: float = 0.25):
        self.log = SessionLog.open(folder)
        self.interval = interval
        self.delivered = len(self.log)  # records before attaching are the replayed backlog
        self.ended = False

    def poll(self) -> list[tuple[int, dict[str, Any]]]:
        """New complete records since the last poll, in order (empty when none)."""
        before = len(self.log)
        self.log.refresh()
        if len(self.log) < before:  # file replaced under us: deliver it again from the start
            self.delivered = 0
        new = list(self.log.records(self.delivered))
        self.delivered = len(self.log)
        if not new and not self.log.writer_alive:
            self.log.refresh()  # the writer may have closed right after our last read
            new = list(self.log.records(self.delivered))
            self.delivered = len(self.log)
            self.ended = True  # writer gone: what was written is all there will be
        return new

    def follow(self, stop: threading.Event | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield records as they arrive until the writer ends or ``stop`` is set; sleeps between polls."""
        stop = stop or threading.Event()
        while not stop.is_set():
            batch = self.poll()
            yield from batch
            if self.ended:
                return
            if not batch:
                stop.wait(self.interval)

    def how_it_ended(self) -> str:
        return self.log.end_detail()
