"""F1 / ?: every key, and what each pane is for."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.commands import key_name

PANES = """\
PANES
 Hyperparameters (F2)  The model, data and training settings, generated from the engine's
                       config. Errors show under the field as you type; F6 is disabled until
                       all fields are valid. The line at the bottom explains the focused
                       setting. Presets fill every field ('seed' is the tutorial's setup).
 Training (F3)         Progress of the epoch and the run with ETA and throughput, the
                       tutorial's epoch lines, loss/accuracy curves, the final per-class
                       report and confusion matrix; device and memory in the status line.
 Attention (F4)        Type a sentence, Enter: the model's attention as a heatmap (queries
                       are rows, keys columns). Works on a snapshot while training.
                       Raw attention is not an explanation: x (or ctrl+t) shows which tokens
                       drove the prediction (Integrated Gradients, gradient x input,
                       attention rollout) and how faithful each is; v shows the cursor
                       cell's query, key and value arithmetic with the head's numbers.
 Pipelines (F5)        Pick a task and model, fill its inputs, type a prompt, Enter.

SESSIONS
 Every run is recorded under sessions/ ($TWB_SESSIONS_DIR; TWB_NO_SESSIONS=1 turns it off)
 with its checkpoints, your actions, the attention views and prompts; views and prompts
 made between runs go into one 'workbench' session. ctrl+r lists them: Enter replays
 one, a attaches to one another process is still writing; space marks runs and c
 compares them (curves and a runs table; v view, x x-axis, l log-y, s smoothing,
 o sort, / filter, w save the curves as SVG/PNG, Enter replay, Escape back to the list
 with the marks kept).
"""

WIDGET_KEYS = """\
INSIDE A PANE
 Tab / Shift+Tab       next / previous field
 Up / Down             in a prompt: earlier entries (attention: also validation examples)
 Heatmap: arrows       move the cursor cell; PgUp/PgDn/Home/End scroll long inputs
 Heatmap: l / L        next / previous layer
 Heatmap: h / H        next / previous head
 Heatmap: m            mean over heads (press again for single heads)
 Attention: g          model view: every layer x head; arrows pick, Enter opens, Escape back
 Attention: s          save the view (or the model view) as an .svg or .png image
 Training: s           save the loss and accuracy curves as an .svg or .png image
 Heatmap: x / v        explain the prediction / the cursor cell's Q/K/V
 Explanation: m / c    next method / explain the next class; +/- IG steps; arrows a token
 Dialogs: y / n        answer a question; Escape cancels
"""


def global_keys(bindings) -> str:
    """One line per action, its keys as typed ('f1 / ?'), in the order they are bound."""
    keys: dict[str, list[str]] = {}
    described: dict[str, str] = {}
    for binding in bindings:
        if binding.description:
            keys.setdefault(binding.action, []).append(binding.key_display or key_name(binding.key))
            described.setdefault(binding.action, binding.description)
    lines = ["GLOBAL KEYS"]
    for action, names in keys.items():
        lines.append(f" {' / '.join(names):<20}  {described[action]}")
    lines.append(f" {'ctrl+p':<20}  command palette: every action by name, and the presets")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "close", "Close")]

    def __init__(self, bindings) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(global_keys(self.bindings) + "\n\n" + WIDGET_KEYS + "\n" + PANES, id="help-text")
            yield Static("Escape closes this help.", id="help-hint")

    def action_close(self) -> None:
        self.dismiss(None)
