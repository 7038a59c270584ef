"""What the workbench offers by name: key names as people type them, and the command palette."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from textual.app import SystemCommand
from textual.binding import Binding
from textual.keys import key_to_character

from core.config import PRESETS

_SYMBOLS = {"plus": "+", "minus": "-"}  # textual knows no character for these two names

COMMAND_HELP = {
    "help": "List every key and explain the panes",
    "show_pane('hyperparams')": "Show the hyperparameter form",
    "show_pane('training')": "Show the live training log",
    "show_pane('attention')": "Show the attention viewer",
    "show_pane('console')": "Show the pipeline console",
    "start_training": "Train with the form's settings",
    "cancel_training": "Stop the running training after the current step",
    "resume_training": "Continue a run from a checkpoint folder",
    "save_config": "Write the form's settings to a TOML file",
    "load_config": "Fill the form from a TOML file",
    "sessions": "Replay a recorded session, or attach to one another process is writing",
    "export_model": "Write the run's best checkpoint as a Hugging Face model folder",
    "explain_view('explain')": "Which tokens drove the prediction for the attention pane's sentence",
    "explain_view('errors')": "The validation examples the model gets wrong, worst first",
}


WORKBENCH_BINDINGS = [
    Binding("f1", "help", "Help", id="help"),
    Binding("question_mark", "help", "Help", show=False, id="help-alt"),
    # F2-F5 are listed on the pane tab bar (always on screen), which leaves the footer room
    # for the actions at 80 columns.
    Binding("f2", "show_pane('hyperparams')", "Form", show=False, id="pane-form"),
    Binding("f3", "show_pane('training')", "Training log", show=False, id="pane-training"),
    Binding("f4", "show_pane('attention')", "Attention", show=False, id="pane-attention"),
    Binding("f5", "show_pane('console')", "Pipelines", show=False, id="pane-console"),
    Binding("f6", "start_training", "Train", id="start"),
    Binding("f7", "cancel_training", "Cancel", id="cancel"),
    Binding("f8", "resume_training", "Resume", id="resume"),
    Binding("f9", "export_model", "Export", id="export"),
    # In the help and the palette; the footer has no room left for it at 80 columns.
    Binding("ctrl+r", "sessions", "Sessions", show=False, id="sessions"),
    # ctrl+e and ctrl+w edit text in the fields, ctrl+b is tmux's prefix: hence t and g.
    Binding("ctrl+t", "explain_view('explain')", "Explain", show=False, id="explain"),
    Binding("ctrl+g", "explain_view('errors')", "Errors", show=False, id="errors"),
    Binding("ctrl+s", "save_config", "Save", id="save"),
    Binding("ctrl+o", "load_config", "Load", id="load"),
    Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
]
# Keys of a pane, active while the focus is inside it (single letters: the pane's text fields
# take letters first, so these act from the heatmap, the model view and the training log).
# Not in the footer: at 80 columns the heatmap's own keys already leave it just room for the
# global ones; the pane's legend line and the help list them.
ATTENTION_BINDINGS = [
    Binding("s", "save_image", "Save image", show=False, id="attention-save-image"),
    Binding("g", "model_view", "Model view", show=False, id="attention-model-view"),
    Binding("x", "app.explain_view('explain')", "Explain", show=False, id="attention-explain"),
    Binding("v", "app.explain_view('qkv')", "Q/K/V", show=False, id="attention-qkv"),
]
TRAINING_BINDINGS = [
    Binding("s", "save_curves", "Save curves", id="training-save-curves"),
]


def key_name(keys: str) -> str:
    """How a person types a binding's keys: '?', '.', 'ctrl+s', 'f1' (not 'question_mark'), ' / ' between."""
    names = []
    for key in keys.split(","):
        *modifiers, last = key.strip().split("+")
        char = _SYMBOLS.get(last) or key_to_character(last)
        shown = char if char and char.isprintable() and not char.isspace() else last
        names.append("+".join([*modifiers, shown]))
    return " / ".join(names)


def action_name(action: str) -> str:
    """``show_pane('training')`` -> ``show_pane``: the name check_action is asked about."""
    return action.split("(", 1)[0]


# The app's own actions: the ones a controller or the too-small notice can switch off.
WORKBENCH_ACTIONS = frozenset({action_name(b.action) for b in WORKBENCH_BINDINGS} | {"preset"})


def offered(action: str, controller: Any) -> bool:
    """Whether an action exists in this mode: all of them, or those a controller keeps (tui.controller)."""
    return controller is None or action not in WORKBENCH_ACTIONS or action in controller.allowed_actions


def bindings_of(controller: Any) -> list[Binding]:
    """The workbench's keys offered in this mode, and the controller's own: what help and the palette list."""
    kept = [b for b in WORKBENCH_BINDINGS if offered(action_name(b.action), controller)]
    return [*kept, *(controller.BINDINGS if controller else ())]


def system_commands(app: Any, bindings: Iterable[Binding]) -> Iterator[SystemCommand]:
    """One palette command per described binding, and one per preset (where the app offers them)."""
    for binding in bindings:
        if binding.description and binding.id != "help-alt" and binding.action != "quit":
            yield SystemCommand(f"{binding.description} ({key_name(binding.key)})",
                                COMMAND_HELP.get(binding.action, ""), lambda action=binding.action: app.run_action(action))
    if app.offers("preset"):
        for name in PRESETS:
            yield SystemCommand(f"Preset: {name}", f"Fill the form with the '{name}' preset",
                                lambda name=name: app.run_action(f"preset({name!r})"))
