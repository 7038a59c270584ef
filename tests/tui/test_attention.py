"""The attention viewer: a real model's attention for a typed sentence, layer/head keys,
the readout, long inputs, causal views, and no padding."""
import pytest

from core.config import PRESETS
from tui.app import create_app
from tui.widgets.heatmap import SHADES, AttentionHeatmap
from tui_fakes import make_view


def readout(app) -> str:
    return str(app.query_one("#attn-readout").render())


@pytest.fixture(scope="module")
def nano_snapshot():
    """A ClassifierSnapshot of an untrained nano model with a word encoder (no training needed)."""
    import torch

    from core.training.checkpoint import ClassifierSnapshot
    from core.model import TransformerClassifier
    from core.data.tokenization import build_encoder

    cfg = PRESETS["nano"]
    data = cfg.data.__class__(tokenizer="word")
    encoder = build_encoder(data, cfg.model, ["a good movie", "a bad movie", "not good at all"])
    torch.manual_seed(0)
    model = TransformerClassifier(cfg.model, 2).eval()
    return ClassifierSnapshot(model, encoder, ["negative", "positive"], cfg.model.max_seq_len)


class Snapshotting:
    def __init__(self, snap):
        self.snap = snap

    def snapshot(self):
        return self.snap


async def test_typed_sentence_shows_the_models_attention_and_keys_switch_layer_and_head(nano_snapshot):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        app.trainer = Snapshotting(nano_snapshot)
        await pilot.press("f4")
        await pilot.press(*"a good movie", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = app.attention_pane.view
        assert view is not None and view.tokens == ["a", "good", "movie"]  # no padding, ever
        assert "layer 1/1 · head 1/2" in readout(app) and "predicts" in readout(app)
        heat = app.query_one(AttentionHeatmap)
        assert app.focused is app.query_one("#attn-text")  # Enter leaves the focus where the user types
        assert "attends most to: " in readout(app)  # at 80 columns too, where the side list is hidden
        assert "shade: " in str(app.query_one("#attn-legend").render())
        await pilot.press("tab")
        assert app.focused is heat  # Tab goes straight to the heatmap
        await pilot.press("h")
        assert heat.head_index == 1 and "head 2/2" in readout(app)
        await pilot.press("m")
        assert heat.head_index is None and "mean of 2 heads" in readout(app)
        await pilot.press("down", "right")
        value = float(view.weights[0].mean(axis=0)[1, 1])
        assert f"good -> good: {value:.3f}" in readout(app)
        top = str(app.query_one("#attn-top").render())
        assert top.count("->") == 3  # one line per query token


async def test_no_model_yet_says_what_to_do():
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f4", *"hello", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no model to look at yet" in readout(app) and "F6" in readout(app)


async def test_layers_wrap_and_long_inputs_scroll_under_fixed_labels():
    tokens = [f"t{i}" for i in range(60)]
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f4")
        app.attention_pane.show_view(make_view(tokens, layers=3, heads=4))
        heat = app.query_one(AttentionHeatmap)
        heat.focus()
        await pilot.pause()
        await pilot.press("L")
        assert heat.layer_index == 2 and "layer 3/3" in readout(app)
        await pilot.press("end", "right", "right")
        await pilot.pause()
        assert heat.row == 59
        lines = [heat.render_line(y).text for y in range(heat.size.height)]
        assert any(line.strip().startswith("t59") for line in lines)  # the cursor row is on screen
        assert not any(line.strip().startswith("t0 ") for line in lines[heat._header_height:])


async def test_causal_view_leaves_future_cells_blank():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f4")
        app.attention_pane.show_view(make_view(["the", "cat", "sat"], causal=True))
        heat = app.query_one(AttentionHeatmap)
        await pilot.pause()
        first_row = heat.render_line(heat._header_height).text  # query 'the'
        cells = first_row[heat._label_width:]
        assert cells[0:2] in SHADES and cells[3:5] == "  " and cells[6:8] == "  "
        heat.focus()
        await pilot.press("right")
        assert "cannot attend to the later cat" in readout(app)


async def test_special_and_blank_tokens_are_named_and_the_shade_scale_explained():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f4")
        app.attention_pane.show_view(make_view(["[CLS]", "", " ", "cat"]))
        heat = app.query_one(AttentionHeatmap)
        heat.focus()
        await pilot.pause()
        shown = readout(app)
        assert "''" not in shown and "[CLS] attends most to: " in shown
        labels = [heat.render_line(y).text[:heat._label_width].strip() for y in range(heat._header_height, heat._header_height + 4)]
        assert labels == ["[CLS]", "∅", "␣", "cat"]
        legend = str(app.query_one("#attn-legend").render())
        peak = float(heat._matrix.max())
        assert all(shade in legend for shade in SHADES) and f"{peak:.2f}" in legend
