"""The compare screen in the real `twb` under tmux, at 80x24 and at 160x48 (see tmux_smoke.py).

Three recorded sessions (a finished one, a failed one, one with no epoch); ctrl+r opens the
picker, space marks, c compares; at 80x24 v, x, s change the view, the x axis, the smoothing;
at 160x48 (a second terminal of that size) every view shows at once, and Escape comes back to
the picker with the marks kept.

    python tests/tui/tmux_compare.py [--captures DIR]   # prints what was checked
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tmux_smoke import Tmux, press_until  # noqa: E402



def write_sessions(root: Path) -> None:
    from tests.synthetic_sessions import write_synthetic_session

    write_synthetic_session(root, "alpha", epochs=3, steps_per_epoch=20, eval_every=5)
    write_synthetic_session(root, "beta", epochs=2, steps_per_epoch=20, end="failed")
    write_synthetic_session(root, "gamma", epochs=0, steps_per_epoch=20)


def open_compare(tmux: Tmux) -> str:
    """From the workbench's first screen: ctrl+r, mark the three runs, c."""
    tmux.wait_for("Hyperparameters", "Quit")
    press_until(tmux, "C-r", "compare marked")
    for _ in range(3):  # newest first: gamma, beta, alpha
        tmux.keys("Space")
        tmux.keys("Down")
    tmux.wait_for("* gamma", "* beta", "* alpha")
    tmux.keys("c")
    # The names too: under load the table was once captured before its name column had its width.
    return tmux.wait_for("Comparing 3 runs", "BEST ACC", "gamma: no epoch completed", "beta: failed",
                         "o gamma", "x beta", "+ alpha")


def run_compare(captures: Path | None = None) -> list[str]:
    checked: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="twb-compare-"))
    write_sessions(work / "sessions")
    try:
        tmux = Tmux(f"twb-compare-{os.getpid()}", work, socket=work / "tmux-80x24")
        try:
            screen = open_compare(tmux)
            assert "o gamma" in screen and "x beta" in screen and "+ alpha" in screen, screen
            assert "validation loss" not in screen, "80x24 shows one view at a time"
            checked.append("80x24: marked 3 runs, c showed the runs table with markers and the bad runs' notes")
            if captures:
                (captures / "compare-80x24-table.txt").write_text(screen)
            tmux.keys("v")
            tmux.wait_for("validation accuracy · EMA 0.6", "smoothing 0.6, debiased EMA")
            tmux.keys("x")
            tmux.wait_for("x epoch ·")
            tmux.keys("s")
            screen = tmux.wait_for("smoothing 0.9, debiased EMA", "validation accuracy · EMA 0.9")
            checked.append("80x24: v showed the validation accuracy chart; x switched to epochs; s to smoothing 0.9")
            if captures:
                (captures / "compare-80x24-chart.txt").write_text(screen)
        finally:
            tmux.close()

        tmux = Tmux(f"twb-compare-wide-{os.getpid()}", work, width=160, height=48,
                    socket=work / "tmux-160x48")  # a server per terminal: none starts on one that is exiting
        try:
            open_compare(tmux)
            screen = tmux.wait_for("validation accuracy · EMA 0.6", "validation loss · EMA 0.6",
                                   "training loss · EMA 0.6", "SAMPLES/S", "+ alpha")
            checked.append("160x48: the three charts and the runs table at once")
            if captures:
                (captures / "compare-160x48.txt").write_text(screen)
            tmux.resize(80, 24)  # one view at a time again
            deadline = time.monotonic() + 20
            while "validation loss" in tmux.screen() and time.monotonic() < deadline:
                time.sleep(0.1)
            screen = tmux.wait_for("BEST ACC", "+ alpha")
            assert "validation loss" not in screen, screen
            checked.append("resized to 80x24: back to one view at a time")
            tmux.keys("Escape")
            tmux.wait_for("* gamma", "* beta", "* alpha", "compare marked")
            checked.append("Escape returned to the picker with the three marks kept")
        finally:
            tmux.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=Path, help="folder for the screen captures")
    args = parser.parse_args()
    if args.captures:
        args.captures.mkdir(parents=True, exist_ok=True)
    for line in run_compare(args.captures):
        print("ok:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
