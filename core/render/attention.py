"""An attention view as an image: one layer and head (or their mean), or every layer x head.

Sizes follow the token count: a cell is at least ``MIN_CELL_IN`` inches and the labels' font
follows the cell, so a 512-token view is a large image in which every token stays readable
(and every label is a <text> element of the SVG). Only past ``MAX_MATRIX_IN`` inches are
labels thinned, never below that.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.render.figure import new_figure

CMAP = "viridis"  # sequential and readable in grey: dark = little attention, bright = much
CURSOR_COLOR = "#e4002b"
MIN_CELL_IN, MAX_CELL_IN = 0.11, 0.32
SHORT_MATRIX_IN = 5.0  # a short input's matrix is about this wide
MAX_MATRIX_IN = 110.0  # past this (about 1000 tokens) labels are thinned rather than the image grown
MIN_FONT, MAX_FONT = 4.0, 10.0
MAX_LABEL_CHARS = 30  # room kept for a label; longer ones run past the margin
TITLE_IN = 0.7  # two lines of title


def _colormap(name: str = CMAP) -> Any:
    import matplotlib

    # Masked cells (a causal model's future keys, gaps between grid cells) are not attention: blank.
    return matplotlib.colormaps[name].with_extremes(bad="white")


def _label_font(cell_in: float) -> float:
    return max(MIN_FONT, min(MAX_FONT, cell_in * 72 * 0.7))


def _causal_masked(view: Any, matrix: np.ndarray) -> np.ndarray:
    if not view.causal:
        return matrix
    return np.ma.masked_where(np.triu(np.ones(matrix.shape, dtype=bool), k=1), matrix)


def _head_title(view: Any, layer: int, head: int | None) -> str:
    which = f"mean of {view.num_heads} heads" if head is None else f"head {head + 1}/{view.num_heads}"
    return f"{view.source} · layer {layer + 1}/{view.num_layers} · {which}"


def _details(view: Any, matrix: np.ndarray, cursor: tuple[int, int] | None) -> str:
    from core.attention import token_label

    parts = [f"{len(view.tokens)} tokens"]
    if view.prediction:
        label, prob = max(view.prediction.items(), key=lambda kv: kv[1])
        parts.append(f"predicts {label} ({prob:.2f})")
    if view.truncated:
        parts.append(f"{view.truncated} tokens cut (max_seq_len)")
    if cursor is not None:
        q, k = cursor
        parts.append(f"cursor: {token_label(view.tokens[q])} -> {token_label(view.tokens[k])} {float(matrix[q, k]):.3f}")
    return " · ".join(parts)


def attention_figure(view: Any, layer: int, head: int | None = None,
                     cursor: tuple[int, int] | None = None) -> Any:
    """One layer's head (None: the mean of its heads) as a labelled heatmap with a colour scale;
    ``cursor`` (query, key) is outlined and its two tokens' labels coloured."""
    from matplotlib.patches import Rectangle

    from core.attention import head_matrix, token_label

    matrix = head_matrix(view, layer, head)  # (T, T)
    n = len(view.tokens)
    if cursor is not None and not (0 <= cursor[0] < n and 0 <= cursor[1] < n):
        raise IndexError(f"cursor {cursor} out of range: the text has {n} tokens")
    labels = [token_label(t) for t in view.tokens]
    cell = max(MIN_CELL_IN, min(MAX_CELL_IN, SHORT_MATRIX_IN / n))
    cell = min(cell, MAX_MATRIX_IN / n)
    font = _label_font(cell)
    step = max(1, math.ceil(MIN_FONT / (cell * 72 * 0.7)))  # 1 until past MAX_MATRIX_IN
    side = n * cell
    label_in = min(MAX_LABEL_CHARS, max(len(s) for s in labels)) * font * 0.62 / 72 + 0.15
    left, top, right, bottom = label_in + 0.45, label_in + 0.45 + TITLE_IN, 1.4, 0.3
    width, height = max(left + side + right, 6.5), top + side + bottom
    fig = new_figure(width, height)
    ax = fig.add_axes((left / width, bottom / height, side / width, side / height))
    peak = float(matrix.max()) or 1.0
    image = ax.imshow(_causal_masked(view, matrix), cmap=_colormap(), vmin=0.0, vmax=peak,
                      interpolation="none", aspect="equal")
    # Labels are plain texts beside the cells, not tick labels: a Tick is a label, a line
    # and a gridline, and at 512 tokens drawing ticks cost more than the image itself.
    ax.set_xticks([])
    ax.set_yticks([])
    pad = 0.04 / cell  # inches to data units
    shown = range(0, n, step)
    texts = {}
    for i in shown:
        texts["y", i] = ax.text(-0.5 - pad, i, labels[i], ha="right", va="center", fontsize=font,
                                parse_math=False, clip_on=False)
        texts["x", i] = ax.text(i, -0.5 - pad, labels[i], ha="center", va="bottom", rotation=90,
                                fontsize=font, parse_math=False, clip_on=False)
    fig.text((left - label_in - 0.2) / width, (bottom + side / 2) / height, "query (attending)",
             rotation=90, ha="right", va="center", fontsize=9)
    fig.text((left + side / 2) / width, (bottom + side + label_in + 0.15) / height, "key (attended to)",
             ha="center", va="bottom", fontsize=9)
    if cursor is not None:
        q, k = cursor
        ax.add_patch(Rectangle((k - 0.5, q - 0.5), 1, 1, fill=False, edgecolor=CURSOR_COLOR,
                               linewidth=max(1.0, cell * 72 / 8)))
        for key in (("x", k), ("y", q)):
            if key in texts:
                texts[key].set_color(CURSOR_COLOR)
                texts[key].set_fontweight("bold")
    cax = fig.add_axes(((left + side + 0.25) / width, bottom / height, 0.18 / width, side / height))
    fig.colorbar(image, cax=cax).set_label("attention weight", fontsize=9)
    cax.tick_params(labelsize=8)
    fig.text(0.1 / width, 1 - 0.1 / height, _head_title(view, layer, head), ha="left", va="top",
             fontsize=11, parse_math=False)
    fig.text(0.1 / width, 1 - 0.38 / height, _details(view, matrix, cursor), ha="left", va="top",
             fontsize=9, color="#444444", parse_math=False)
    return fig


