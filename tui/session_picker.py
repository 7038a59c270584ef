"""The workbench's way into sessions: pick one, then replay it or attach to it.

``pick_and_open(app)`` shows the sessions (as `twb sessions` lists them); Enter replays the
chosen one, ``a`` attaches to it; space marks runs and ``c`` compares the marked ones
(tui.screens.compare), whose Escape comes back here with the marks kept. The viewer runs as its own `twb replay`/`twb attach` process
while the workbench is suspended, so a training run in the workbench keeps going and comes
back on screen when the viewer is quit.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from core.formatting import format_duration
from core.sessions.listing import SessionSummary, list_sessions

Choice = tuple[str, Path]  # ("replay" | "attach", session folder)


class SessionPickerScreen(ModalScreen[Choice | None]):
    BINDINGS = [
        Binding("enter", "choose('replay')", "Replay"),
        Binding("a", "choose('attach')", "Attach"),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare marked"),
        Binding("escape", "dismiss_none", "Cancel"),
    ]

    def __init__(self, summaries: list[SessionSummary],
                 launch: Callable[[App, str, Path], object] | None = None) -> None:
        super().__init__()
        self.summaries = list(reversed(summaries))  # newest first
        self.launch = launch or run_viewer_process  # how the compare screen opens a replay
        self.marked: list[int] = []  # in marking order: the compare screen's colours follow it

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="session-dialog"):
            yield Label("Sessions (Enter: replay · a: attach · space: mark · c: compare marked · Escape: cancel)",
                        classes="dialog-text")
            if not self.summaries:
                yield Label("No sessions yet: each run the workbench trains (F6) is one, and `twb train --session NAME` records one.", classes="dialog-hint")
            else:
                yield Label(HEADER, id="session-header")
            yield OptionList(*(Option(_describe(s, False), id=str(i)) for i, s in enumerate(self.summaries)),
                             id="session-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(("replay", self.summaries[int(event.option.id)].folder))

    def action_choose(self, mode: str) -> None:
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is not None and self.summaries:
            self.dismiss((mode, self.summaries[highlighted].folder))

    def action_mark(self) -> None:
        options = self.query_one(OptionList)
        k = options.highlighted
        if k is None or not self.summaries:
            return
        if k in self.marked:
            self.marked.remove(k)
        else:
            self.marked.append(k)
        options.replace_option_prompt_at_index(k, _describe(self.summaries[k], k in self.marked))

    def action_compare(self) -> None:
        if not self.marked:
            self.app.notify("Mark the runs to compare with space, then press c.", severity="warning")
            return
        from tui.screens.compare import CompareScreen  # the charts load only when asked for

        self.app.push_screen(CompareScreen([self.summaries[k] for k in self.marked], self.launch))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


# Columns sized so a row fits the dialog in an 80-column terminal; a longer name is cut ("…").
NAME_WIDTH = 18
HEADER = f"  {'name':<{NAME_WIDTH}} {'started':<16} {'status':<11} {'epoch':>5} {'acc':<5} time"


def _describe(s: SessionSummary, marked: bool) -> str:
    acc = f"{s.best_val_accuracy:.3f}" if s.best_val_accuracy is not None else "-"
    epochs = f"{s.epochs}/{s.total_epochs}" if s.total_epochs else str(s.epochs)
    name = s.name if len(s.name) <= NAME_WIDTH else s.name[:NAME_WIDTH - 1] + "…"
    return f"{'*' if marked else ' '} {name:<{NAME_WIDTH}} {s.started:<16} {s.status:<11} {epochs:>5} {acc:<5} {format_duration(s.duration_s)}"


def run_viewer_process(app: App, mode: str, folder: Path) -> int:
    """Run `twb replay|attach FOLDER` in this terminal while ``app`` is suspended."""
    with app.suspend():
        return subprocess.run([sys.executable, "-m", "tui.cli", mode, str(folder)]).returncode


def pick_and_open(app: App, root: str | None = None,
                  launch: Callable[[App, str, Path], object] = run_viewer_process) -> None:
    """Show the picker on ``app``; open the chosen session with ``launch``."""
    def chosen(choice: Choice | None) -> None:
        if choice is not None:
            launch(app, *choice)

    app.push_screen(SessionPickerScreen(list_sessions(root), launch), chosen)
