"""A RichLog that wraps at its own width.

RichLog renders each line at least ``min_width`` (78) cells wide and then crops it to the
widget, so in a narrower log (an 80-column terminal, a split pane) the end of every wrapped
line was lost. This one wraps at the width it has, or the last width it had while hidden.
"""
from __future__ import annotations

from textual.widgets import RichLog

FALLBACK_WIDTH = 40  # before the first layout only; RichLog defers writes until then anyway


class WrappingLog(RichLog):
    def __init__(self, **options) -> None:
        options.setdefault("wrap", True)
        super().__init__(**options)
        self._wrap_width = 0

    def write(self, content, width: int | None = None, expand: bool = False, shrink: bool = True,
              scroll_end: bool | None = None, animate: bool = False):
        if width is None and self._size_known:
            current = self.scrollable_content_region.width
            if current > 0:
                self._wrap_width = current
            width = self._wrap_width or FALLBACK_WIDTH
        return super().write(content, width, expand, shrink, scroll_end, animate)

    def rendered_lines(self) -> list[str]:
        """The lines as drawn (after wrapping), for tests and captures."""
        return [strip.text.rstrip() for strip in self.lines]
