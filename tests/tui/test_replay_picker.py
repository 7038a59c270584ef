"""Opening a session from inside the workbench: the picker lists them, Enter replays, a attaches."""
from textual.app import App

from tests.synthetic_sessions import write_synthetic_session
from tui.session_picker import SessionPickerScreen, pick_and_open


class Host(App):
    pass


async def test_picker_lists_sessions_newest_first_and_opens_the_chosen_one(tmp_path):
    old = write_synthetic_session(tmp_path, "older", epochs=1, steps_per_epoch=2)
    new = write_synthetic_session(tmp_path, "newer", epochs=1, steps_per_epoch=2, end="failed")
    launched = []
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        pick_and_open(app, str(tmp_path), launch=lambda _app, mode, folder: launched.append((mode, folder)))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionPickerScreen)
        assert [s.name for s in screen.summaries] == ["newer", "older"]
        await pilot.press("a")
        await pilot.pause()
        pick_and_open(app, str(tmp_path), launch=lambda _app, mode, folder: launched.append((mode, folder)))
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
    assert launched == [("attach", new.folder), ("replay", old.folder)]


async def test_escape_opens_nothing(tmp_path):
    launched = []
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        pick_and_open(app, str(tmp_path), launch=lambda *a: launched.append(a))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SessionPickerScreen)
    assert launched == []
