"""Tying a job's processes to the one that started them (Linux's parent-death signal)."""
from __future__ import annotations

import ctypes
import os
import sys

_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def signal_when_parent_dies(signum: int) -> None:
    """Have the kernel send this process ``signum`` when its parent dies; sent at once when the
    parent has already died. Nothing where prctl is missing or refused (not Linux)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request was made
        os.kill(os.getpid(), signum)
