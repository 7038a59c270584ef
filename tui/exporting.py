"""F9: write the current run's classifier as a Hugging Face model folder (``twb export`` in the UI).

The app feeds every engine event to a ``RunCheckpoints``, which remembers where the run's best
and last checkpoints are; the key asks for a destination (prefilled with ``exports/<run>``) and
exports in a thread worker (torch and transformers load there, never in the UI thread). The
console then lists the new folder among its local models.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from textual.app import App

from core.events import CheckpointSaved, Event, RunStarted, TrainingCancelled, TrainingFinished
from tui.screens.dialogs import PromptScreen

EXPORTS_DIR = "exports"  # also one of the folders the console looks into for models
NO_RUN = "No trained model yet: train (F6) or resume a run (F8) first, then export."


class RunCheckpoints:
    """The checkpoints of the run on screen, from its events (live or replayed)."""

    def __init__(self) -> None:
        self.best: str | None = None
        self.last: str | None = None

    def note(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.best = self.last = None
        elif isinstance(event, CheckpointSaved):
            if event.kind == "best":
                self.best = event.path
            else:  # "last" or "interrupt": whichever came latest is the furthest along
                self.last = event.path
        elif isinstance(event, (TrainingFinished, TrainingCancelled)) and event.checkpoint_dir:
            self.last = event.checkpoint_dir

    def to_export(self) -> str | None:
        """The best checkpoint, else the last one; a resumed run's best may predate its events."""
        if self.best:
            return self.best
        if self.last:
            earlier_best = Path(self.last).parent / "best"
            return str(earlier_best) if (earlier_best / "model.safetensors").is_file() else self.last
        return None


def default_destination(checkpoint: str) -> str:
    """exports/<run folder name>: the checkpoint's parent is the run's out dir (runs/<date-time>)."""
    run = Path(checkpoint).resolve().parent
    if run.name == "checkpoints":  # a session's run (<session>/checkpoints): named after its session
        run = run.parent
    return str(Path(EXPORTS_DIR) / run.name)


class Exporter:
    """The export key's work, held by the app as ``app.exporter`` (the app's ``action_export_model``
    calls ``ask_and_export``): ask where, then export in a thread worker."""

    def __init__(self, app: App, checkpoints: RunCheckpoints) -> None:
        self.app = app
        self.checkpoints = checkpoints
        self.last_export: Path | None = None

    def ask_and_export(self) -> None:
        app = self.app
        checkpoint = self.checkpoints.to_export()
        if checkpoint is None:
            app.notify(NO_RUN, title="Nothing to export", severity="warning")
            return

        def chosen(folder: str | None) -> None:
            if folder:
                app.notify(f"Exporting {checkpoint} to {folder} ...")
                app.run_worker(partial(self._export, checkpoint, folder), thread=True, exclusive=True,
                               exit_on_error=False, group="export")

        app.push_screen(PromptScreen(f"Export {checkpoint} as a Hugging Face model folder to:",
                                     default_destination(checkpoint), "exports/my-model"), chosen)

    def _export(self, checkpoint: str, folder: str) -> None:  # in a thread worker
        from core.errors import UserError
        from core.hf.export import export_checkpoint
        from core.hf.pipelines.loading import quiet_transformers

        app = self.app
        quiet_transformers()  # its progress bars would write over the screen the UI owns
        try:
            out = export_checkpoint(checkpoint, folder)
        except UserError as exc:
            app.call_from_thread(app.notify, str(exc), title="Not exported", severity="error")
            return
        except OSError as exc:
            app.call_from_thread(app.notify, f"Cannot write {folder}: {exc}", title="Not exported", severity="error")
            return
        app.call_from_thread(self._exported, Path(out).resolve())

    def _exported(self, out: Path) -> None:
        self.last_export = out
        self.app.notify(f"Exported to {out}; the pipeline console (F5) lists it for text-classification.",
                        title="Exported")
        console = getattr(self.app, "console_pane", None)
        if console is not None:
            console.load_models()
            console.note_export(str(out))
