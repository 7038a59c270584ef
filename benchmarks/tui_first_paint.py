"""Time to first paint of `twb` against `python -c "import torch"`, measured the same way.

Both are started as fresh processes on a pseudo-terminal (80x24, xterm-256color); the clock
runs from spawn until the workbench has written its first full screen (the form's title is
on it) or until the import process exits. The median of several runs is reported.

    python benchmarks/tui_first_paint.py [--runs 5]
"""
from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = b"Hyperparameters"  # the form's title: in the first frame
READY_MARKER = b"vocab_size"  # the form's first field: mounted right after the first frame
TARGET_S = 0.5
# The floor on this machine: the smallest Textual app, started the same way.
MINIMAL_APP = (
    "from textual.app import App\nfrom textual.widgets import Static\n"
    "class A(App):\n    def compose(self):\n        yield Static('Hyperparameters')\nA().run()"
)


def time_in_pty(argv: list[str], marker: bytes | None, timeout: float = 60.0) -> float:
    """Seconds from spawn until ``marker`` appears on the terminal (or the process exits)."""
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24")
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(ROOT)
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:  # the process closed the terminal: it exited
                    elapsed = time.perf_counter() - start
                    break
                seen += chunk
                if marker is not None and marker in seen:
                    elapsed = time.perf_counter() - start
                    break
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done and marker is None:
                elapsed = time.perf_counter() - start
                break
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"{argv} did not finish within {timeout} s")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    twb = [python, "-c", "import sys; from tui.cli import main; sys.exit(main([]))"]
    torch = [python, "-c", "import torch"]
    time_in_pty(twb, MARKER)  # warm the file cache for both
    time_in_pty(torch, None)
    paint = statistics.median(time_in_pty(twb, MARKER) for _ in range(args.runs))
    ready = statistics.median(time_in_pty(twb, READY_MARKER) for _ in range(args.runs))
    imp = statistics.median(time_in_pty(torch, None) for _ in range(args.runs))
    floor = statistics.median(time_in_pty([python, "-c", MINIMAL_APP], MARKER) for _ in range(args.runs))
    print(f"twb first paint:            {paint:.3f} s (median of {args.runs})")
    print(f"twb form filled in:         {ready:.3f} s")
    print(f"python -c 'import torch':   {imp:.3f} s")
    print(f"minimal Textual app paint:  {floor:.3f} s (the floor on this machine now)")
    print(f"ratio first paint / torch import: {paint / imp:.2f}x")
    print(f"ratio first paint / minimal Textual app: {paint / floor:.2f}x")
    print(f"first paint under {TARGET_S} s: {'yes' if paint < TARGET_S else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
