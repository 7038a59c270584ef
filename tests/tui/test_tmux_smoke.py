"""The real `twb` in tmux, driven by keys (see tmux_smoke.py); skipped where tmux is missing."""
import shutil

import pytest

from tmux_smoke import run_smoke


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux)")
def test_twb_in_tmux_trains_shows_attention_and_exits_on_sigterm_and_sighup():
    checked = run_smoke()
    assert len(checked) == 7


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux)")
def test_compare_screen_in_tmux_at_80x24_and_160x48():
    from tmux_compare import run_compare

    checked = run_compare()
    assert len(checked) == 5


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux)")
def test_twb_in_tmux_explains_shows_qkv_and_lists_errors():
    from tmux_explain_smoke import run_explain_smoke

    assert len(run_explain_smoke()) == 3
