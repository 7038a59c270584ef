"""One line per session for `twb sessions`: name, start, status, epochs, best accuracy, duration."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from core.sessions import names
from core.formatting import format_duration
from core.sessions.reader import SessionLog
from core.sessions.schema import SessionError, SessionStatus


@dataclass(frozen=True)
class SessionSummary:
    folder: Path
    name: str
    started: str  # local time "YYYY-mm-dd HH:MM", or "" when unknown
    status: SessionStatus | Literal["unreadable"]
    epochs: int  # highest epoch completed
    total_epochs: int | None
    best_val_accuracy: float | None
    duration_s: float | None
    records: int
    problems: list[str]

    def as_dict(self) -> dict:
        return {"folder": str(self.folder), "name": self.name, "started": self.started, "status": self.status,
                "epochs": self.epochs, "total_epochs": self.total_epochs, "best_val_accuracy": self.best_val_accuracy,
                "duration_s": self.duration_s, "records": self.records, "problems": self.problems}


def summarize(folder: str | os.PathLike) -> SessionSummary:
    folder = Path(folder)
    try:
        log = SessionLog.open(folder)
    except SessionError as exc:
        return _unreadable(folder, exc.message)
    except OSError as exc:  # e.g. a log the user may not read: that session only
        return _unreadable(folder, f"{folder / names.LOG_NAME} cannot be read: {exc.strerror or exc}")
    return summarize_log(log)


def _unreadable(folder: Path, problem: str) -> SessionSummary:
    return SessionSummary(folder, names.user_name(folder.name), _stamp_of(folder.name), "unreadable",
                          0, None, None, None, 0, [problem])


def summarize_log(log: SessionLog) -> SessionSummary:
    # Mid-epoch evaluations (train.eval_every_steps) count: the best checkpoint may come from one.
    accuracies = [r["val_accuracy"] for _, r in (*log.epochs, *log.validations)
                  if isinstance(r.get("val_accuracy"), (int, float)) and math.isfinite(r["val_accuracy"])]
    epochs = max((int(r.get("epoch") or 0) for _, r in log.epochs), default=0)
    total = log.runs[-1][1].get("total_epochs") if log.runs else None
    times = [t for t in (log.ts[0], log.ts[-1]) if math.isfinite(t)] if len(log) else []
    duration = times[-1] - times[0] if len(times) == 2 else None
    header_name = log.header.get("name")
    return SessionSummary(
        folder=log.folder, name=header_name if isinstance(header_name, str) and header_name else log.name,
        started=_started(log), status=log.status(), epochs=epochs, total_epochs=total,
        best_val_accuracy=max(accuracies) if accuracies else None, duration_s=duration,
        records=len(log), problems=[p.message for p in log.problems])


def list_sessions(root: str | os.PathLike | None = None) -> list[SessionSummary]:
    """Every session under the root, oldest first."""
    return [summarize(folder) for folder in names.list_session_dirs(names.sessions_root(root))]


def format_table(summaries: list[SessionSummary]) -> str:
    """A fixed-width table; problems counted in the last column."""
    rows = [("NAME", "STARTED", "STATUS", "EPOCHS", "BEST VAL ACC", "DURATION", "FOLDER")]
    for s in summaries:
        epochs = f"{s.epochs}/{s.total_epochs}" if s.total_epochs else str(s.epochs)
        acc = f"{s.best_val_accuracy:.4f}" if s.best_val_accuracy is not None else "-"
        status = s.status + (f" ({len(s.problems)} problem{'s' if len(s.problems) > 1 else ''})" if s.problems else "")
        rows.append((s.name, s.started or "-", status, epochs, acc, format_duration(s.duration_s), s.folder.name))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def _started(log: SessionLog) -> str:
    if len(log) and math.isfinite(log.ts[0]):
        return datetime.fromtimestamp(log.ts[0]).strftime("%Y-%m-%d %H:%M")
    return _stamp_of(log.folder.name)


def _stamp_of(folder_name: str) -> str:
    try:
        return datetime.strptime(folder_name[:15], "%Y%m%d-%H%M%S").strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""
