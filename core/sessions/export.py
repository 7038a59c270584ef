"""Sessions' metrics as CSV, one row per logged step, mid-epoch validation and epoch, for plotting elsewhere.

The last column, ``session``, names the session folder each row came from, so several sessions
fit in one file (and a plot tool can group by it); it is last so a reader of the older
single-session columns by position still finds them where they were.

A NaN (null in the log) is an empty cell, as is a field the row's kind does not have.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TextIO

from core.files import write_text_atomic
from core.sessions.reader import SessionLog

COLUMNS = ["kind", "epoch", "step", "epoch_progress", "loss", "lr", "samples_per_s", "tokens_per_s",
           "elapsed_s", "train_loss", "val_loss", "val_accuracy", "train_accuracy", "time", "session"]
_STEP_FIELDS = ("epoch", "step", "epoch_progress", "loss", "lr", "samples_per_s", "tokens_per_s", "elapsed_s")
_EPOCH_FIELDS = ("epoch", "train_loss", "val_loss", "val_accuracy", "train_accuracy", "elapsed_s")
_VALIDATION_FIELDS = ("epoch", "step", "val_loss", "val_accuracy", "elapsed_s")


def write_csv(log: SessionLog, out: TextIO, header: bool = True) -> int:
    """Stream the rows to ``out`` (file order); returns the number of data rows.

    An epoch row carries the step of the last logged step before it, so both kinds sort on one axis.
    """
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    rows = 0
    last_step: object = ""
    damaged = set(log.raw_index)  # reported by the reader, not rows
    for index, r in log.records(only={"StepLogged", "ValidationReported", "EpochCompleted"}):
        if index in damaged:
            continue
        if r.get("type") == "StepLogged":
            row = {k: r.get(k) for k in _STEP_FIELDS}
            row["kind"] = "step"
            last_step = r.get("step", "")
        elif r.get("type") == "ValidationReported":
            row = {k: r.get(k) for k in _VALIDATION_FIELDS}
            row["kind"] = "validation"
        elif r.get("type") == "EpochCompleted":
            row = {k: r.get(k) for k in _EPOCH_FIELDS}
            row["kind"] = "epoch"
            row["step"] = last_step
        else:  # a line of those types that is not JSON: reported by the reader, not a row
            continue
        row["time"] = r.get("ts")
        row["session"] = log.folder.name
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS])
        rows += 1
    return rows


def write_many(logs: list[SessionLog], out: TextIO) -> int:
    """Every session's rows under one header, session after session; returns the number of data rows."""
    out.write(",".join(COLUMNS) + "\n")
    return sum(write_csv(log, out, header=False) for log in logs)


def export_csv(logs: SessionLog | list[SessionLog], path: str | os.PathLike) -> int:
    """Write the CSV of one session or several atomically to ``path``; returns the number of data rows."""
    import io

    buffer = io.StringIO()
    rows = write_many(logs if isinstance(logs, list) else [logs], buffer)
    write_text_atomic(Path(path), buffer.getvalue())
    return rows
