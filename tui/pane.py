"""The contract every workbench pane keeps, so live training and replay drive them the same way.

A pane is a widget that owns its own children; nothing outside it queries them. The app (or the
replay controller, for a recorded session) talks to a pane only through these three methods:

- ``apply_event(event)``: one engine event (core.events), live or replayed, in the order the
  engine emitted them. Panes that do not follow training ignore it.
- ``reset()``: back to the state of a workbench that has seen nothing yet (replay calls it before
  rebuilding the panes as of another record).
- ``show_recorded(item)``: something a session recorded that is not an engine event. Each pane
  takes its own kind of item:

  ========================  =============================================================
  pane                      item
  ========================  =============================================================
  HyperparamsPane           a ``RunConfig`` (the settings in force at the cursor)
  TrainingLogPane           a ``ChartSeries`` (core.sessions.curves: the charts so far, in
                            one piece) or a ``str`` (a note: an action, a damaged line, how
                            it ended)
  AttentionPane             a ``RecordedAttention`` (an AttentionView) or a ``RecordError``
  ConsolePane               a console record (dict: task, model, inputs, result, error)
  ========================  =============================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from core.events import Event


@runtime_checkable
class Pane(Protocol):
    def apply_event(self, event: Event) -> None: ...
    def reset(self) -> None: ...
    def show_recorded(self, item: Any) -> None: ...


@dataclass(frozen=True)
class RecordError:
    """A recorded item that could not be decoded; the pane shows the message instead."""
    message: str
