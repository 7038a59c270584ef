"""Which pane is in front: the tab bar, the ``-active`` class, and where focus goes back to.

Held by the app as ``app.pane_focus``; the app's F2-F5 action, tab clicks and focus changes call it.
In a narrow or short terminal only the active pane shows; in a wide and tall one all do, and the
active one is outlined.
"""
from __future__ import annotations

from typing import Callable

from textual.widget import Widget
from textual.widgets import Tabs


class PaneFocus:
    def __init__(self, tabs: Tabs, panes: Callable[[], list[Widget]], active: str) -> None:
        self.tabs = tabs
        self.panes = panes  # the panes mounted so far
        self.active = active
        self._last_focus: dict[str, Widget] = {}  # pane id -> where the user was in it

    def mark_active(self, pane_id: str) -> None:
        self.active = pane_id
        for pane in self.panes():
            pane.set_class(pane.id == pane_id, "-active")
        if self.tabs.active != f"tab-{pane_id}":
            self.tabs.active = f"tab-{pane_id}"

    def show(self, pane_id: str, focused: Widget | None) -> None:
        """Bring the pane to the front, focus back to where the user was in it, else its first field."""
        self.mark_active(pane_id)
        pane = next(p for p in self.panes() if p.id == pane_id)
        if focused is None or pane not in focused.ancestors:
            target = self._last_focus.get(pane_id)
            if target is None or not target.is_attached:
                target = first_focusable(pane)
            if target is not None:
                target.focus()

    def focus_moved(self, widget: Widget) -> None:
        for pane in self.panes():
            if pane in widget.ancestors:
                self._last_focus[pane.id] = widget
                if self.active != pane.id:
                    self.mark_active(pane.id)
                break


def first_focusable(pane: Widget) -> Widget | None:
    """The pane's first field (a scrolling container is focusable too, but holds the fields)."""
    return next((w for w in pane.query("*") if w.focusable and not any(c.focusable for c in w.query("*"))), None)
