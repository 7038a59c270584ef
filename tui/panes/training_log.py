"""Pane 2: the live training log.

Everything here is derived from engine events (``apply_event``): progress for the epoch and
the run with ETA and throughput, the tutorial-format epoch lines, the curves, the final
per-class report and confusion matrix, and a status line with device and memory. A live
Trainer and a replayed session therefore look identical.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import RichLog

from core.events import (
    CheckpointSaved, EpochCompleted, ClassReportComputed, Event, RunStarted, StepLogged,
    TrainingCancelled, TrainingFailed, TrainingFinished, ValidationReported,
)
from tui import format as fmt

if TYPE_CHECKING:
    from core.sessions.curves import ChartSeries
from tui.widgets.curves import Curves
from tui.widgets.status import Meter, TextLine

PROGRESS_INTERVAL = 0.5  # seconds between progress repaints while training
IDLE_STATUS = "idle: F6 starts training with the form's settings, F8 resumes from a checkpoint"


class TrainingLogPane(Vertical):
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
        self._latest_step: StepLogged | None = None

    def compose(self) -> ComposeResult:
        yield TextLine(IDLE_STATUS, id="train-status")
        yield Meter("epoch", id="epoch-bar")
        yield Meter("run", id="run-bar")
        yield TextLine("", id="train-stats")
        with Horizontal(id="train-body"):
            yield RichLog(id="train-log", wrap=False, markup=False, highlight=False, max_lines=2000)
            yield Curves(id="curves")

    # --- helpers -------------------------------------------------------------------------

    def write(self, line: str) -> None:
        self.lines.append(line)
        self.query_one("#train-log", RichLog).write(line)

    def _status(self, text: str) -> None:
        self.query_one("#train-status", TextLine).set(text)

    def _memory_label(self) -> str:
        return "GPU memory" if self.device.startswith("cuda") else "memory (RSS)"

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
        self.report = ""
        # A resumed run continues the curves (x is epochs from the global step); a new one restarts them.
        self.query_one(Curves).keep_until(e.start_epoch if e.start_epoch else float("-inf"))
        self.query_one("#epoch-bar", Meter).set(0, max(1, e.steps_per_epoch), f"epoch {e.start_epoch + 1}/{e.total_epochs}")
        self.query_one("#run-bar", Meter).set(e.start_epoch * e.steps_per_epoch, max(1, e.total_epochs * e.steps_per_epoch))
        self.query_one("#train-stats", TextLine).set("")
        self._status(f"running on {e.device} · {fmt.count(e.num_parameters)} parameters")
        resumed = f", resumed after epoch {e.start_epoch}" if e.start_epoch else ""
        source = e.data_summary.get("source", e.config.get("data", {}).get("source", "")) if e.data_summary else ""
        self.write(f"Training on {e.device}: {fmt.count(e.num_train)} train / {fmt.count(e.num_val)} val examples"
                   f"{' from ' + str(source) if source else ''}, classes {', '.join(e.label_names)}{resumed}")

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
        self.query_one("#train-stats", TextLine).set(
            f"step {e.step}/{e.total_steps} · loss {e.loss:.4f} · lr {e.lr:.2e} · "
            f"{fmt.rate(e.samples_per_s)} samples/s · {fmt.rate(e.tokens_per_s)} tokens/s · "
            f"elapsed {fmt.duration(e.elapsed_s)} · ETA {fmt.duration(e.eta_s)}"
        )
        self._status(f"running on {self.device} · {self._memory_label()} {fmt.size(e.memory_bytes)}")

    def _on_EpochCompleted(self, e: EpochCompleted) -> None:
        bar = self.query_one("#epoch-bar", Meter)
        bar.set(bar.total)
        self.write(e.seed_line())
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
        for line in self.report.splitlines():
            self.write(line)

    def _on_CheckpointSaved(self, e: CheckpointSaved) -> None:
        if e.kind in ("last", "interrupt"):
            self.last_checkpoint = e.path
        metric = f" ({e.metric:.4f})" if e.metric is not None else ""
        self.write(f"Saved {e.kind} checkpoint, epoch {e.epoch}{metric}: {e.path}")

    def _finish(self, state: str, text: str) -> None:
        self.state = state
        self.write(text)
        self._status(text)
        self.query_one(Curves).redraw()  # the final state is always on screen

    def _on_TrainingFinished(self, e: TrainingFinished) -> None:
        bar = self.query_one("#run-bar", Meter)
        bar.set(bar.total)
        best = f"; best {e.best_metric:.4f} at epoch {e.best_epoch}" if e.best_metric is not None else ""
        why = "stopped early" if e.reason == "early_stopped" else "finished"
        self._finish("finished", f"Training {why}: {e.epochs_completed} epochs in {fmt.duration(e.elapsed_s)}{best}")

    def _on_TrainingFailed(self, e: TrainingFailed) -> None:
        where = f" (epoch {e.epoch}, step {e.step})" if e.step is not None else ""
        self._finish("failed", f"Training failed{where}: {e.message}" + (f" - {e.hint}" if e.hint else ""))

    def _on_TrainingCancelled(self, e: TrainingCancelled) -> None:
        if e.checkpoint_dir:
            self.last_checkpoint = e.checkpoint_dir
        saved = f"; checkpoint {e.checkpoint_dir}" if e.checkpoint_dir else ""
        self._finish("cancelled", f"Training cancelled at epoch {e.epoch}, step {e.step}{saved}")

    def note(self, text: str) -> None:
        """A line from the app itself (e.g. 'training engine not available')."""
        self.write(text)

    # --- the pane contract (tui.pane) ------------------------------------------------------------

    def reset(self) -> None:
        self.query_one("#train-log", RichLog).clear()
        self.lines.clear()
        self.report = ""
        self.state = "idle"
        self._latest_step = None
        self.query_one(Curves).clear()

    def show_recorded(self, item: ChartSeries | str) -> None:
        """A replayed note line, or the charts so far in one piece (instead of step by step)."""
        if isinstance(item, str):
            self.note(item)
        else:
            self.query_one(Curves).set_series(item)
