"""A token-by-token attention heatmap for any ``AttentionView``.

Queries are rows (labelled on the left), keys are columns (labelled vertically on top). Each
cell shows the weight with a colour *and* a shade character, so it reads the same with 16
colours or with NO_COLOR. The cursor cell is reversed; the labels stay put while a long input
scrolls under them. Cells a causal model cannot attend to (a key after its query) are left
blank: they are not attention. Views hold real tokens only, so padding never appears.

The widget renders line by line (``render_line``), so a 512-token view costs only the lines
on screen. It knows nothing about where the view came from (workbench model or HF model).
"""
from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from core.attention import token_label  # one labelling of tokens for the terminal and for images

CELL_WIDTH = 3  # two shade characters and a gap
MAX_LABEL = 12
MAX_HEADER = 6
SHADES = ("··", "░░", "▒▒", "▓▓", "██")
# A sequential palette (dark to bright) that stays distinct when reduced to 16 colours.
PALETTE = ("#3b4cc0", "#6f92f3", "#aac7fd", "#f7b89c", "#e7745b")


def matrix_for(view: Any, layer: int, head: int | None):
    """The (T, T) weights of one head, or the mean over heads when ``head`` is None."""
    per_layer = view.weights[layer]  # (H, T, T)
    return per_layer.mean(axis=0) if head is None else per_layer[head]