def grid_figure(view: Any) -> Any:
    """Every layer x head as small heatmaps (a model view), one row per layer.

    One image holds all cells, with blank gaps between them: one image draws far faster
    than L x H axes. Each cell is scaled to its own largest weight, as the terminal's
    shading is, so a head that spreads its attention thin still shows its pattern."""
    num_layers, num_heads, n = view.num_layers, view.num_heads, len(view.tokens)
    gap = max(1, n // 10)
    pitch = n + gap
    mosaic = np.full((num_layers * pitch - gap, num_heads * pitch - gap), np.nan, dtype=np.float32)
    future = np.triu(np.ones((n, n), dtype=bool), k=1) if view.causal else None
    for layer in range(num_layers):
        for head in range(num_heads):
            matrix = view.weights[layer, head]
            peak = float(matrix.max()) or 1.0
            cell = matrix / peak
            if future is not None:
                cell = np.where(future, np.nan, cell)
            mosaic[layer * pitch: layer * pitch + n, head * pitch: head * pitch + n] = cell
    cell_in = max(0.9, min(2.0, 0.015 * n))
    left, top, right, bottom = 0.8, 1.0, 0.3, 0.2
    grid_w, grid_h = num_heads * cell_in, num_layers * cell_in
    width, height = left + grid_w + right, top + grid_h + bottom
    fig = new_figure(width, height)
    ax = fig.add_axes((left / width, bottom / height, grid_w / width, grid_h / height))
    # Nearest when a cell has more pixels than tokens (fast, sharp); smoothing only to shrink.
    smooth = n > cell_in * 100
    ax.imshow(np.ma.masked_invalid(mosaic), cmap=_colormap(), vmin=0.0, vmax=1.0,
              interpolation="antialiased" if smooth else "nearest", aspect="auto")
    centers = [i * pitch + (n - 1) / 2 for i in range(max(num_layers, num_heads))]
    ax.set_xticks(centers[:num_heads], [f"head {h + 1}" for h in range(num_heads)], fontsize=8)
    ax.set_yticks(centers[:num_layers], [f"layer {l + 1}" for l in range(num_layers)], fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.text(0.1 / width, 1 - 0.1 / height, f"{view.source} · every layer x head · {n} tokens",
             ha="left", va="top", fontsize=11, parse_math=False)
    fig.text(0.1 / width, 1 - 0.38 / height, "rows are queries, columns keys; each cell is scaled to its own "
             "largest weight", ha="left", va="top", fontsize=9, color="#444444")
    return fig
