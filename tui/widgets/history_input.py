"""An Input whose up/down keys walk through earlier entries (and any offered examples)."""
from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class HistoryInput(Input):
    BINDINGS = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[str] = []  # oldest first
        self.examples: list[str] = []  # offered after the history (e.g. validation texts)
        self._index: int | None = None  # position in entries(); None = the line being typed
        self._draft = ""

    def entries(self) -> list[str]:
        return self.history + [e for e in self.examples if e not in self.history]

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._index = None

    def action_history(self, step: int) -> None:
        entries = self.entries()
        if not entries:
            return
        if self._index is None:
            self._draft = self.value
            # Up starts from the newest history entry; down starts at the first example.
            index = len(self.history) - 1 if step < 0 else len(self.history)
        else:
            index = self._index + step
        if index < 0:
            index = 0
        if index >= len(entries):
            self._index = None
            self.value = self._draft
        else:
            self._index = index
            self.value = entries[index]
        self.cursor_position = len(self.value)
