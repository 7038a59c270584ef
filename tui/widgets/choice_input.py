"""A one-line choice: an Input whose up/down keys cycle through the allowed values.

Lighter than a Select (one widget instead of five, which matters in a form of ~40 fields)
and keyboard-first: type with completion (right arrow accepts), or press up/down. Values
outside the choices are allowed to be typed; the form's validation names the choices.
"""
from __future__ import annotations

from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input


class ChoiceInput(Input):
    BINDINGS = [
        Binding("down", "cycle(1)", "Next choice", show=False),
        Binding("up", "cycle(-1)", "Previous choice", show=False),
    ]

    def __init__(self, choices: tuple[str, ...] | list[str], value: str = "", **kwargs) -> None:
        self.choices = tuple(choices)
        kwargs.setdefault("suggester", SuggestFromList(self.choices, case_sensitive=False))
        super().__init__(value, **kwargs)

    def action_cycle(self, step: int) -> None:
        if not self.choices:
            return
        try:
            index = (self.choices.index(self.value) + step) % len(self.choices)
        except ValueError:
            index = 0 if step > 0 else len(self.choices) - 1
        self.value = self.choices[index]
        self.cursor_position = len(self.value)
