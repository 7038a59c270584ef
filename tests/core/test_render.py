"""Images of attention views and curves: SVGs carry every token label as text, PNGs have the
figure's pixel size, and a bad name or folder is one line with nothing half-written."""
import errno
import os
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from core.attention import AttentionView, token_label
from core.errors import UserError
from core.render import Run, Series, attention_figure, curves_figure, grid_figure, save_figure
from core.render.attention import CURSOR_COLOR
from core.render.figure import png_dpi

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}"
# Tokens a careless image writer gets wrong: markup, XML, mathtext, whitespace, wordpieces.
AWKWARD = ["[CLS]", "a", "$x$", "<b>", "&", "##ing", " ", "\n", "naïve", "Ġworld", "[SEP]"]


def view_of(tokens, layers=2, heads=3, causal=False, seed=0):
    rng = np.random.default_rng(seed)
    n = len(tokens)
    logits = rng.normal(size=(layers, heads, n, n))
    if causal:
        logits = np.where(np.tril(np.ones((n, n), dtype=bool)), logits, -np.inf)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return AttentionView(tokens=tokens, weights=weights / weights.sum(axis=-1, keepdims=True),
                         source="test model", causal=causal, prediction={"negative": 0.3, "positive": 0.7})


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()  # parses: a well-formed XML document
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_svg_holds_every_token_label_as_text_and_names_the_head(tmp_path):
    view = view_of(AWKWARD)
    out = save_figure(attention_figure(view, 1, 2), tmp_path / "view.svg")
    texts = svg_texts(out)
    for token in AWKWARD:
        assert texts.count(token_label(token)) >= 2, token  # as a row label and as a column label
    assert any("layer 2/2 · head 3/3" in t for t in texts)
    assert any("predicts positive (0.70)" in t for t in texts)
    mean = svg_texts(save_figure(attention_figure(view, 0, None), tmp_path / "mean.svg"))
    assert any("layer 1/2 · mean of 3 heads" in t for t in mean)


def test_the_cursor_cell_is_marked_and_named(tmp_path):
    view = view_of(["one", "two", "three", "four"])
    plain = (save_figure(attention_figure(view, 0, 0), tmp_path / "plain.svg")).read_text()
    marked = save_figure(attention_figure(view, 0, 0, cursor=(1, 3)), tmp_path / "cursor.svg")
    assert CURSOR_COLOR not in plain and CURSOR_COLOR in marked.read_text()
    value = float(view.weights[0, 0, 1, 3])
    assert any(f"cursor: two -> four {value:.3f}" in t for t in svg_texts(marked))
    with pytest.raises(IndexError, match="out of range"):
        attention_figure(view, 0, 0, cursor=(4, 0))


def test_a_512_token_view_keeps_every_label_at_a_readable_size(tmp_path):
    tokens = [f"w{i}" for i in range(512)]
    fig = attention_figure(view_of(tokens, layers=1, heads=1), 0, 0)
    out = save_figure(fig, tmp_path / "long.svg")
    texts = set(svg_texts(out))
    assert all(t in texts for t in tokens)  # none thinned out
    sizes = {float(s.split("font-size:")[1].split("px")[0])
             for s in (e.get("style", "") for e in ET.parse(out).getroot().iter(f"{SVG}text")) if "font-size" in s}
    assert min(sizes) >= 5.0  # points; the image grows instead of the labels shrinking
    assert fig.get_size_inches()[0] > 50


def test_png_has_the_figures_pixel_size_and_grows_with_the_text(tmp_path):
    short_fig = attention_figure(view_of([f"t{i}" for i in range(8)]), 0, 0)
    long_fig = attention_figure(view_of([f"t{i}" for i in range(64)]), 0, 0)
    sizes = []
    for name, fig in (("short", short_fig), ("long", long_fig)):
        out = save_figure(fig, tmp_path / f"{name}.PNG")  # the suffix in any case
        expected = tuple(round(v * png_dpi(fig)) for v in fig.get_size_inches())
        assert png_size(out) == expected
        sizes.append(expected)
    assert sizes[1][0] > sizes[0][0] and sizes[1][1] > sizes[0][1]


