"""Key press to screen update while training at full speed, against the same app idle.

The real `twb` runs on a pseudo-terminal (100x30, xterm-256color) in a scratch folder. The
script loads a long training config (ctrl+o), starts it (F6), moves to the attention pane (F4)
and types letters into its sentence field; each letter's latency runs from writing the key to
the terminal until the app has written that letter back to the screen. The same is measured
before training starts (idle baseline). The run is then stopped with SIGTERM.

    python benchmarks/tui_key_latency.py [--keys 60]
"""
from __future__ import annotations

import argparse
import fcntl
import os
import pty
import random
import re
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_P95_MS = 100.0
ANSI_CSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
F4, F6, CTRL_O, CTRL_U = b"\x1bOS", b"\x1b[17~", b"\x0f", b"\x15"


class Terminal:
    def __init__(self, workdir: Path) -> None:
        code = "import sys; from tui.cli import main; sys.exit(main([]))"
        # Sessions (and the checkpoints of their runs) go into workdir, not the user's folder.
        env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(ROOT), TWB_SESSIONS_DIR=str(workdir / "sessions"))
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(workdir)
            os.execvpe(sys.executable, [sys.executable, "-c", code], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.seen = b""

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except OSError:
            return b""
        self.seen = (self.seen + chunk)[-200_000:]
        return chunk

    def wait_for(self, marker: bytes, timeout: float = 60.0, fresh: bool = True) -> None:
        deadline = time.monotonic() + timeout
        if fresh:
            self.seen = b""
        # Escape sequences are taken out first: the cursor's style can split a word on screen.
        while marker not in ANSI_CSI.sub(b"", self.seen):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{marker!r} did not appear on the terminal")
            self.read(0.05)

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def drain(self, quiet_s: float = 0.05) -> None:
        while self.read(quiet_s):
            pass

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                self.read(0.1)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def measure(term: Terminal, count: int, rng: random.Random) -> list[float]:
    """Type ``count`` letters; latency (ms) of each until its echo reaches the terminal."""
    latencies = []
    typed = ""
    for i in range(count):
        if len(typed) >= 24:  # keep the text inside the field (not timed)
            term.send(CTRL_U)
            term.drain()
            typed = ""
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        typed += letter
        tail = typed[-4:].encode()
        term.drain(0.0)
        term.seen = b""
        start = time.perf_counter()
        term.send(letter.encode())
        while True:
            term.read(0.5)
            # The field is redrawn as one run of text; the newest letters end it.
            if tail in term.seen.replace(b"\x1b[0m", b""):
                break
            if time.perf_counter() - start > 5:
                raise RuntimeError(f"no echo for {letter!r} within 5 s")
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(rng.uniform(0.05, 0.15))  # a person types a few keys a second
    return latencies


def summary(name: str, values: list[float]) -> str:
    p95 = statistics.quantiles(values, n=20)[-1]
    return f"{name}: p50 {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, max {max(values):.1f} ms ({len(values)} keys)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=60)
    args = parser.parse_args()
    from core.config import PRESETS, save_toml, with_field

    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        config = with_field(with_field(PRESETS["default"], "train.epochs", 500), "train.log_every_steps", 5)
        save_toml(config, work_path / "long.toml")
        term = Terminal(work_path)
        try:
            term.wait_for(b"vocab_size")
            term.drain(0.5)
            term.send(F4)
            term.wait_for(b"sentence to inspect")
            term.drain(0.3)
            idle = measure(term, args.keys, rng)

            term.send(CTRL_O)
            term.wait_for(b"Load a TOML")
            term.drain(0.3)
            for attempt in range(5):  # keys sent while the dialog takes focus can be missed
                term.send(CTRL_U)
                term.drain(0.1)
                term.seen = b""
                term.send(str(work_path / "long.toml").encode())
                try:
                    term.wait_for(b"long.toml", timeout=2, fresh=False)
                    break
                except RuntimeError:
                    continue
            term.send(b"\r")
            term.wait_for(b"Loaded")
            term.send(F6)
            term.wait_for(b"samples/s", timeout=120)  # training is running at full speed
            term.send(F4)
            term.drain(0.5)
            term.send(CTRL_U)  # the sentence field still holds the idle run's letters
            term.wait_for(b"sentence to inspect")
            term.drain(0.3)
            busy = measure(term, args.keys, rng)
            still_training = not list(work_path.glob("sessions/*/checkpoints/interrupt"))
        finally:
            term.close()
        interrupted = list(work_path.glob("sessions/*/checkpoints/interrupt/state.json"))
    print(summary("idle               ", idle))
    print(summary("while training     ", busy))
    p95 = statistics.quantiles(busy, n=20)[-1]
    print(f"p95 while training / p95 idle: {p95 / statistics.quantiles(idle, n=20)[-1]:.2f}x")
    print(f"p95 under {TARGET_P95_MS:.0f} ms while training: {'yes' if p95 < TARGET_P95_MS else 'NO'}")
    print(f"training ran throughout: {'yes' if still_training else 'NO'}; "
          f"SIGTERM left an interrupt checkpoint: {'yes' if interrupted else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
