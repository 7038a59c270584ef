"""A confusion matrix with a cursor cell: arrows choose a (true, predicted) cell, Enter picks it."""
from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from rich.text import Text

from tui.widgets.heatmap import token_label

CORNER = "true\\pred"


class ConfusionGrid(Widget, can_focus=True):
    DEFAULT_CSS = "ConfusionGrid { height: auto; width: auto; }"
    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("enter", "pick", "List the cell"),
        Binding("a", "all", "All errors"),
    ]
    NAME_WIDTH = 12

    class Picked(Message):
        """A cell was chosen (true, predicted), or None for every misclassified row."""

        def __init__(self, cell: tuple[str, str] | None) -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: list[str] = []
        self.counts: list[list[int]] = []
        self.row, self.col = 0, 1
        self.picked: tuple[str, str] | None = None

    def set_matrix(self, names: list[str], counts: list[list[int]]) -> None:
        self.names, self.counts = list(names), [list(r) for r in counts]
        n = len(names)
        self.row, self.col = min(self.row, n - 1), min(self.col, n - 1)
        self.refresh(layout=True)

    def render(self) -> Text:
        if not self.names:
            return Text("")
        w = self.NAME_WIDTH
        cell_w = max(6, *(len(str(c)) + 2 for row in self.counts for c in row))
        out = Text(f"{CORNER:<{w}}" + "".join(f"{token_label(n)[:cell_w - 1]:>{cell_w}}" for n in self.names))
        for i, name in enumerate(self.names):
            out.append(f"\n{token_label(name)[:w - 1]:<{w}}")
            for j, count in enumerate(self.counts[i]):
                mark = "[" if (i, j) == (self.row, self.col) else " "
                close = "]" if (i, j) == (self.row, self.col) else " "
                style = "reverse" if (i, j) == (self.row, self.col) and self.has_focus else ("bold" if i != j and count else "")
                out.append(f"{mark}{count}{close}".rjust(cell_w), style=style)
        return out

    def get_content_height(self, container, viewport, width) -> int:
        return len(self.names) + 1 if self.names else 1

    def get_content_width(self, container, viewport) -> int:
        cell_w = max(6, *(len(str(c)) + 2 for row in self.counts for c in row)) if self.counts else 6
        return self.NAME_WIDTH + cell_w * max(1, len(self.names))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, drow: int, dcol: int) -> None:
        n = len(self.names)
        if n:
            self.row, self.col = (self.row + drow) % n, (self.col + dcol) % n
            self.refresh()

    @property
    def cell(self) -> tuple[str, str] | None:
        return (self.names[self.row], self.names[self.col]) if self.names else None

    def action_pick(self) -> None:
        self.picked = self.cell
        self.post_message(self.Picked(self.picked))

    def action_all(self) -> None:
        self.picked = None
        self.post_message(self.Picked(None))
