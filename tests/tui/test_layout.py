"""Layout and keys: one pane at a time at 80x24, all at 160x48, a notice below the minimum,
F2-F5 move between panes, F1 lists the keys, the palette offers every action."""
from tui.app import create_app
from tui.screens.help import HelpScreen

PANES = ("hyperparams", "training", "attention", "console")


def visible(app) -> list[str]:
    return [p for p in PANES if app.query_one(f"#{p}").display and app.query_one(f"#{p}").region.area > 0]


async def test_80x24_shows_one_pane_and_function_keys_switch_it():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.pause()
        assert visible(app) == ["hyperparams"]
        for key, pane in zip(("f3", "f4", "f5", "f2"), ("training", "attention", "console", "hyperparams")):
            await pilot.press(key)
            await pilot.pause()
            assert visible(app) == [pane]
            assert pane in [a.id for a in app.focused.ancestors]  # focus moved into the pane


async def test_160x48_shows_every_pane():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.panes_ready.wait()
        await pilot.pause()
        assert visible(app) == list(PANES)


async def test_below_the_minimum_size_a_notice_says_so():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(50, 15)) as pilot:
        await app.panes_ready.wait()
        await pilot.pause()
        notice = app.query_one("#too-small")
        assert notice.display and "too small" in str(notice.render())
        assert not app.query_one("#panes").display


async def test_f1_lists_every_global_key_and_escape_closes_it():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for key in ("f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "ctrl+s", "ctrl+o", "ctrl+q", "ctrl+p"):
            assert f" {key} " in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_every_action():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for name in ("Help (f1)", "Train (f6)", "Cancel (f7)", "Resume (f8)", "Save (ctrl+s)", "Load (ctrl+o)",
                     "Attention (f4)", "Pipelines (f5)"):
            assert name in titles, titles
