"""The keys that open the explanation screens: ctrl+t / x (explain), v (Q/K/V), ctrl+g (errors).

The screens get what they show as attributes: the attention pane's sentence and model, the
run's validation set, and a callback that records each explanation in the session.
"""
from __future__ import annotations

from typing import Any


def open_view(app: Any, what: str, cell: tuple[str, str] | None = None) -> None:
    """Push the screen named ``what`` unless it is already on top (a key pressed twice); the
    errors browser lists the (true, predicted) ``cell`` when one is given."""
    from tui.screens.errors import ErrorsScreen, errors_screen_for
    from tui.screens.explain import ExplainScreen
    from tui.screens.qkv import QKVScreen

    if not app.panes_ready.is_set():
        return
    pane = app.attention_pane
    record = app.recording.explanation_viewed
    if what == "errors" and not isinstance(app.screen, ErrorsScreen):
        if cell is not None and app.trainer is None:  # a replayed session: its report, but no model
            app.notify("The errors browser needs a model; a replayed session has none. "
                       "Headless: twb errors CHECKPOINT --data FILE", title="No model", severity="warning")
        else:
            app.push_screen(errors_screen_for(app, record, cell))
    elif what == "explain" and not isinstance(app.screen, ExplainScreen):
        if pane.recorded_explanation is not None:  # replay: as it was, no model needed
            app.push_screen(ExplainScreen(explanation=pane.recorded_explanation))
        elif not pane.text:
            app.action_show_pane("attention")
            pane.note("type a sentence and press Enter first; then x explains the prediction")
        else:
            app.push_screen(ExplainScreen(pane.text, pane.explainable, on_explained=record))
    elif what == "qkv" and not isinstance(app.screen, QKVScreen):
        cell = pane.cursor_cell()
        if isinstance(cell, str):
            pane.note(cell)
        else:
            app.push_screen(QKVScreen(pane.text, pane.explainable, *cell))
