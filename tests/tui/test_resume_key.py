"""F8 offers the current run's checkpoint and resumes with the checkpoint's own settings."""
import asyncio
import json

from core import events as ev
from core.config import PRESETS, to_dict, with_field
from core.training.checkpoint import FORMAT_VERSION, STATE_FILE
from tui.app import create_app
from tui.screens.dialogs import PromptScreen

from tui_fakes import last_trainer, wait_started


async def test_f8_offers_this_runs_checkpoint_not_an_earlier_runs(holding_factory):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        app.feed(ev.CheckpointSaved(path="/tmp/earlier-run/last", kind="last", epoch=1, step=4))
        await pilot.press("f6")  # a new run, cancelled before it saved anything
        assert await asyncio.to_thread(wait_started)
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f8")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one("#prompt-input").value == ""
        await pilot.press("escape")

        await pilot.press("f6")  # this run is interrupted: its checkpoint is the one offered
        assert await asyncio.to_thread(wait_started)
        await app.stop_training(interrupt=True)
        await pilot.pause()
        await pilot.press("f8")
        assert app.screen.query_one("#prompt-input").value == "/tmp/run/interrupt"


async def test_resume_uses_the_checkpoints_settings_not_the_forms(holding_factory, tmp_path):
    saved = with_field(with_field(PRESETS["nano"], "model.emb_dim", 32), "train.epochs", 7)
    folder = tmp_path / "run" / "last"
    folder.mkdir(parents=True)
    (folder / STATE_FILE).write_text(json.dumps({"format": FORMAT_VERSION, "config": to_dict(saved), "step": 4,
                                                "label_names": ["negative", "positive"]}))
    app = create_app(PRESETS["default"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await app.form.built.wait()
        await pilot.press("f8")
        app.screen.query_one("#prompt-input").value = str(folder)
        await pilot.press("enter")
        assert await asyncio.to_thread(wait_started)
        await pilot.pause()
        trainer = last_trainer()
        assert trainer.config == saved and trainer.resume_from == str(folder)
        assert app.form.config == saved  # the form shows what the run really uses
        trainer.cancel()
        await app.workers.wait_for_complete()
