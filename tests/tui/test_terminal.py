"""A terminal that goes away must not hang the workbench (tui.terminal, tui.signals)."""
import signal
import threading

import pytest

from textual.drivers._writer_thread import WriterThread

from tui.signals import exit_code
from tui.terminal import safe_driver_class

# The output thread dies on the gone terminal, as it does for real; that is the point here.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


class GoneTerminal:
    """What a hung-up terminal does: every write fails with EIO."""

    def write(self, text):
        raise OSError(5, "Input/output error")

    def flush(self):
        raise OSError(5, "Input/output error")

    def fileno(self):
        return 1


class PosixLikeDriver:
    """The part of Textual's LinuxDriver the safe driver builds on."""

    def __init__(self):
        self._writer_thread = WriterThread(GoneTerminal())
        self._writer_thread.start()

    def write(self, data):
        self._writer_thread.write(data)

    def _disable_mouse_support(self):
        pass


def writes_finish(driver, count=200, timeout=10.0) -> bool:
    done = threading.Event()

    def write_all():
        for i in range(count):  # far more than the output thread's queue holds
            driver.write(f"frame {i}")
        done.set()

    threading.Thread(target=write_all, daemon=True).start()
    return done.wait(timeout)


def test_writes_to_a_terminal_that_is_gone_never_block():
    driver = safe_driver_class(PosixLikeDriver)()
    assert writes_finish(driver)
    assert driver.terminal_lost


def test_textual_driver_alone_blocks_there():
    # The failure the safe driver exists for; if Textual ever fixes it, this tells us.
    assert not writes_finish(PosixLikeDriver(), timeout=2.0)


def test_exit_codes_follow_the_shell_convention():
    assert exit_code(signal.SIGHUP) == 129 and exit_code(signal.SIGTERM) == 143
