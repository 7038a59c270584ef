"""One-line readouts that repaint without a relayout.

``Static.update`` and ``ProgressBar`` ask for a layout pass on every change; while training,
the training log changes several times a second, and a relayout of the whole screen each time
costs the UI thread (and so, through the GIL, the training thread) real time. These widgets
have a fixed height of one line and only repaint their own region.
"""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    DEFAULT_CSS = "TextLine { height: 1; width: 1fr; }"

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text = text

        self.parts: list[str] | None = None

    def set(self, text: str) -> None:
        self.parts = None
        if text != self.text:
            self.text = text
            self.refresh()

    def set_parts(self, parts: list[str], separator: str = " · ") -> None:
        """Show ``parts`` joined, leaving off from the end whole parts that do not fit the width
        (rather than cutting one in the middle)."""
        self.separator = separator
        self.set(separator.join(parts))
        self.parts = list(parts)

    def shown_text(self) -> str:
        """What fits the current width."""
        if not self.parts or self.size.width <= 0:
            return self.text
        shown = self.parts[0]
        for part in self.parts[1:]:
            longer = shown + self.separator + part
            if len(longer) > self.size.width:
                break
            shown = longer
        return shown

    def render(self) -> Text:
        return Text(self.shown_text(), no_wrap=True, overflow="ellipsis")


class Meter(Widget):
    """``label ━━━━━━━━╺──────── 45%``: the bar is drawn with different characters for done and
    to-do, so it reads without colour too."""

    DEFAULT_CSS = """
    Meter { height: 1; width: 1fr; }
    Meter > .meter--done { color: $accent; }
    Meter > .meter--todo { color: $panel-lighten-2; }
    """
    COMPONENT_CLASSES = {"meter--done", "meter--todo"}
    LABEL_WIDTH = 12

    def __init__(self, label: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        self.done = 0.0
        self.total = 1.0

    @property
    def fraction(self) -> float:
        return max(0.0, min(1.0, self.done / self.total)) if self.total > 0 else 0.0

    def set(self, done: float | None = None, total: float | None = None, label: str | None = None) -> None:
        before = (self.done, self.total, self.label)
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if label is not None:
            self.label = label
        if (self.done, self.total, self.label) != before:
            self.refresh()

    def render(self) -> Text:
        width = self.size.width
        label_width = max(self.LABEL_WIDTH, len(self.label) + 1)  # "epoch 120/500" is read whole
        bar_width = max(1, width - label_width - 6)
        filled = int(round(self.fraction * bar_width))
        text = Text(self.label.ljust(label_width), no_wrap=True)
        text.append("━" * filled, self.get_component_rich_style("meter--done"))
        text.append("─" * (bar_width - filled), self.get_component_rich_style("meter--todo"))
        text.append(f" {self.fraction * 100:4.0f}%")
        return text