def test_grid_png_has_one_cell_per_layer_and_head(tmp_path):
    view = view_of([f"t{i}" for i in range(16)], layers=3, heads=4, causal=True)
    fig = grid_figure(view)
    out = save_figure(fig, tmp_path / "grid.png")
    assert png_size(out) == tuple(round(v * png_dpi(fig)) for v in fig.get_size_inches())
    texts = svg_texts(save_figure(fig, tmp_path / "grid.svg"))
    assert [t for t in texts if t.startswith("head ")] == [f"head {h}" for h in range(1, 5)]
    assert [t for t in texts if t.startswith("layer ")] == [f"layer {l}" for l in range(1, 4)]
    image = fig.axes[0].get_images()[0].get_array()
    assert image.mask[0, 1] and not image.mask[1, 0]  # a causal model's future keys are blank


def test_curves_of_one_run_and_of_several(tmp_path):
    nan = float("nan")
    run = Run("baseline", [Series("train loss", [(0.5, 0.9), (1.0, 0.7), (1.5, 0.6), (2.0, 0.5)]),
                           Series("val loss", [(1.0, 0.8), (2.0, nan)]),  # a NaN is a gap, not a failure
                           Series("val accuracy", [(1.0, 0.6), (2.0, 0.7)], panel="accuracy")])
    texts = svg_texts(save_figure(curves_figure([run], title="one run"), tmp_path / "one.svg"))
    assert {"train loss", "val loss", "val accuracy", "loss", "accuracy", "one run"} <= set(texts)
    other = Run("wide", [Series("val accuracy", [(1.0, 0.7), (2.0, 0.8)], panel="accuracy")])
    fig = curves_figure([run, other])
    assert {"baseline · val accuracy", "wide · val accuracy"} <= set(svg_texts(save_figure(fig, tmp_path / "two.svg")))
    lines = {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}
    assert lines["baseline · val accuracy"].get_color() != lines["wide · val accuracy"].get_color()
    with pytest.raises(UserError, match="no curves"):
        curves_figure([Run("empty", [Series("val loss", [(1.0, nan)])])])


def test_a_bad_name_or_a_missing_folder_is_one_line_and_writes_nothing(tmp_path):
    fig = attention_figure(view_of(["a", "b"]), 0, 0)
    with pytest.raises(UserError, match=r"\.svg or \.png") as bad:
        save_figure(fig, tmp_path / "view.jpg")
    assert "\n" not in str(bad.value)
    with pytest.raises(UserError, match="does not exist"):
        save_figure(fig, tmp_path / "missing" / "view.svg")
    with pytest.raises(UserError, match="is a folder"):
        save_figure(fig, tmp_path)
    assert list(tmp_path.iterdir()) == []  # and no folder was made


def _refused(monkeypatch, exc):
    """Make every temp-file write fail the way a read-only folder or a full disk does."""
    import core.files

    def fail(*args, **kwargs):
        raise exc
    monkeypatch.setattr(core.files.os, "fsync", fail)


@pytest.mark.parametrize("code, hint", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only")])
def test_a_full_or_read_only_disk_is_one_line_and_the_earlier_image_stays(tmp_path, monkeypatch, code, hint):
    fig = attention_figure(view_of(["a", "b"]), 0, 0)
    earlier = save_figure(fig, tmp_path / "view.png")
    before = earlier.read_bytes()
    _refused(monkeypatch, OSError(code, os.strerror(code)))
    with pytest.raises(UserError, match=hint) as caught:
        save_figure(attention_figure(view_of(["c", "d", "e"]), 0, 0), earlier)
    assert "\n" not in str(caught.value) and "view.png" in str(caught.value)
    assert earlier.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["view.png"]  # no temp file left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(UserError, match="read-only"):
            save_figure(attention_figure(view_of(["a", "b"]), 0, 0), folder / "view.svg")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # what an import of a missing package does
    with pytest.raises(UserError, match=r"pip install 'transformer-workbench\[images\]'") as caught:
        attention_figure(view_of(["a", "b"]), 0, 0)
    assert "\n" not in str(caught.value)
