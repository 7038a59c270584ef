"""The model view: every layer x head of an ``AttentionView`` as a grid of small heatmaps.

Rows are layers, columns heads (as in bertviz's model view). Each cell is the head's (T, T)
matrix shrunk to the cell's characters by block maximum, so one sharp weight in a long input
still shows; it is shaded like the full heatmap (tui/widgets/heatmap.py's palette and shade
characters), relative to the head's own largest weight. Arrows pick a cell, Enter opens it
full size, Escape goes back. Cells shrink with the widget down to ``MIN_CELL``; past that
the grid scrolls to keep the picked cell in sight (80x24), at 160x48 all 6 x 12 fit.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets.heatmap import PALETTE, SHADES

MIN_CELL = (5, 3)  # columns, rows of one cell, a gap included
MAX_CELL = (14, 7)
LABEL_WIDTH = 4  # "L12 "
PIXELS = tuple(shade[0] for shade in SHADES)


def shrink(matrix: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows, cols): ``matrix`` by block maximum when it is larger, by repetition when smaller."""
    def axis(n: int, size: int) -> tuple[np.ndarray, bool]:
        starts = (np.arange(size) * n) // size
        return starts, n >= size
    r, r_blocks = axis(matrix.shape[0], rows)
    c, c_blocks = axis(matrix.shape[1], cols)
    out = np.maximum.reduceat(matrix, r, axis=0) if r_blocks else matrix[r]
    return np.maximum.reduceat(out, c, axis=1) if c_blocks else out[:, c]


class ModelGrid(Widget, can_focus=True):
    DEFAULT_CSS = """
    ModelGrid { height: 1fr; min-height: 4; }
    ModelGrid:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("enter", "pick", "Open full size"),
        Binding("escape", "close", "Back"),
    ]

    class Changed(Message):
        def __init__(self, grid: "ModelGrid") -> None:
            super().__init__()
            self.grid = grid

    class Picked(Message):
        """Enter on a cell: show that layer and head full size."""

        def __init__(self, layer: int, head: int) -> None:
            super().__init__()
            self.layer, self.head = layer, head

    class Closed(Message):
        """Escape: back to the heatmap as it was."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: Any = None
        self.layer_index = 0
        self.head_index = 0
        self._layer0 = 0  # first layer and head in sight
        self._head0 = 0
        self._cells: dict[tuple[int, int], np.ndarray] = {}  # (layer, head) -> shade levels
        self._cell_size = MIN_CELL
        self._styles = [Style(color=c) for c in PALETTE]

    def set_view(self, view: Any, layer: int = 0, head: int = 0) -> None:
        self.view = view
        self.layer_index = max(0, min(view.num_layers - 1, layer))
        self.head_index = max(0, min(view.num_heads - 1, head))
        self._cells.clear()
        self._layout()
        self.post_message(self.Changed(self))

    # --- geometry ------------------------------------------------------------------------

    def _layout(self) -> None:
        """Cell size for the widget's size, and the first layer/head shown for the cursor."""
        if self.view is None:
            return
        width, height = self.size.width - LABEL_WIDTH, self.size.height - 1
        size = (max(MIN_CELL[0], min(MAX_CELL[0], width // self.view.num_heads)),
                max(MIN_CELL[1], min(MAX_CELL[1], height // self.view.num_layers)))
        if size != self._cell_size:
            self._cell_size = size
            self._cells.clear()
        heads, layers = self._in_sight()
        self._head0 = min(max(self._head0, self.head_index - heads + 1), self.head_index)
        self._layer0 = min(max(self._layer0, self.layer_index - layers + 1), self.layer_index)
        self.refresh()

    def _in_sight(self) -> tuple[int, int]:
        """How many heads and layers fit."""
        cell_w, cell_h = self._cell_size
        return (max(1, (self.size.width - LABEL_WIDTH) // cell_w), max(1, (self.size.height - 1) // cell_h))

    def on_resize(self) -> None:
        self._layout()

    def _levels(self, layer: int, head: int) -> np.ndarray:
        """The cell's shade levels (0..len(SHADES)-1), computed once per size."""
        levels = self._cells.get((layer, head))
        if levels is None:
            cell_w, cell_h = self._cell_size
            matrix = self.view.weights[layer, head]  # (T, T)
            small = shrink(matrix, cell_h - 1, cell_w - 1)
            peak = float(small.max()) or 1.0
            levels = np.clip((small / peak * len(SHADES)).astype(int), 0, len(SHADES) - 1)
            self._cells[layer, head] = levels
        return levels

    # --- actions -------------------------------------------------------------------------

    def action_move(self, dlayer: int, dhead: int) -> None:
        if self.view is None:
            return
        self.layer_index = max(0, min(self.view.num_layers - 1, self.layer_index + dlayer))
        self.head_index = max(0, min(self.view.num_heads - 1, self.head_index + dhead))
        self._layout()
        self.post_message(self.Changed(self))

    def action_pick(self) -> None:
        if self.view is not None:
            self.post_message(self.Picked(self.layer_index, self.head_index))

    def action_close(self) -> None:
        self.post_message(self.Closed())

    # --- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.view is None:
            return Strip.blank(width)
        cell_w, cell_h = self._cell_size
        heads_fit, layers_fit = self._in_sight()
        heads = range(self._head0, min(self.view.num_heads, self._head0 + heads_fit))
        bold, picked = Style(bold=True), Style(bold=True, reverse=True)
        segments = [Segment(" " * LABEL_WIDTH)]
        if y == 0:
            for h in heads:
                segments.append(Segment(f"H{h + 1}".center(cell_w - 1), picked if h == self.head_index else bold))
                segments.append(Segment(" "))
            return Strip(segments).adjust_cell_length(width)
        slot, pixel_row = divmod(y - 1, cell_h)
        layer = self._layer0 + slot
        if slot >= layers_fit or layer >= self.view.num_layers:
            return Strip.blank(width)
        if pixel_row == cell_h - 1:  # the gap under a row of cells
            return Strip.blank(width)
        if pixel_row == 0:
            segments[0] = Segment(f"L{layer + 1}".ljust(LABEL_WIDTH - 1), picked if layer == self.layer_index else bold)
            segments.insert(1, Segment(" "))
        for h in heads:
            row = self._levels(layer, h)[pixel_row]
            chosen = layer == self.layer_index and h == self.head_index
            for level in row:
                style = self._styles[level] + Style(reverse=True) if chosen else self._styles[level]
                segments.append(Segment(PIXELS[level], style))
            segments.append(Segment(" "))
        return Strip(segments).adjust_cell_length(width)
