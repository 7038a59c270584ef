"""What may drive the workbench screen instead of the user's own training: a replay cursor.

The app holds at most one controller (``WorkbenchApp.controller``). It keeps the app's panes,
layout and keys, and changes only what the controller says:

- ``allowed_actions``: which of the workbench's own actions stay available (the rest are off:
  a replay never trains); ``BINDINGS``: the controller's keys, bound on the app to
  ``cursor('<command>', args...)``, which calls ``command``;
- ``compose()``: widgets it adds above the footer (its status line), ``title``: the app's title;
- ``start(app)``: the panes are mounted; ``close()``: the app is leaving.

It talks to the panes only through the pane contract (tui.pane) and ``app.feed``.
"""
from __future__ import annotations

from typing import Any, Protocol

from textual.app import ComposeResult
from textual.binding import Binding


class Controller(Protocol):
    BINDINGS: list[Binding]
    allowed_actions: frozenset[str]
    title: str

    def compose(self) -> ComposeResult: ...
    def start(self, app: Any) -> None: ...
    def command(self, name: str, *args: Any) -> None: ...
    def close(self) -> None: ...
