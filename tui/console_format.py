"""How a pipeline prompt and its answer read in the console history: live and replayed alike."""
from __future__ import annotations

from typing import Any, Iterable

from tui import pipelines_adapter as pipelines

STOPPED = "stopped"  # the error a session records for a prompt stopped with Escape


def prompt_line(task: str | None, model: str | None, inputs: Any) -> str:
    """``> [task model] prompt``: which task (and model, when one was named) answered what."""
    model = f" {model}" if model else ""
    return f"> [{task or '?'}{model}] {inputs}"


def outcome_text(result: Any = None, error: str | None = None, notices: Iterable[str] = ()) -> str:
    """The answer as the history shows it (possibly several lines)."""
    if error == STOPPED:
        return "(stopped)"
    if error is not None:
        return f"error: {error}"
    return "\n".join([pipelines.format_result(result), *(f"note: {n}" for n in notices)])
