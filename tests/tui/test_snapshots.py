"""Snapshots of the main screen at 80x24 (one pane, tabs) and 160x48 (all panes).

Nothing time-dependent is on screen in this state (no run, no timings, cursor blink off); the pipeline catalogue
is pinned so the snapshot does not depend on which models this machine has.
"""
import pytest

from core.config import PRESETS
from tui import pipelines_adapter
from tui.app import create_app


@pytest.fixture
def pinned_catalogue(monkeypatch):
    monkeypatch.setattr(pipelines_adapter, "local_models", lambda: [])


async def settle(pilot) -> None:
    from textual.widgets import Input

    app = pilot.app
    await app.panes_ready.wait()
    await app.form.built.wait()
    await app.workers.wait_for_complete()
    for widget in app.query(Input):  # a blinking cursor would make the snapshot depend on timing
        widget.cursor_blink = False
    await pilot.pause()


def test_main_screen_80x24(snap_compare, pinned_catalogue):
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_main_screen_160x48(snap_compare, pinned_catalogue):
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    assert snap_compare(app, terminal_size=(160, 48), run_before=settle)
