"""The explanation view and the Q/K/V panel, opened from the attention pane, at 80x24 and 160x48."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import PRESETS
from tui.app import create_app
from tui.screens.explain import ExplainScreen
from tui.screens.qkv import QKVScreen
from tui.widgets.heatmap import AttentionHeatmap

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from explain_fixtures import train_not_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


class Snapshotting:
    def __init__(self, snap):
        self.snap = snap

    def snapshot(self):
        return self.snap


@pytest.fixture(scope="module")
def not_snapshot(tmp_path_factory):
    from core.training.checkpoint import ClassifierSnapshot, load_classifier

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # module scope: set up before the per-test one_thread
    loaded = load_classifier(train_not_model(tmp_path_factory.mktemp("not")) / "best")
    torch.set_num_threads(before)
    return ClassifierSnapshot(loaded.model, loaded.encoder, loaded.label_names, loaded.max_seq_len)


def text_of(widget) -> str:
    return str(widget.render())


async def open_attention(app, pilot, snap, sentence):
    await app.panes_ready.wait()
    app.trainer = Snapshotting(snap)
    await pilot.press("f4", *sentence, "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_x_explains_the_sentence_and_the_deciding_word_leads(not_snapshot, size):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=size) as pilot:
        await open_attention(app, pilot, not_snapshot, "the film was not long")
        await pilot.press("tab", "x")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        e = screen.explanation
        assert e is not None and e.tokens == ["the", "film", "was", "not", "long"]
        header = text_of(screen.query_one("#explain-header"))
        assert "predicts negative" in header and "integrated gradients" in header
        readout = text_of(screen.query_one("#explain-readout"))
        assert readout.splitlines()[2].startswith("  top: not +")  # the numbers, highest first
        assert "convergence delta" in readout
        shown = text_of(screen.query_one("#explain-text"))
        assert "not" in shown and "+█" in shown  # the top token gets the full bar (NO_COLOR reads it)
        assert screen.glyph_at(3) == "+█"
        assert "comprehensiveness" in text_of(screen.query_one("#explain-faith"))

        await pilot.press("m")
        assert "gradient x input" in text_of(screen.query_one("#explain-header"))
        await pilot.press("m")
        assert "attention rollout" in text_of(screen.query_one("#explain-header"))
        await pilot.press("right", "right", "right")
        assert "cursor not:" in text_of(screen.query_one("#explain-readout"))

        await pilot.press("c")  # the other class: "not" is now the evidence against
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.explanation.target == "positive"
        assert "explaining positive" in text_of(screen.query_one("#explain-header"))

        await pilot.press("escape")
        assert not isinstance(app.screen, ExplainScreen)


async def test_qkv_panel_reproduces_the_cursor_weight(not_snapshot):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_attention(app, pilot, not_snapshot, "the film was not long")
        await pilot.press("tab", "down", "down", "down", "right")  # query "not", key "film"
        heat = app.query_one(AttentionHeatmap)
        assert (heat.row, heat.col) == (3, 1)
        await pilot.press("v")
        await pilot.pause()  # the panel mounts, then its worker starts
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, QKVScreen)
        cell = app.screen.cell
        assert cell is not None, text_of(app.screen.query_one("#qkv-text"))
        shown = float(app.attention_pane.view.weights[0, 0, 3, 1])
        assert cell.weight == pytest.approx(shown, abs=1e-5)
        panel = text_of(app.screen.query_one("#qkv-text"))
        assert "the question 'not' asks" in panel and "the answer 'film' offers" in panel
        assert f"q . k = {cell.dot:+.4f}" in panel and f"weight of 'film' = {cell.weight:.4f}" in panel
        assert np.isclose(cell.dot / cell.scale, cell.scaled)
        await pilot.press("escape")
        await pilot.press("m", "v")  # the mean of heads has no Q/K/V
        assert not isinstance(app.screen, QKVScreen)
        assert "mean of heads has no single Q/K/V" in str(app.query_one("#attn-readout").render())


async def test_qkv_panel_of_a_hugging_face_bert_reproduces_the_cursor_weight(tmp_path):
    from hf_fixtures import build_bert_classifier

    folder = build_bert_classifier(tmp_path / "bert-cls")
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f4")
        app.query_one("#attn-model").value = str(folder)
        await pilot.press(*"hello world", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("tab", "down", "right", "right", "v")  # query "hello", key "world"
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, QKVScreen)
        cell = app.screen.cell
        assert cell is not None, text_of(app.screen.query_one("#qkv-text"))
        assert cell.tokens[cell.query] == "hello" and cell.tokens[cell.key] == "world"
        shown = float(app.attention_pane.view.weights[0, 0, 1, 2])
        assert cell.weight == pytest.approx(shown, abs=1e-5)
        assert f"weight of 'world' = {cell.weight:.4f} (the heatmap shows {shown:.4f})" in \
            text_of(app.screen.query_one("#qkv-text"))


async def test_explaining_without_a_model_or_a_sentence_says_what_to_do():
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("ctrl+t")
        assert "type a sentence and press Enter first" in str(app.query_one("#attn-readout").render())
        await pilot.press(*"hello", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)
        assert "no model to explain yet" in text_of(app.screen.query_one("#explain-header"))
