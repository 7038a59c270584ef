"""A backbone fine-tuned in the workbench: the attention pane shows its own tokens and named
labels, and its session replays the run, the form and the view."""
import re

import pytest

from core.config import apply_overrides, preset
from core.sessions import SessionLog
from core.sessions.listing import list_sessions
from tui.app import create_app
from tui.replay import replay_app

pytestmark = pytest.mark.usefixtures("one_thread")


async def test_the_pane_shows_the_fine_tuned_backbone_and_the_session_replays_it(backbone, sessions_dir):
    config = apply_overrides(preset("nano"), [f"model.backbone={backbone}", "data.num_samples=200",
                                              "train.epochs=1", "train.lr=1e-3"])
    app = create_app(config, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "finished", app.log_pane.lines
        epoch_line = next(line for line in app.log_pane.lines if line.startswith("Epoch 1/1"))
        await pilot.press("f4", *"the acting was charming", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = app.attention_pane.view
        assert view is not None, app.attention_pane.error
        assert view.tokens == ["[CLS]", "the", "acting", "was", "charming", "[SEP]"]
        readout = str(app.query_one("#attn-readout").render())
        assert "layer 1/2 · head 1/2" in readout, readout  # the tiny BERT's layers and heads
        assert re.search(r"predicts (negative|positive) \(", readout), readout
        assert "[CLS] attends most to: " in readout  # special tokens are shown, named as text

    run, explore = list_sessions(sessions_dir)
    assert run.status == "finished"
    replay = replay_app(SessionLog.open(run.folder), install_signal_handlers=False)
    async with replay.run_test(size=(80, 24)) as pilot:
        await replay.controller.opened.wait()
        await replay.panes_ready.wait()
        await pilot.pause()
        assert replay.form.config.model.backbone == str(backbone)
        await replay.workers.wait_for_complete()
        await pilot.pause()
        assert replay.query_one("#f-model-emb_dim").value == "32"  # the backbone's width, as it trained
        assert epoch_line in replay.log_pane.lines  # the same numbers as the live run
    replay = replay_app(SessionLog.open(explore.folder), install_signal_handlers=False)
    async with replay.run_test(size=(80, 24)) as pilot:
        await replay.controller.opened.wait()
        await replay.panes_ready.wait()
        await pilot.pause()
        shown = replay.attention_pane.view
        assert shown.tokens == view.tokens and shown.prediction == pytest.approx(view.prediction)
