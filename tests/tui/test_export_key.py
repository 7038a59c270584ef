"""F9 exports the run's classifier as a Hugging Face model folder, and the console lists it."""
from pathlib import Path

from core.config import PRESETS
from tui.app import create_app
from tui.screens.dialogs import PromptScreen


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_export_without_a_run_says_to_train_first():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f9")
        assert not isinstance(app.screen, PromptScreen)
        assert any("train (F6) or resume" in n for n in notices(app)), notices(app)
        await pilot.press("f1")  # the key is listed in the help, with the other global keys
        assert "f9                    Export" in str(app.screen.query_one("#help-text").render())


async def test_f9_exports_the_trained_model_and_the_console_lists_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWB_DATA_DIR", str(tmp_path / "data"))
    app = create_app(PRESETS["nano"], out_dir=tmp_path / "run1", install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "finished", app.log_pane.lines
        assert app.checkpoints.to_export() == str(tmp_path / "run1" / "best")

        await pilot.press("f9")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one("#prompt-input").value == str(Path("exports") / "run1")
        await pilot.press("enter")
        await app.workers.wait_for_complete()  # the export, which starts the console's model listing
        await app.workers.wait_for_complete()
        await pilot.pause()
        exported = tmp_path / "exports" / "run1"
        assert (exported / "config.json").is_file() and (exported / "model.safetensors").is_file()
        assert any(str(exported) in n for n in notices(app)), notices(app)
        assert str(exported.resolve()) in app.console_pane.models
        assert any(str(exported) in line for line in app.console_pane.transcript)  # listed where it is read

        # A folder that holds something else is refused with the engine's message, not a traceback.
        (tmp_path / "taken").mkdir()
        (tmp_path / "taken" / "notes.txt").write_text("mine")
        await pilot.press("f9")
        prompt = app.screen.query_one("#prompt-input")
        prompt.value = "taken"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("is not empty and is not an earlier export" in n for n in notices(app)), notices(app)
        assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
        assert app.is_running
