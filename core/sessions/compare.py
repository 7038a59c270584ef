"""Several sessions side by side: one row each, for `twb compare` (and later the compare screen).

A row holds what a user asks "which run was better and why" with: status, the best validation
accuracy and the step it was reached (mid-epoch evaluations count, as the best checkpoint may
come from one), the final metrics, duration, throughput, and the run's hyperparameters. Only the
hyperparameters that differ between the compared runs are shown: the rest explain nothing.

Sessions that cannot answer (no epochs yet, a crash, a different label set, a name that matches
nothing) still get a row, with a note saying why its cells are empty.
"""
from __future__ import annotations

import csv
import io
import json
import math
import operator
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from core.errors import UserError
from core.formatting import format_duration
from core.sessions.listing import SessionSummary, summarize_log
from core.sessions.reader import SessionLog

# Metric columns in table order: (key, header). Hyperparameter columns follow them.
METRICS = [("status", "STATUS"), ("best_val_accuracy", "BEST ACC"), ("best_step", "AT STEP"),
           ("train_loss", "TRAIN LOSS"), ("val_loss", "VAL LOSS"), ("val_accuracy", "VAL ACC"),
           ("duration_s", "DURATION"), ("samples_per_s", "SAMPLES/S")]
_SPEED_SAMPLES = 1000  # StepLogged records read for the mean throughput: enough for a mean, fast for long logs


@dataclass
class CompareRow:
    name: str
    folder: str
    status: str
    best_val_accuracy: float | None = None
    best_step: int | None = None
    train_loss: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    duration_s: float | None = None
    samples_per_s: float | None = None
    labels: list[str] | None = None
    hparams: dict[str, Any] = field(default_factory=dict)  # every recorded setting, "section.field"
    notes: list[str] = field(default_factory=list)

    def value(self, column: str) -> Any:
        if column in self.hparams:
            return self.hparams[column]
        return getattr(self, column, None) if column in _ROW_COLUMNS else None


_ROW_COLUMNS = {"name", "folder", *(key for key, _ in METRICS)}


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section, values in config.items():
        if isinstance(values, dict):
            for key, value in values.items():
                flat[f"{section}.{key}"] = value
    return flat


def row_of(log: SessionLog) -> CompareRow:
    """The compare row of one opened session."""
    summary = summarize_log(log)
    row = CompareRow(name=summary.name, folder=log.folder.name, status=summary.status,
                     duration_s=summary.duration_s)
    curves = log.curves
    # (accuracy, step) of every evaluation: an epoch end's step is the last logged step before it.
    evaluations: list[tuple[float, int | None]] = []
    for index, r in log.epochs:
        k = bisect_left(curves.index, index)
        accuracy = _finite(r.get("val_accuracy"))
        if accuracy is not None:
            evaluations.append((accuracy, curves.step[k - 1] if k else None))
    for _, r in log.validations:
        accuracy = _finite(r.get("val_accuracy"))
        if accuracy is not None:
            evaluations.append((accuracy, r.get("step") if isinstance(r.get("step"), int) else None))
    if evaluations:  # the first evaluation that reached the best accuracy
        best = max(evaluations, key=lambda e: e[0])[0]
        row.best_val_accuracy = best
        row.best_step = min((step for acc, step in evaluations if acc == best and step is not None), default=None)
    if log.epochs:
        last = log.epochs[-1][1]
        row.train_loss, row.val_loss = _finite(last.get("train_loss")), _finite(last.get("val_loss"))
        row.val_accuracy = _finite(last.get("val_accuracy"))
    else:
        row.notes.append("no epoch completed")
    row.samples_per_s = _mean_speed(log)
    if log.configs:
        row.hparams = _flatten(log.configs[-1][1])
    if log.runs and isinstance(log.runs[-1][1].get("label_names"), list):
        row.labels = [str(label) for label in log.runs[-1][1]["label_names"]]
    if row.status in ("crashed", "failed", "cancelled", "interrupted"):
        row.notes.append(f"{row.status}: metrics as of the last record ({log.end_detail()})")
    if log.problems:
        row.notes.append(f"{len(log.problems)} problem(s) in the log (see `twb sessions show {row.folder}`)")
    return row


