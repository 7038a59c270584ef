"""SIGHUP and SIGTERM in the workbench: save the run, then leave with 128 + the signal.

SIGHUP means the terminal is gone (the SSH connection dropped, the tmux session was killed):
from then on nothing is written to it (``tui.terminal.lose_terminal``). Either signal
interrupts a running training (an "interrupt" checkpoint, resumable), closes the sessions and
exits with the shell's code for the signal: 129 for SIGHUP, 143 for SIGTERM.

A watchdog makes the exit certain: if the process is still alive well after the checkpoint
could have been written, it leaves with the same code. A second signal leaves at once.
"""
from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any, Callable

from tui.terminal import lose_terminal

HANDLED = (signal.SIGTERM, signal.SIGHUP)


def exit_code(signum: int) -> int:
    """The shell's convention: 128 + the signal number (SIGHUP 129, SIGTERM 143)."""
    return 128 + int(signum)


class SignalExit:
    """``begin_exit(code)`` starts the app's interrupt-save-exit; it runs on the event loop."""

    def __init__(self, get_driver: Callable[[], Any], begin_exit: Callable[[int], None], watchdog_s: float) -> None:
        self.get_driver = get_driver
        self.begin_exit = begin_exit
        self.watchdog_s = watchdog_s
        self.signum: int | None = None  # the first signal received

    @property
    def code(self) -> int | None:
        return exit_code(self.signum) if self.signum is not None else None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in HANDLED:
            try:
                loop.add_signal_handler(sig, self.handle, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / platform
                pass

    def handle(self, signum: int) -> None:
        if self.signum is not None:  # asked again while saving: leave now
            os._exit(exit_code(self.signum))
        self.signum = signum
        if signum == signal.SIGHUP:
            lose_terminal(self.get_driver())
        code = exit_code(signum)
        threading.Thread(target=self._watchdog, args=(code,), daemon=True, name="twb-exit-watchdog").start()
        self.begin_exit(code)

    def _watchdog(self, code: int) -> None:
        # The app normally exits long before this; the daemon thread dies with the process.
        threading.Event().wait(self.watchdog_s)
        os._exit(code)
