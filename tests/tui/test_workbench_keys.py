"""What a person sees of the keys: readable names in the help, presets in the palette, a session
picker that fits at 80x24, Ctrl+S that asks before replacing a file, nothing behind the too-small notice."""
from core.config import PRESETS, load_toml, save_toml, with_field
from tests.synthetic_sessions import write_synthetic_session
from tui.app import create_app
from tui.screens.dialogs import ConfirmScreen, PromptScreen
from tui.session_picker import SessionPickerScreen
from tui_fakes import last_trainer


async def test_help_names_keys_as_they_are_typed():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f1")
        text = str(app.screen.query_one("#help-text").render())
        assert " f1 / ?" in text
        assert "question_mark" not in text and "full_stop" not in text


async def test_the_palette_picks_a_preset():
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {f"Preset: {name}" for name in PRESETS} <= set(commands)
        app.call_later(commands["Preset: nano"].callback)  # as the palette runs it
        await pilot.pause()
        assert app.form.config == PRESETS["nano"]
        assert app.query_one("#preset").value == "nano"


async def test_the_session_picker_is_centred_and_fits_80x24(sessions_dir):
    for i in range(25):  # more than fit: the list scrolls instead of running off the screen
        write_synthetic_session(sessions_dir, f"a-rather-long-session-name-{i}", epochs=1, steps_per_epoch=2)
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, SessionPickerScreen)
        box = app.screen.query_one("#session-dialog").region
        assert box.x >= 0 and box.y >= 0 and box.right <= 80 and box.bottom <= 24
        assert abs(box.x - (80 - box.right)) <= 1 and abs(box.y - (24 - box.bottom)) <= 1
        options = app.screen.query_one("#session-list")
        width = options.scrollable_content_region.width
        rows = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert rows and all(len(row) <= width for row in rows), (width, max(map(len, rows)))


async def test_ctrl_s_asks_before_replacing_a_file(tmp_path):
    path = tmp_path / "mine.toml"
    save_toml(with_field(PRESETS["nano"], "train.epochs", 9), path)
    app = create_app(PRESETS["nano"], install_signal_handlers=False, config_path=str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("ctrl+s", "enter")
        assert isinstance(app.screen, ConfirmScreen) and str(path) in str(app.screen.question)
        await pilot.press("n")
        assert load_toml(path).train.epochs == 9  # kept
        await pilot.press("ctrl+s", "enter", "y")
        await pilot.pause()
        assert load_toml(path).train.epochs == PRESETS["nano"].train.epochs


async def test_nothing_starts_behind_the_too_small_notice(holding_factory):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(50, 15)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6", "ctrl+s", "f9")
        await pilot.pause()
        assert app.training_worker is None and not isinstance(app.screen, PromptScreen)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        assert app.training
        last_trainer().cancel()
        await app.workers.wait_for_complete()
