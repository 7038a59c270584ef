"""The compare screen in the real `twb` under tmux, at 80x24 and at 160x48 (see tmux_smoke.py).

Three recorded sessions (a finished one, a failed one, one with no epoch); ctrl+r opens the
picker, space marks, c compares; v, x, s change the view, the x axis, the smoothing; Escape
comes back to the picker with the marks kept.

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


def run_compare(captures: Path | None = None) -> list[str]:
    checked: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="twb-compare-"))
    write_sessions(work / "sessions")
    tmux = Tmux(f"twb-compare-{os.getpid()}", work)
    try:
        tmux.wait_for("Hyperparameters", "Quit")
        press_until(tmux, "C-r", "compare marked")
        for _ in range(3):  # newest first: gamma, beta, alpha
            tmux.keys("Space")
            tmux.keys("Down")
        screen = tmux.wait_for("* gamma", "* beta", "* alpha")
        tmux.keys("c")
        screen = tmux.wait_for("Comparing 3 runs", "BEST ACC", "gamma: no epoch completed", "beta: failed")
        assert "o gamma" in screen and "x beta" in screen and "+ alpha" in screen, screen
        checked.append("80x24: marked 3 runs, c showed the runs table with markers and the bad runs' notes")
        if captures:
            (captures / "compare-80x24-table.txt").write_text(screen)
        tmux.keys("v")
        screen = tmux.wait_for("validation accuracy · EMA 0.6", "smoothing 0.6, debiased EMA")
        tmux.keys("x")
        screen = tmux.wait_for("x epoch ·")
        tmux.keys("s")
        screen = tmux.wait_for("smoothing 0.9, debiased EMA", "validation accuracy · EMA 0.9")
        checked.append("80x24: v showed the validation accuracy chart; x switched to epochs; s to smoothing 0.9")
        if captures:
            (captures / "compare-80x24-chart.txt").write_text(screen)

        tmux.resize(160, 48)
        screen = tmux.wait_for("validation accuracy", "validation loss", "training loss", "SAMPLES/S")
        checked.append("160x48: the three charts and the runs table at once")
        if captures:
            time.sleep(0.5)
            (captures / "compare-160x48.txt").write_text(tmux.screen())

        tmux.keys("Escape")
        tmux.wait_for("* gamma", "* beta", "* alpha", "compare marked")
        checked.append("Escape returned to the picker with the three marks kept")
    finally:
        tmux.close()
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
