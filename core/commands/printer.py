"""The headless consumer of training events: plain lines for a terminal or a log file.

Epochs print the tutorial's line (``Epoch 1/10, Train Loss: ..., Val Loss: ..., Val
Accuracy: ...``); the end prints the per-class report, capped at ``MAX_CLASSES`` classes (the rest,
for every class, goes to a CSV file when one is given). Unless quiet, it also prints a header,
progress every few seconds, and where checkpoints went.
"""
from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path
from typing import TextIO

from core import events as ev
from core.errors import ERROR_PREFIX
from core.files import write_text_atomic
from core.formatting import format_bytes, format_duration

# A report a person reads on a terminal; beyond this the matrix alone is pages per class.
MAX_CLASSES = 20


class HeadlessPrinter:
    """An EventCallback writing lines to ``out`` (and failures to ``err``)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, quiet: bool = False,
                 progress_every_s: float = 5.0, full_report: str | Path | None = None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.quiet = quiet
        # A step line every few seconds is enough for a log; the TUI shows every StepLogged.
        self.progress_every_s = progress_every_s
        self._last_progress = float("-inf")
        self._metric = "metric"
        self.full_report = Path(full_report) if full_report is not None else None  # CSV for big reports

    def _print(self, text: str, stream: TextIO | None = None) -> None:
        print(text, file=stream or self.out, flush=True)

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.EpochCompleted):
            self._print(event.seed_line())
        elif isinstance(event, ev.ClassReportComputed):
            if not self.quiet:
                self._print(f"\nEvaluation on the validation set (epoch {event.epoch}):")
            self._print(event.table(max_classes=MAX_CLASSES))
            if len(event.label_names) > MAX_CLASSES:
                self._print(self._write_full_report(event))
        elif isinstance(event, ev.TrainingFailed):
            hint = f" ({event.hint.splitlines()[0]})" if event.hint else ""
            self._print(f"{ERROR_PREFIX}{event.message}{hint}", self.err)
            rest = event.hint.splitlines()[1:]
            if rest:  # a bug's traceback: kept for the report, after the one-line error
                self._print("\n".join(rest), self.err)
        elif self.quiet:
            return
        elif isinstance(event, ev.RunStarted):
            self._metric = event.config.get("train", {}).get("early_stopping_metric", "metric")
            classes = ", ".join(event.label_names)
            resumed = f", resuming after epoch {event.start_epoch}" if event.start_epoch else ""
            resumed += ", with a fresh optimizer (the checkpoint has no optimizer.pt)" if event.fresh_optimizer else ""
            self._print(
                f"Training on {event.placement()}: {event.num_train:,} train / {event.num_val:,} validation examples, "
                f"{len(event.label_names)} classes ({classes}), {event.num_parameters:,} parameters, "
                f"{event.total_epochs} epochs x {event.steps_per_epoch} steps{resumed}"
            )
            for notice in event.notices():
                self._print(notice)
        elif isinstance(event, ev.StepLogged):
            now = time.monotonic()
            if now - self._last_progress < self.progress_every_s:
                return
            self._last_progress = now
            self._print(
                f"  step {event.step}/{event.total_steps}  epoch {event.epoch} {event.epoch_progress:4.0%}  "
                f"loss {event.loss:.4f}  lr {event.lr:.2e}  {event.samples_per_s:,.0f} samples/s  "
                f"mem {format_bytes(event.memory_bytes)}  eta {format_duration(event.eta_s)}{('  ' + event.ranks_line()) if event.ranks else ''}"
            )
        elif isinstance(event, ev.ValidationReported):
            best = " (best so far)" if event.improved else ""
            self._print(f"  step {event.step} (epoch {event.epoch}): Val Loss: {event.val_loss:.4f}, "
                        f"Val Accuracy: {event.val_accuracy:.4f}{best}")
        elif isinstance(event, ev.CheckpointSaved):
            what = {"best": "best checkpoint", "last": "checkpoint", "interrupt": "interrupt checkpoint"}.get(
                event.kind, f"{event.kind} checkpoint")
            if event.kind != "last":  # saved every epoch; the final line names the folder
                self._print(f"  saved {what}: {event.path}")
        elif isinstance(event, ev.TrainingFinished):
            why = "stopped early (no improvement)" if event.reason == "early_stopped" else "finished"
            best = ""
            if event.best_metric is not None:
                best = f"; best {self._metric} {event.best_metric:.4f} at epoch {event.best_epoch}"
            where = f"; model in {event.checkpoint_dir}" if event.checkpoint_dir else ""
            self._print(f"Training {why} after {event.epochs_completed} epochs in "
                        f"{format_duration(event.elapsed_s)}{best}{where}")
        elif isinstance(event, ev.TrainingCancelled):
            if event.checkpoint_dir:
                self._print(f"Training interrupted at step {event.step}; resume with: "
                            f"twb train --resume {event.checkpoint_dir}")
            else:
                self._print(f"Training cancelled at step {event.step}")

    def _write_full_report(self, event: ev.ClassReportComputed) -> str:
        """Every class's figures as CSV; returns the line that says where they are."""
        if self.full_report is None:
            return f"(showing {MAX_CLASSES} of {len(event.label_names):,} classes)"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["class", "precision", "recall", "f1", "support"])
        for row in zip(event.label_names, event.precision, event.recall, event.f1, event.support):
            writer.writerow(row)
        try:
            self.full_report.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.full_report, buffer.getvalue())
        except OSError as exc:
            return f"(showing {MAX_CLASSES} of {len(event.label_names):,} classes; the full report could not be " \
                   f"written to {self.full_report}: {exc.strerror or exc})"
        return f"(showing {MAX_CLASSES} of {len(event.label_names):,} classes; every class in {self.full_report})"
