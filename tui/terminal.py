"""The terminal driver, made safe for a terminal that goes away (SSH drop, tmux kill-session).

Textual writes through an output thread with a bounded queue. When the terminal is gone the
thread dies on its first write and the queue fills; the next write then blocks the main thread
for ever, signal handlers included. This driver discards output once the terminal is lost,
either told so (``lose_terminal``, on SIGHUP) or seen (the output thread has died).
"""
from __future__ import annotations

import os
import queue
from typing import Any

PUT_TIMEOUT_S = 0.2  # how often a write blocked on a full queue checks that the thread still lives


def lose_terminal(driver: Any) -> None:
    """Nothing more reaches the terminal: output is discarded, stdout/stderr go to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
    os.close(devnull)
    if driver is None:
        return
    driver.terminal_lost = True
    exit_event = getattr(driver, "exit_event", None)
    if exit_event is not None:  # stop the input thread: a hung-up terminal reads as endless EOF
        exit_event.set()


def safe_driver_class(base: type) -> type:
    """``base`` (Textual's driver for this platform) with writes that never block on a dead terminal."""
    if not hasattr(base, "_disable_mouse_support"):  # not the POSIX terminal driver: leave it alone
        return base

    class TerminalDriver(base):  # type: ignore[misc, valid-type]
        terminal_lost = False

        def write(self, data: str) -> None:
            if self.terminal_lost:
                return
            writer = getattr(self, "_writer_thread", None)
            pending = getattr(writer, "_queue", None)
            if writer is None or pending is None:
                super().write(data)
                return
            while True:
                if not writer.is_alive():  # it died writing to a terminal that is gone
                    self.terminal_lost = True
                    return
                try:
                    pending.put(data, timeout=PUT_TIMEOUT_S)
                    return
                except queue.Full:
                    continue

    TerminalDriver.__name__ = TerminalDriver.__qualname__ = f"Safe{base.__name__}"
    return TerminalDriver
