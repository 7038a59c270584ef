"""Pane 2: the live training log.

Everything here is derived from engine events (``apply_event``): progress for the epoch and
the run with ETA and throughput, the tutorial-format epoch lines, the curves, the final
per-class report and confusion matrix, and a status line with device and memory. A live
Trainer and a replayed session therefore look identical. After the report, the matrix is also
a ``ConfusionGrid`` under the log: Enter on a cell posts ``CellPicked`` for the app to open the
errors browser on that cell.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message

from core.events import (
    CheckpointSaved, EpochCompleted, ClassReportComputed, Event, RunStarted, StepLogged,
    TrainingCancelled, TrainingFailed, TrainingFinished, ValidationReported,
)
from tui import format as fmt
from tui.commands import TRAINING_BINDINGS
from tui.image_saving import ImageSaver

if TYPE_CHECKING:
    from core.sessions.curves import ChartSeries
from tui.widgets.confusion import ConfusionGrid
from tui.widgets.curves import Curves
from tui.widgets.status import Meter, TextLine
from tui.widgets.wrapping_log import WrappingLog

PROGRESS_INTERVAL = 0.5  # seconds between progress repaints while training
IDLE_STATUS = "idle · F6 trains with the form's settings · F8 resumes a checkpoint"
METRIC_NAMES = {"val_loss": "val loss", "val_accuracy": "val accuracy"}


def epoch_table_header(total_epochs: int) -> list[str]:
    """Two header lines over ``epoch_row``s: the tutorial's epoch line is 70 characters, more than
    the log has beside the curves at 80 columns, so the log shows the same numbers as a table."""
    width = len(f"Epoch {total_epochs}/{total_epochs}")
    return [f"{'':<{width}}  {'Train':>6}  {'Val':>6}  {'Val':>8}",
            f"{'':<{width}}  {'loss':>6}  {'loss':>6}  {'accuracy':>8}"]


def epoch_row(e: EpochCompleted) -> str:
    width = len(f"Epoch {e.total_epochs}/{e.total_epochs}")
    return (f"{f'Epoch {e.epoch}/{e.total_epochs}':<{width}}  {e.train_loss:>6.4f}  {e.val_loss:>6.4f}  "
            f"{e.val_accuracy:>8.4f}")


# Rows of the report the log shows; the headless printer caps at the same number.
REPORT_MAX_CLASSES = 20


def compact_report(e: ClassReportComputed) -> list[str]:
    """The per-class report in the width the log has beside the curves (the full table, 61+
    characters wide, is ``report`` and the headless printer's)."""
    return e.table(max_classes=REPORT_MAX_CLASSES, compact=True).splitlines()


class TrainingLogPane(Vertical):
    BINDINGS = TRAINING_BINDINGS

    class CellPicked(Message):
        """Enter on the matrix: list the validation examples of (true, predicted); None: every error."""

        def __init__(self, cell: tuple[str, str] | None) -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Training"
        self.state = "idle"  # idle | running | finished | failed | cancelled
        self.device = ""
        self.total_epochs = 0
        self.steps_per_epoch = 0
        self.lines: list[str] = []  # every line written to the log, for tests and captures
        self.report: str = ""
        self.last_checkpoint: str | None = None
        self.metric = "val loss"  # what "best" means in this run (train.early_stopping_metric)
        self.total_steps = 0
        self._latest_step: StepLogged | None = None
        self.images = ImageSaver()

    def compose(self) -> ComposeResult:
        yield TextLine(IDLE_STATUS, id="train-status")
        yield Meter("epoch", id="epoch-bar")
        yield Meter("run", id="run-bar")
        yield TextLine("", id="train-stats")
        with Horizontal(id="train-body"):
            with Vertical(id="train-left"):
                # Wrapped, not cut: failure messages and paths are longer than the log is wide.
                yield WrappingLog(id="train-log", markup=False, highlight=False, max_lines=2000)
                yield ConfusionGrid(id="train-matrix")  # shown with the report (class -report)
            yield Curves(id="curves")

    # --- helpers -------------------------------------------------------------------------

    def write(self, line: str) -> None:
        self.lines.append(line)
        self.query_one("#train-log", WrappingLog).write(line)

    def _status(self, text: str) -> None:
        self.query_one("#train-status", TextLine).set(text)

    def _memory_label(self) -> str:
        return "GPU memory" if self.device.startswith("cuda") else "memory (RSS)"

    def reset(self, resume_from: str | None = None) -> None:
        """A new run starts: nothing of the previous one stays on screen (bars, report, log)."""
        self.state = "idle"
        self.report = ""
        self.last_checkpoint = resume_from  # F8 offers this run's checkpoint, never an earlier run's
        self._latest_step = None
        self.lines.clear()
        self.remove_class("-report")
        self.query_one("#train-log", WrappingLog).clear()
        self.query_one("#epoch-bar", Meter).set(0, 1, "epoch")
        self.query_one("#run-bar", Meter).set(0, 1)
        self.query_one("#train-stats", TextLine).set("")
        self._status("starting ...")
        self.query_one(Curves).clear()

    # --- events --------------------------------------------------------------------------

    def apply_event(self, event: Event) -> None:
        if not isinstance(event, StepLogged):
            self.flush_progress()
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler is not None:
            handler(event)

    def _on_RunStarted(self, e: RunStarted) -> None:
        self.state = "running"
        self.device = e.device
        self.total_epochs = e.total_epochs
        self.steps_per_epoch = e.steps_per_epoch
        self.total_steps = e.total_epochs * e.steps_per_epoch
        metric = (e.config or {}).get("train", {}).get("early_stopping_metric", "val_loss")
        self.metric = METRIC_NAMES.get(metric, metric)
        self.report = ""
        self.remove_class("-report")
        # A resumed run continues the curves (x is epochs from the global step); a new one restarts them.
        self.query_one(Curves).keep_until(e.start_epoch if e.start_epoch else float("-inf"))
        self.query_one("#epoch-bar", Meter).set(0, max(1, e.steps_per_epoch), f"epoch {e.start_epoch + 1}/{e.total_epochs}")
        self.query_one("#run-bar", Meter).set(e.start_epoch * e.steps_per_epoch, max(1, e.total_epochs * e.steps_per_epoch))
        self.query_one("#train-stats", TextLine).set("")
        self._status(f"running on {e.device} · {fmt.count(e.num_parameters)} parameters")
        resumed = f", resumed after epoch {e.start_epoch}" if e.start_epoch else ""
        source = e.data_summary.get("source", e.config.get("data", {}).get("source", "")) if e.data_summary else ""
        self.write(f"Training on {e.placement()}: {fmt.count(e.num_train)} train / {fmt.count(e.num_val)} val examples"
                   f"{' from ' + str(source) if source else ''}, classes {', '.join(e.label_names)}{resumed}")
        for notice in e.notices():
            self.write(notice)
        for line in epoch_table_header(e.total_epochs):
            self.write(line)

    def _on_StepLogged(self, e: StepLogged) -> None:
        # Progress is drawn at most every PROGRESS_INTERVAL: each repaint costs the UI thread
        # a frame, and the training thread shares the GIL (and the CPU) with it.
        self.query_one(Curves).add_step(self._epochs_at(e.step, e.epoch - 1 + e.epoch_progress), e.loss)
        self._latest_step = e

    def on_mount(self) -> None:
        self.set_interval(PROGRESS_INTERVAL, self.flush_progress)

    def flush_progress(self) -> None:
        """Draw the newest progress now (also called before anything that follows it in the log)."""
        e, self._latest_step = self._latest_step, None
        if e is None:
            return
        steps_done_in_epoch = round(e.epoch_progress * self.steps_per_epoch) if self.steps_per_epoch else 0
        self.query_one("#epoch-bar", Meter).set(steps_done_in_epoch, label=f"epoch {e.epoch}/{self.total_epochs or '?'}")
        self.query_one("#run-bar", Meter).set(e.step, max(1, e.total_steps))
        self.total_steps = e.total_steps
        # Most important first: what does not fit the width is left off from the end.
        self.query_one("#train-stats", TextLine).set_parts([
            f"step {e.step}/{e.total_steps}", f"loss {e.loss:.4f}", f"ETA {fmt.duration(e.eta_s)}",
            f"elapsed {fmt.duration(e.elapsed_s)}", f"{fmt.rate(e.samples_per_s)} samples/s",
            *([e.ranks_line()] if e.ranks else []),  # a rank falling behind shows here
            f"{fmt.rate(e.tokens_per_s)} tokens/s", f"lr {e.lr:.2e}",
        ])
        self._status(f"running on {self.device} · {self._memory_label()} {fmt.size(e.memory_bytes)}")

    def _on_EpochCompleted(self, e: EpochCompleted) -> None:
        bar = self.query_one("#epoch-bar", Meter)
        bar.set(bar.total)
        self.write(epoch_row(e))
        self.query_one(Curves).add_epoch(e.epoch, e.train_loss, e.val_loss, e.val_accuracy, e.train_accuracy)

    def _epochs_at(self, step: int, fallback: float) -> float:
        return step / self.steps_per_epoch if self.steps_per_epoch else fallback

    def _on_ValidationReported(self, e: ValidationReported) -> None:
        best = " (best so far)" if e.improved else ""
        self.write(f"Step {e.step} (epoch {e.epoch}), Val Loss: {e.val_loss:.4f}, Val Accuracy: {e.val_accuracy:.4f}{best}")
        self.query_one(Curves).add_validation(self._epochs_at(e.step, float(e.epoch)), e.val_loss, e.val_accuracy)

    def _on_ClassReportComputed(self, e: ClassReportComputed) -> None:
        self.report = e.table()
        self.write("")
        for line in compact_report(e):
            self.write(line)
        self.query_one("#train-matrix", ConfusionGrid).set_matrix(e.label_names, e.confusion)
        self.add_class("-report")

    @on(ConfusionGrid.Picked)  # the pane has one: the matrix under the log
    def _cell_picked(self, message: ConfusionGrid.Picked) -> None:
        message.stop()  # the app hears it as this pane's CellPicked
        self.post_message(self.CellPicked(message.cell))

    def _on_CheckpointSaved(self, e: CheckpointSaved) -> None:
        if e.kind in ("last", "interrupt"):
            self.last_checkpoint = e.path
        metric = f" ({self.metric} {e.metric:.4f})" if e.metric is not None and e.kind == "best" else ""
        # CheckpointSaved.epoch counts the epochs completed; an interrupt falls inside the next one.
        when = (f"step {e.step}, in epoch {e.epoch + 1}" if e.kind == "interrupt" else f"epoch {e.epoch}")
        self.write(f"Saved {e.kind} checkpoint, {when}{metric}: {e.path}")

    def _finish(self, state: str, text: str, status: str, step: int | None) -> None:
        """The run ended: the full ``text`` in the log (wrapped), a short ``status`` line, and the
        step counter showing where it ended rather than the last progress report."""
        self.state = state
        self._latest_step = None  # progress still queued is older than the end
        self.write(text)
        self._status(status)
        if step is not None:
            self.query_one("#train-stats", TextLine).set(f"ended at step {step}/{self.total_steps or '?'}")
        self.query_one(Curves).redraw()  # the final state is always on screen

    def _on_TrainingFinished(self, e: TrainingFinished) -> None:
        bar = self.query_one("#run-bar", Meter)
        best = f"; best {self.metric} {e.best_metric:.4f} at epoch {e.best_epoch}" if e.best_metric is not None else ""
        early = e.reason == "early_stopped"
        why = "stopped early" if early else "finished"
        step = e.epochs_completed * self.steps_per_epoch if early and self.steps_per_epoch else self.total_steps
        bar.set(step if early else bar.total)
        self._finish("finished", f"Training {why}: {e.epochs_completed} epochs in {fmt.duration(e.elapsed_s)}{best}",
                     f"{why} · {e.epochs_completed} epochs{best.replace(';', ' ·')}", step)

    def _on_TrainingFailed(self, e: TrainingFailed) -> None:
        where = f" (epoch {e.epoch}, step {e.step})" if e.step is not None else ""
        self._finish("failed", f"Training failed{where}: {e.message}" + (f" - {e.hint}" if e.hint else ""),
                     "failed · the message is in the log below", e.step)

    def _on_TrainingCancelled(self, e: TrainingCancelled) -> None:
        if e.checkpoint_dir:
            self.last_checkpoint = e.checkpoint_dir
        # TrainingCancelled.epoch counts the epochs completed; the bar shows the one in progress.
        in_progress = e.step > e.epoch * self.steps_per_epoch if self.steps_per_epoch else False
        total = self.total_epochs or "?"
        where = (f"in epoch {e.epoch + 1}/{total} ({e.epoch} complete)" if in_progress
                 else f"after epoch {e.epoch}/{total}")
        saved = f"; checkpoint {e.checkpoint_dir} (F8 resumes it)" if e.checkpoint_dir else ""
        self._finish("cancelled", f"Training cancelled {where}, at step {e.step}{saved}",
                     f"cancelled {where}" + (" · F8 resumes it" if e.checkpoint_dir else ""), e.step)

    def action_save_curves(self) -> None:
        from functools import partial

        from core.render import curves_figure

        run = self.query_one(Curves).as_run("this run")
        if not any(point for series in run.series for point in series.points):
            self.app.notify("No curves yet: train (F6) or replay a session first.", title="Nothing to save",
                            severity="warning")
            return
        title = f"training on {self.device}" if self.device else ""
        self.images.ask_and_save(self.app, "the curves", "curves", partial(curves_figure, [run], title))

    def note(self, text: str) -> None:
        """A line from the app itself (e.g. 'training engine not available')."""
        self.write(text)

    # --- the pane contract (tui.pane) ------------------------------------------------------------

    def show_recorded(self, item: ChartSeries | str) -> None:
        """A replayed note line, or the charts so far in one piece (instead of step by step)."""
        if isinstance(item, str):
            self.note(item)
        else:
            self.query_one(Curves).set_series(item)
