"""The explanation view and the errors browser in the real `twb`, in tmux, keys only.

Train nano (F6), type a sentence in the attention pane (F4), Tab into the heatmap, x: the
explanation view; Escape, v: the Q/K/V panel; Escape; ctrl+g: the errors browser; at 80x24. Reuses the
terminal driver of tmux_smoke.py.

    python tests/tui/tmux_explain_smoke.py
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tmux_smoke import Tmux, press_until, type_into_focused, write_config


def close_screen(tmux: Tmux, gone: str) -> None:
    tmux.keys("Escape")
    # An Escape followed at once by another key reads as Alt+key: wait for the screen to close.
    deadline = time.monotonic() + 30
    while gone in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone not in tmux.screen(), f"Escape did not close the screen showing {gone!r}"


def load_config(tmux: Tmux, path: Path, tries: int = 3) -> None:
    """ctrl+o, the path, Enter; again when a busy machine let the field's clearing key arrive
    before the field had focus (its old value then prefixes the path and the load fails)."""
    for attempt in range(tries):
        press_until(tmux, "C-o", "Load a TOML configuration")
        type_into_focused(tmux, str(path), shown=path.name)
        tmux.keys("Enter")
        try:
            tmux.wait_for("Loaded", timeout=10)
            return
        except AssertionError:
            if attempt == tries - 1:
                raise


def submit_sentence(tmux: Tmux, text: str, tries: int = 3) -> None:
    for attempt in range(tries):
        type_into_focused(tmux, text, shown=text)
        tmux.keys("Enter")
        try:
            tmux.wait_for("layer 1/1", "attends most to", timeout=15)
            return
        except AssertionError:  # the keys reached the field before it had focus
            if attempt == tries - 1:
                raise


def run_explain_smoke() -> list[str]:
    checked: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="twb-explain-smoke-"))
    config = work / "nano.toml"
    write_config(config, 2)
    tmux = Tmux(f"twb-explain-{os.getpid()}", work)
    try:
        tmux.wait_for("Hyperparameters", "Quit", "vocab_size")
        load_config(tmux, config)
        tmux.keys("F6")
        tmux.wait_for("Training finished", timeout=120)
        for width, height in ((80, 24),):  # 160x48: the Pilot tests (tests/tui/test_explain_view.py)
            press_until(tmux, "F4", "model: empty")  # the model field: empty, so its placeholder shows
            submit_sentence(tmux, "the movie was not good")
            tmux.keys("Tab")
            time.sleep(0.3)
            screen = press_until(tmux, "x", "convergence delta")
            assert "predicts" in screen and "integrated gradients" in screen and "+" in screen, screen
            tmux.wait_for("comprehensiveness")
            checked.append(f"x: the explanation view at {width}x{height}")
            close_screen(tmux, "convergence delta")
            screen = press_until(tmux, "v", "the question")
            assert "q . k =" in screen and "sqrt(d)" in screen, screen
            checked.append(f"v: the Q/K/V panel at {width}x{height}")
            close_screen(tmux, "the question")
            screen = press_until(tmux, "C-g", "validation examples misclassified")
            assert "true\\pred" in screen, screen
            checked.append(f"ctrl+g: the errors browser at {width}x{height}")
            close_screen(tmux, "validation examples misclassified")
        tmux.keys("C-q")
        assert tmux.exit_code() == 0
        return checked
    finally:
        tmux.close()


if __name__ == "__main__":
    for line in run_explain_smoke():
        print("ok:", line)
