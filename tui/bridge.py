"""Engine events -> Textual messages.

The engine calls its ``on_event`` callback from the training thread. The callback made here
only wraps the event in a message and posts it (thread-safe in Textual); it never touches a
widget and never waits for the UI, so a slow frame cannot slow a training step.

High-frequency progress (``StepLogged``) travels in ``StepProgress``, which may replace an
older ``StepProgress`` still waiting in the queue: when the UI is busy it skips stale
progress instead of falling behind. Every other event is delivered exactly once, in order.
"""
from __future__ import annotations

from typing import Callable

from textual.message import Message
from textual.message_pump import MessagePump

from core.events import Event, StepLogged


class EngineEvent(Message):
    """One engine event, delivered to the app; the app hands it to every pane's ``apply_event``."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class StepProgress(EngineEvent):
    """A ``StepLogged``: newer progress supersedes older progress still queued."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StepProgress)


def wrap(event: Event) -> EngineEvent:
    return StepProgress(event) if isinstance(event, StepLogged) else EngineEvent(event)


def event_poster(target: MessagePump) -> Callable[[Event], None]:
    """The consumer that posts each event to ``target`` as a message (compose it with others
    through ``core.events.fan_out``)."""

    def on_event(event: Event) -> None:
        target.post_message(wrap(event))

    return on_event