class AttentionHeatmap(Widget, can_focus=True):
    DEFAULT_CSS = """
    AttentionHeatmap { height: 1fr; min-height: 4; }
    AttentionHeatmap:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First token", show=False),
        Binding("end", "edge(1)", "Last token", show=False),
        Binding("l", "layer(1)", "Next layer"),
        Binding("L", "layer(-1)", "Prev layer", show=False),
        Binding("h", "head(1)", "Next head"),
        Binding("H", "head(-1)", "Prev head", show=False),
        Binding("m", "mean", "Mean of heads"),
    ]

    class Changed(Message):
        """Layer, head, view or cursor changed: the pane refreshes its readout."""

        def __init__(self, heatmap: "AttentionHeatmap") -> None:
            super().__init__()
            self.heatmap = heatmap

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: Any = None
        self.layer_index = 0
        self.head_index: int | None = 0
        self.row = 0  # cursor: query index
        self.col = 0  # cursor: key index
        self._row0 = 0  # first visible query
        self._col0 = 0  # first visible key
        self._matrix = None
        self._scale = 1.0
        self._styles = [Style(color=c) for c in PALETTE]

    # --- state ---------------------------------------------------------------------------

    def set_view(self, view: Any) -> None:
        self.view = view
        num_layers, num_heads = view.weights.shape[0], view.weights.shape[1]
        self.layer_index = min(self.layer_index, num_layers - 1)
        if self.head_index is not None:
            self.head_index = min(self.head_index, num_heads - 1)
        n = len(view.tokens)
        self.row, self.col = min(self.row, n - 1), min(self.col, n - 1)
        self._row0 = self._col0 = 0
        self._recompute()

    @property
    def num_layers(self) -> int:
        return int(self.view.weights.shape[0]) if self.view is not None else 0

    @property
    def num_heads(self) -> int:
        return int(self.view.weights.shape[1]) if self.view is not None else 0

    def legend(self) -> str:
        """What each shade means for the matrix on show (shades are relative to its largest weight)."""
        if self._matrix is None:
            return ""
        step = self._scale / len(SHADES)
        parts = [f"{shade} <{step * (i + 1):.2f}" for i, shade in enumerate(SHADES[:-1])]
        return "shade: " + "  ".join(parts) + f"  {SHADES[-1]} ≤{self._scale:.2f}"

    def value_at_cursor(self) -> float | None:
        if self._matrix is None:
            return None
        return float(self._matrix[self.row, self.col])

    def _recompute(self) -> None:
        self._matrix = matrix_for(self.view, self.layer_index, self.head_index)
        # Shade relative to the strongest cell on screen's matrix: long rows have small weights.
        peak = float(self._matrix.max()) if self._matrix.size else 1.0
        self._scale = peak if peak > 0 else 1.0
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Changed(self))

    # --- geometry ------------------------------------------------------------------------

    @property
    def _label_width(self) -> int:
        if self.view is None:
            return 0
        return min(MAX_LABEL, max(len(token_label(t)) for t in self.view.tokens)) + 1

    @property
    def _header_height(self) -> int:
        if self.view is None:
            return 0
        return min(MAX_HEADER, max(len(token_label(t)) for t in self.view.tokens))

    def _visible(self) -> tuple[int, int]:
        rows = max(1, self.size.height - self._header_height)
        cols = max(1, (self.size.width - self._label_width) // CELL_WIDTH)
        return rows, cols

    def _keep_cursor_visible(self) -> None:
        rows, cols = self._visible()
        if self.row < self._row0:
            self._row0 = self.row
        elif self.row >= self._row0 + rows:
            self._row0 = self.row - rows + 1
        if self.col < self._col0:
            self._col0 = self.col
        elif self.col >= self._col0 + cols:
            self._col0 = self.col - cols + 1

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.view is None:
            return 1
        return self._header_height + len(self.view.tokens)

    def on_resize(self) -> None:
        self._keep_cursor_visible()

    # --- actions -------------------------------------------------------------------------

    def show_head(self, layer: int, head: int | None) -> None:
        """Show that layer and head (None: the mean of heads), e.g. picked in the model view."""
        if self.view is not None:
            self.layer_index = max(0, min(self.num_layers - 1, layer))
            self.head_index = None if head is None else max(0, min(self.num_heads - 1, head))
            self._recompute()

    def action_move(self, drow: int, dcol: int) -> None:
        if self.view is None:
            return
        n = len(self.view.tokens)
        self.row = max(0, min(n - 1, self.row + drow))
        self.col = max(0, min(n - 1, self.col + dcol))
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Changed(self))

    def action_page(self, direction: int) -> None:
        rows, _ = self._visible()
        self.action_move(direction * rows, 0)

    def action_edge(self, end: int) -> None:
        if self.view is not None:
            self.row = len(self.view.tokens) - 1 if end else 0
            self.action_move(0, 0)

    def action_layer(self, step: int) -> None:
        if self.view is not None:
            self.layer_index = (self.layer_index + step) % self.num_layers
            self._recompute()

    def action_head(self, step: int) -> None:
        if self.view is not None:
            start = -1 if self.head_index is None and step > 0 else (0 if self.head_index is None else self.head_index)
            self.head_index = (start + step) % self.num_heads
            self._recompute()

    def action_mean(self) -> None:
        if self.view is not None:
            self.head_index = None if self.head_index is not None else 0
            self._recompute()

    # --- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.view is None:
            return Strip.blank(width)
        tokens = self.view.tokens
        label_w, header_h = self._label_width, self._header_height
        rows, cols = self._visible()
        col_range = range(self._col0, min(len(tokens), self._col0 + cols))
        bold = Style(bold=True)
        segments: list[Segment] = []
        if y < header_h:
            segments.append(Segment(" " * label_w))
            for c in col_range:
                token = token_label(tokens[c])[:header_h]
                ch = token[y] if y < len(token) else " "
                style = Style(reverse=True) if c == self.col else bold
                segments.append(Segment(ch, style))
                segments.append(Segment(" " * (CELL_WIDTH - 1)))
        else:
            r = self._row0 + y - header_h
            if r >= len(tokens):
                return Strip.blank(width)
            label = token_label(tokens[r])[: label_w - 1].rjust(label_w - 1)
            segments.append(Segment(label, Style(reverse=True) if r == self.row else bold))
            segments.append(Segment(" "))
            row_values = self._matrix[r]
            for c in col_range:
                if self.view.causal and c > r:
                    text, style = "  ", Style()
                else:
                    frac = float(row_values[c]) / self._scale
                    level = max(0, min(len(SHADES) - 1, int(frac * len(SHADES))))
                    text, style = SHADES[level], self._styles[level]
                if r == self.row and c == self.col:
                    style = style + Style(reverse=True)
                segments.append(Segment(text, style))
                segments.append(Segment(" " * (CELL_WIDTH - 2)))
        return Strip(segments).adjust_cell_length(width)