def _mean_speed(log: SessionLog) -> float | None:
    indices = log.curves.index
    stride = max(1, -(-len(indices) // _SPEED_SAMPLES))
    sample = [indices[k] for k in range(0, len(indices), stride)]
    speeds = [_finite(r.get("samples_per_s")) for _, r in log.records_at(sample) if r is not None]
    speeds = [s for s in speeds if s is not None]
    return sum(speeds) / len(speeds) if speeds else None


def row_of_summary(summary: SessionSummary) -> CompareRow:
    """A first row from the listing's summary, shown while the whole log is read for ``row_of``."""
    return CompareRow(name=summary.name, folder=summary.folder.name, status=summary.status,
                      best_val_accuracy=summary.best_val_accuracy, duration_s=summary.duration_s)


def missing_row(ref: str, reason: str) -> CompareRow:
    return CompareRow(name=ref, folder="", status="missing", notes=[reason])


def differing_hparams(rows: list[CompareRow]) -> list[str]:
    """The settings whose recorded value is not the same in every row that has a config."""
    with_config = [r for r in rows if r.hparams]
    keys = sorted({key for r in with_config for key in r.hparams})
    return [key for key in keys
            if len({json.dumps(r.hparams.get(key), sort_keys=True, default=str) for r in with_config}) > 1]


def add_label_notes(rows: list[CompareRow]) -> None:
    """A note on each run whose label set differs from the first run's: accuracies are not comparable."""
    labelled = [r for r in rows if r.labels is not None]
    if labelled and any(r.labels != labelled[0].labels for r in labelled):
        for r in labelled:
            r.notes.append(f"labels {', '.join(r.labels)}: the runs do not share one label set")


# --- sorting and filtering ------------------------------------------------------------------

def columns(rows: list[CompareRow]) -> list[str]:
    return ["name", *(key for key, _ in METRICS), *differing_hparams(rows)]


def sort_rows(rows: list[CompareRow], column: str) -> list[CompareRow]:
    """Sorted by ``column`` (a leading '-' for descending); rows without a value go last."""
    descending = column.startswith("-")
    key = column.lstrip("-")
    known = {"name", *(k for k, _ in METRICS)} | {k for r in rows for k in r.hparams}
    if key not in known:
        raise UserError(f"--sort: unknown column {key!r}",
                        f"use one of {', '.join(columns(rows))} (prefix '-' for descending)")
    present = [r for r in rows if r.value(key) is not None]
    absent = [r for r in rows if r.value(key) is None]
    def order(r: CompareRow):
        v = r.value(key)
        return (0, v, "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0, str(v))
    return sorted(present, key=order, reverse=descending) + absent


_WHERE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<|=)\s*(\S.*?)\s*$")
_OPS = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le,
        "==": operator.eq, "=": operator.eq, "!=": operator.ne}


def parse_where(expression: str, known: set[str]):
    """``COLUMN OP VALUE`` (``val_accuracy>0.8``) as a predicate on rows; UserError when malformed."""
    match = _WHERE.match(expression)
    if not match:
        raise UserError(f"--where {expression!r} is not COLUMN OP VALUE",
                        "write e.g. --where 'val_accuracy>0.8' (operators > >= < <= == !=)")
    column, op, text = match.groups()
    if column not in known:
        raise UserError(f"--where {expression!r}: unknown column {column!r}", f"use one of {', '.join(sorted(known))}")
    try:
        wanted: Any = float(text)
    except ValueError:
        if op not in ("==", "=", "!="):
            raise UserError(f"--where {expression!r}: {text!r} is not a number",
                            "compare with a number, e.g. val_accuracy>0.8") from None
        wanted = text

    def holds(row: CompareRow) -> bool:
        value = row.value(column)
        if value is None:
            return False
        if isinstance(wanted, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            return _OPS[op](float(value), wanted)
        return _OPS[op](str(value), wanted)

    return holds


def filter_rows(rows: list[CompareRow], expressions: list[str]) -> list[CompareRow]:
    known = {"name", *(k for k, _ in METRICS)} | {k for r in rows for k in r.hparams}
    predicates = [parse_where(e, known) for e in expressions]
    return [r for r in rows if all(p(r) for p in predicates)]


def search_rows(rows: list[CompareRow], query: str) -> list[CompareRow]:
    """The rows a typed filter keeps: ``COLUMN OP VALUE`` as --where (UserError when malformed),
    any other text as a case-insensitive match on name, folder and status."""
    query = query.strip()
    if not query:
        return list(rows)
    if _WHERE.match(query) or any(op in query for op in _OPS):
        return filter_rows(rows, [query])
    needle = query.lower()
    return [r for r in rows if needle in f"{r.name}\n{r.folder}\n{r.status}".lower()]


# --- output ----------------------------------------------------------------------------------

def cell(key: str, value: Any) -> str:
    """A value as the table shows it: '-' when absent, durations as m:ss, metrics to 4 places."""
    if value is None or value == "":
        return "-"
    if key == "duration_s":
        return format_duration(value)
    if key == "samples_per_s":
        return f"{value:.0f}"
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.4f}" if key in {k for k, _ in METRICS} else f"{value:g}"
    return str(value)


def hparam_header(key: str, keys: list[str]) -> str:
    """A setting's column header: its field name, or section.field when two sections share it."""
    short = key.rsplit(".", 1)[-1]
    return key if sum(k.rsplit(".", 1)[-1] == short for k in keys) > 1 else short


def format_table(rows: list[CompareRow], width: int = 80, max_cell: int = 24) -> str:
    """Fixed-width blocks that fit ``width``: each repeats NAME, then as many columns as fit.

    Long cells (paths) are cut to ``max_cell`` characters with '…'. Notes follow the tables."""
    hparams = differing_hparams(rows)
    cols = [(key, header) for key, header in METRICS] + [(k, hparam_header(k, hparams).upper()) for k in hparams]
    def cut(text: str, keep_end: bool = False) -> str:  # a path keeps its end: the file name tells runs apart
        if len(text) <= max_cell:
            return text
        return "…" + text[1 - max_cell:] if keep_end else text[:max_cell - 1] + "…"
    names = [cut(r.name) for r in rows]
    name_width = max([4, *map(len, names)])
    cells = [[cut(cell(key, r.value(key)), keep_end=True) for r in rows] for key, _ in cols]
    widths = [max(len(header), *map(len, column)) for (_, header), column in zip(cols, cells)]
    blocks: list[list[int]] = [[]]
    used = name_width
    for i, w in enumerate(widths):
        if blocks[-1] and used + 2 + w > width:
            blocks.append([])
            used = name_width
        blocks[-1].append(i)
        used += 2 + w
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        lines.append("  ".join(["NAME".ljust(name_width), *(cols[i][1].ljust(widths[i]) for i in block)]).rstrip())
        for r, name in enumerate(names):
            lines.append("  ".join([name.ljust(name_width), *(cells[i][r].ljust(widths[i]) for i in block)]).rstrip())
    if not hparams and len(rows) > 1:
        lines += ["", "hyperparameters: the same in every run"]
    notes = [(r.name, note) for r in rows for note in r.notes]
    if notes:
        lines += ["", "notes:", *(f"  {name}: {note}" for name, note in notes)]
    return "\n".join(lines)


def as_dicts(rows: list[CompareRow]) -> list[dict[str, Any]]:
    """One object per run: the metric columns, ``hparams`` (only those that differ) and ``notes``."""
    keys = differing_hparams(rows)
    return [{"name": r.name, "folder": r.folder, **{k: r.value(k) for k, _ in METRICS},
             "hparams": {k: r.hparams.get(k) for k in keys}, "notes": r.notes} for r in rows]


def format_json(rows: list[CompareRow]) -> str:
    return json.dumps(as_dicts(rows), indent=2, default=str)


def format_csv(rows: list[CompareRow]) -> str:
    """A header row then one row per run: metrics, then each differing setting by its full key."""
    keys = differing_hparams(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["name", "folder", *(k for k, _ in METRICS), *keys, "notes"]
    writer.writerow(header)
    for r in rows:
        values = [r.name, r.folder, *(r.value(k) for k, _ in METRICS), *(r.hparams.get(k) for k in keys),
                  "; ".join(r.notes)]
        writer.writerow(["" if v is None else v for v in values])
    return out.getvalue()
