"""TensorBoard event files of a run: live (an event consumer) or from a recorded session.

One writer serves both: ``twb train --tensorboard DIR`` hands it the engine's events as they
happen, ``twb sessions export-tb`` replays a session's recorded events through it. Scalars:
``train/loss``, ``train/lr`` and ``train/samples_per_s`` per logged step; ``val/loss`` and
``val/accuracy`` per mid-epoch evaluation and per epoch end, at the global step (an epoch end at
the last step before it), so both share TensorBoard's step axis; ``train/epoch_loss`` per epoch.
At the end the run's settings go to the HParams tab, in the SAME run folder (``run_name="."``:
without it ``add_hparams`` makes a timestamped subfolder, a run of its own that the HParams tab
cannot join to the curves).

``tensorboard`` is an optional extra, imported only here and only when asked for.
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

from core import events as ev
from core.errors import UserError

INSTALL = "pip install 'transformer-workbench[tensorboard]'"
EVENT_FILE_PREFIX = "events.out.tfevents."
_REPLAYED = {"RunStarted", "StepLogged", "ValidationReported", "EpochCompleted", "TrainingFinished",
             "TrainingFailed", "TrainingCancelled"}


def summary_writer_class():
    """torch's SummaryWriter; UserError naming the extra to install when tensorboard is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserError("TensorBoard output needs the tensorboard package", f"install it: {INSTALL}") from None
    return SummaryWriter


def _hparam_value(value: Any) -> bool | int | float | str:
    """What the HParams tab can show: numbers, booleans and strings; anything else as its text."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return "" if value is None else str(value)


class TensorBoardWriter:
    """An event consumer writing one run folder. ``error`` is set (and writing stops) when a write fails,
    so a full disk never stops training."""

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        writer_class = summary_writer_class()
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._writer = writer_class(log_dir=str(self.run_dir))
        except OSError as exc:
            raise UserError(f"cannot write TensorBoard files in {self.run_dir}: {exc.strerror or exc}",
                            "choose a writable folder") from None
        self.error: str | None = None
        self._hparams: dict[str, Any] | None = None
        self._steps_per_epoch = 0
        self._last_step = 0
        self._best: float | None = None
        self._final: dict[str, float] = {}
        self._hparams_written = False

    def __call__(self, event: ev.Event) -> None:
        if self.error is not None:
            return
        try:
            self._write(event)
        except OSError as exc:
            self.error = f"TensorBoard files in {self.run_dir} stopped: {exc.strerror or exc}"

    def _write(self, event: ev.Event) -> None:
        w = self._writer
        if isinstance(event, ev.RunStarted):
            self._hparams = {f"{section}.{key}": _hparam_value(value)
                             for section, values in event.config.items() if isinstance(values, dict)
                             for key, value in values.items()}
            self._steps_per_epoch = event.steps_per_epoch
        elif isinstance(event, ev.StepLogged):
            self._last_step = event.step
            w.add_scalar("train/loss", event.loss, event.step)
            w.add_scalar("train/lr", event.lr, event.step)
            w.add_scalar("train/samples_per_s", event.samples_per_s, event.step)
        elif isinstance(event, ev.ValidationReported):
            self._validation(event.step, event.val_loss, event.val_accuracy)
        elif isinstance(event, ev.EpochCompleted):
            step = self._last_step or event.epoch * self._steps_per_epoch
            self._validation(step, event.val_loss, event.val_accuracy)
            w.add_scalar("train/epoch_loss", event.train_loss, step)
            self._final = {"hparam/final_train_loss": event.train_loss, "hparam/final_val_loss": event.val_loss,
                           "hparam/final_val_accuracy": event.val_accuracy}
        elif isinstance(event, ev.TERMINAL_EVENTS):
            self.write_hparams()
            w.flush()

    def _validation(self, step: int, loss: float, accuracy: float) -> None:
        self._writer.add_scalar("val/loss", loss, step)
        self._writer.add_scalar("val/accuracy", accuracy, step)
        if math.isfinite(accuracy) and (self._best is None or accuracy > self._best):
            self._best = accuracy

    def write_hparams(self) -> None:
        """The settings and the run's best and final metrics, once, into this run's folder."""
        if self._hparams_written or self._hparams is None:
            return
        metrics = {k: v for k, v in self._final.items() if math.isfinite(v)}
        if self._best is not None:
            metrics["hparam/best_val_accuracy"] = self._best
        # run_name "." keeps them in this folder (see the module docstring).
        self._writer.add_hparams(self._hparams, metrics, run_name=".", global_step=self._last_step)
        self._hparams_written = True

    def close(self) -> None:
        """Write the settings if no final event came (a crash, a cancelled export) and close the files."""
        try:
            if self.error is None:
                self.write_hparams()
            self._writer.close()
        except OSError as exc:
            self.error = self.error or f"TensorBoard files in {self.run_dir} stopped: {exc.strerror or exc}"


def export_session(log, logdir: str | os.PathLike) -> Path:
    """Write a recorded session's events as the run folder ``logdir/<session folder>``; returns it.

    The files are written into a hidden sibling folder first and renamed at the end, so an
    export that fails leaves nothing half-written; an earlier export of the session is replaced.
    """
    logdir = Path(logdir)
    final = logdir / log.folder.name
    if final.exists() and not _holds_only_event_files(final):
        raise UserError(f"{final} exists and holds more than TensorBoard event files",
                        "choose another --logdir, or move that folder away")
    partial = logdir / f".{log.folder.name}.partial"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        writer = TensorBoardWriter(partial)
        damaged = set(log.raw_index)
        try:
            for index, _ in log.records(only=_REPLAYED):
                if index in damaged:
                    continue
                event = log.event(index)
                if not isinstance(event, dict):  # a record that does not read back as an event is skipped
                    writer(event)
        finally:
            writer.close()
        if writer.error is not None:
            raise UserError(writer.error, "free some space or choose another --logdir")
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
    except OSError as exc:
        raise UserError(f"cannot write TensorBoard files in {logdir}: {exc.strerror or exc}",
                        "choose a writable --logdir") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final


def _holds_only_event_files(folder: Path) -> bool:
    return all(p.name.startswith(EVENT_FILE_PREFIX) for p in folder.rglob("*") if not p.is_dir())
