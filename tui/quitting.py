"""What quitting asks while a run trains: cancel it, or, for a child job, stop it or leave it.

A run in the workbench's own thread ends with the workbench (cancelled, its last checkpoint
kept); a child job (core.commands.train_job) can outlive it, so the user chooses.
"""
from __future__ import annotations

from typing import Any

from tui.screens.dialogs import ChoiceScreen, ConfirmScreen


def ask_before_quitting(app: Any) -> None:
    """Push the question for ``app``'s running training; the answer stops it or leaves it, then exits."""
    job = app.trainer
    if getattr(job, "detachable", False):
        async def chosen(answer: str | None) -> None:
            if answer == "leave":
                job.detach()  # it goes on recording its session: `twb attach` follows it
                app.exit()
            elif answer == "stop":
                await app.stop_training()
                app.exit()

        app.push_screen(ChoiceScreen(f"A {job.describe()} is running. Stop it (it saves a checkpoint), "
                                     "or leave it running and follow it later with `twb attach`?",
                                     [("s", "Stop it and quit", "stop"), ("l", "Leave it running", "leave")]), chosen)
        return

    async def answered(yes: bool | None) -> None:
        if yes:
            await app.stop_training()
            app.exit()

    app.push_screen(ConfirmScreen("Training is running. Cancel it and quit?", yes="Cancel and quit", no="Keep training"),
                    answered)
