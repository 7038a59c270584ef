"""The attention pane on a backbone fine-tuned in the workbench: its own tokens, named labels."""
import re

import pytest

from core.config import apply_overrides, preset
from tui.app import create_app

pytestmark = pytest.mark.usefixtures("one_thread")


async def test_the_pane_shows_the_fine_tuned_backbones_tokens_and_labels(tiny_backbone, tmp_path):
    config = apply_overrides(preset("nano"), [f"model.backbone={tiny_backbone}", "data.num_samples=200",
                                              "train.epochs=1", "train.lr=1e-3"])
    app = create_app(config, out_dir=tmp_path / "run", install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "finished", app.log_pane.lines
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
