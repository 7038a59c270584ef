"""The attention pane's model view (every layer x head; arrows, Enter, Escape) at 80x24 and
160x48, and the save-image keys of the attention and training panes."""
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core.attention import token_label
from tui.app import create_app
from tui.screens.dialogs import PromptScreen
from tui.widgets.heatmap import PALETTE, AttentionHeatmap
from tui.widgets.model_grid import ModelGrid, shrink
from tui_fakes import make_view, scripted_run

pytest.importorskip("matplotlib")
TOKENS = [f"w{i}" for i in range(20)]


def readout(app) -> str:
    return str(app.query_one("#attn-readout").render())


def recorded_notices(app) -> list[str]:
    """Every notification from now on (a shown one expires after seconds: a slow test misses it)."""
    seen: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        seen.append(str(message))
        return notify(message, *args, **kwargs)
    app.notify = recording
    return seen


async def open_view(app, pilot, view):
    await app.panes_ready.wait()
    await pilot.press("f4")
    app.attention_pane.show_view(view)
    app.query_one(AttentionHeatmap).focus()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_model_view_picks_a_head_with_arrows_and_opens_it_full_size(size):
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=size) as pilot:
        await open_view(app, pilot, make_view(TOKENS, layers=6, heads=12))
        heat, grid = app.query_one(AttentionHeatmap), app.query_one(ModelGrid)
        await pilot.press("g")
        assert grid.display and not heat.display and app.focused is grid
        assert "model view" in readout(app) and "layer 1/6 · head 1/12" in readout(app)
        await pilot.press(*["down"] * 5, *["right"] * 11)  # to the last layer's last head
        assert (grid.layer_index, grid.head_index) == (5, 11) and "layer 6/6 · head 12/12" in readout(app)
        lines = [grid.render_line(y).text for y in range(grid.size.height)]
        assert "H12" in lines[0] and any(line.startswith("L6") for line in lines)  # in sight, scrolled if need be
        if size == (160, 48):  # the whole 6 x 12 grid fits
            assert "H1 " in lines[0] and any(line.startswith("L1") for line in lines)
        await pilot.press("up", "left", "enter")
        assert heat.display and not grid.display and app.focused is heat
        assert (heat.layer_index, heat.head_index) == (4, 10) and "layer 5/6 · head 11/12" in readout(app)
        await pilot.press("g", "right", "escape")  # Escape goes back without changing the head
        assert heat.display and (heat.layer_index, heat.head_index) == (4, 10)
        assert "layer 5/6 · head 11/12" in readout(app)
        await pilot.press("g", "f3")  # another pane: the model view does not stay over it
        await pilot.pause()
        assert not grid.display and app.screen.maximized is None


async def test_model_view_cells_shade_like_the_heatmap():
    view = make_view(TOKENS, layers=2, heads=3)
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_view(app, pilot, view)
        await pilot.press("g")
        grid = app.query_one(ModelGrid)
        strip = grid.render_line(1)  # the first pixel row of layer 1
        colours = {seg.style.color.name for seg in strip if seg.style and seg.style.color and seg.text in "·░▒▓█"}
        assert colours and colours <= {c.lower() for c in PALETTE}
        small = shrink(view.weights[0, 0], 4, 6)
        assert small.shape == (4, 6) and small.max() == view.weights[0, 0].max()  # block max keeps the peak


async def test_no_view_yet_says_so_for_both_keys():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f4")
        app.query_one(AttentionHeatmap).focus()
        await pilot.press("g")
        assert "no attention view yet" in readout(app)
        await pilot.press("s")
        assert "no attention view to save yet" in readout(app) and not isinstance(app.screen, PromptScreen)


async def test_s_saves_the_view_with_its_labels_and_a_bad_folder_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tokens = ["[CLS]", "a", "$", " ", "movie"]
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        notices = recorded_notices(app)
        await open_view(app, pilot, make_view(tokens))
        await pilot.press("h", "down", "right", "s")
        assert isinstance(app.screen, PromptScreen)
        default = app.screen.query_one("#prompt-input").value
        assert default.startswith(str(Path("exports") / "attention-layer1-head2-")) and default.endswith(".svg")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        written = tmp_path / default
        assert app.attention_pane.images.last_saved == written.resolve()
        assert any(str(written.resolve()) in n for n in notices)
        texts = ["".join(t.itertext()) for t in ET.parse(written).getroot().iter("{http://www.w3.org/2000/svg}text")]
        assert all(token_label(t) in texts for t in tokens)
        assert any("cursor: a -> a" in t for t in texts)  # the cursor cell, as on screen

        await pilot.press("s")
        app.screen.query_one("#prompt-input").value = "nowhere/view.png"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "does not exist" in app.attention_pane.images.last_error
        assert "\n" not in app.attention_pane.images.last_error
        assert not (tmp_path / "nowhere").exists() and app.attention_pane.view is not None  # nothing lost


async def test_s_in_the_model_view_saves_the_grid_as_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_view(app, pilot, make_view(TOKENS, layers=2, heads=3))
        await pilot.press("g", "s")
        assert "attention-grid-" in app.screen.query_one("#prompt-input").value
        app.screen.query_one("#prompt-input").value = "grid.png"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert app.focused is app.query_one(ModelGrid)  # still in the model view


async def test_s_in_the_training_pane_saves_the_curves(tmp_path, monkeypatch, nano):
    monkeypatch.chdir(tmp_path)
    app = create_app(nano, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        notices = recorded_notices(app)
        await app.panes_ready.wait()
        await pilot.press("f3")
        app.query_one("#train-log").focus()
        await pilot.pause()
        await pilot.press("s")
        assert not isinstance(app.screen, PromptScreen) and any("No curves yet" in n for n in notices)
        app.feed_all(scripted_run(nano))
        await pilot.pause()
        await pilot.press("s")
        assert app.screen.query_one("#prompt-input").value.startswith(str(Path("exports") / "curves-"))
        app.screen.query_one("#prompt-input").value = "curves.svg"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        texts = ["".join(t.itertext()) for t in
                 ET.parse(tmp_path / "curves.svg").getroot().iter("{http://www.w3.org/2000/svg}text")]
        assert {"train loss", "val loss", "val accuracy", "training on cpu"} <= set(texts)


async def test_the_help_lists_the_image_and_model_view_keys():
    app = create_app(install_signal_handlers=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f1")
        text = str(app.screen.query_one("#help-text").render())
        assert "Attention: g" in text and "Attention: s" in text and "Training: s" in text


@pytest.mark.parametrize("n, rows, cols", [(20, 4, 6), (5, 4, 11), (512, 5, 11), (7, 7, 7)])
def test_shrink_is_the_block_maximum_or_a_repetition(n, rows, cols):
    matrix = make_view([f"t{i}" for i in range(n)], layers=1, heads=1).weights[0, 0]
    small = shrink(matrix, rows, cols)
    assert small.shape == (rows, cols)
    for r in range(rows):  # each pixel against the cells it stands for, computed the plain way
        r0, r1 = r * n // rows, max(r * n // rows + 1, (r + 1) * n // rows)
        for c in range(cols):
            c0, c1 = c * n // cols, max(c * n // cols + 1, (c + 1) * n // cols)
            assert small[r, c] == matrix[r0:r1, c0:c1].max()
