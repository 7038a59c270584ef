"""The numbers a session's charts need, kept compact while a log is indexed.

``RecordedCurves`` holds one point per logged step and per mid-epoch validation, each with the
index of the record it came from, so the charts as of any replay cursor are a prefix. A NaN
(a validation set that gave no loss) stays NaN: charts leave a gap there.

``chart_series`` picks what a chart shows at a cursor: the latest run, and the runs it resumed
before it, so curves continue across a resume instead of restarting. The x axis is epochs from
the global step (step / steps per epoch), the one axis steps, validations and epoch ends share.
"""
from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

nan = float("nan")


def _number(value: Any, default: float = nan) -> float:
    """A JSON number as float; null is the log's NaN."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    if not -2**63 <= value < 2**63:  # checked here: a failed array append would misalign the columns
        raise OverflowError(f"{value} does not fit 64 bits")
    return value


@dataclass
class RecordedCurves:
    """Per logged step and per mid-epoch validation: the record index and the values charted."""
    index: array = field(default_factory=lambda: array("q"))
    step: array = field(default_factory=lambda: array("q"))
    epoch: array = field(default_factory=lambda: array("q"))
    loss: array = field(default_factory=lambda: array("d"))
    lr: array = field(default_factory=lambda: array("d"))
    tokens_per_s: array = field(default_factory=lambda: array("d"))
    # ValidationReported records (train.eval_every_steps), few: one per evaluation.
    val_index: array = field(default_factory=lambda: array("q"))
    val_step: array = field(default_factory=lambda: array("q"))
    val_loss: array = field(default_factory=lambda: array("d"))
    val_accuracy: array = field(default_factory=lambda: array("d"))

    def add(self, index: int, r: dict[str, Any]) -> None:
        """A StepLogged record; TypeError for a field that is not a number."""
        values = (_integer(r.get("step")), _integer(r.get("epoch")), _number(r.get("loss")),
                  _number(r.get("lr")), _number(r.get("tokens_per_s"), 0.0))
        self.index.append(index)  # only after every value converted, so the arrays stay aligned
        for column, value in zip((self.step, self.epoch, self.loss, self.lr, self.tokens_per_s), values):
            column.append(value)

    def add_validation(self, index: int, r: dict[str, Any]) -> None:
        """A ValidationReported record; TypeError for a field that is not a number."""
        values = (_integer(r.get("step")), _number(r.get("val_loss")), _number(r.get("val_accuracy")))
        self.val_index.append(index)
        for column, value in zip((self.val_step, self.val_loss, self.val_accuracy), values):
            column.append(value)

    def upto(self, cursor: int) -> int:
        """How many logged steps are at or before record ``cursor``."""
        return bisect_right(self.index, cursor)

    def validations_upto(self, cursor: int) -> int:
        return bisect_right(self.val_index, cursor)


@dataclass
class ChartSeries:
    """What the loss and accuracy charts show: plain lists, x in epochs."""
    step_x: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)  # x of the per-epoch train points
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_x: list[float] = field(default_factory=list)  # mid-epoch validations and epoch ends, in x order
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)


def resumed_spans(runs: list[tuple[int, dict[str, Any]]], cursor: int) -> list[tuple[int, int, int, float]]:
    """The latest run as of record ``cursor`` and the runs it resumed, as ``(start, stop,
    steps_per_epoch, cut)``: record range ``[start, stop)`` of each run and the epoch x past which
    the next run trained again (a resumed run has start_epoch > 0)."""
    chain = [run for run in runs if run[0] <= cursor]
    first = len(chain) - 1
    while first > 0 and (chain[first][1].get("start_epoch") or 0) > 0:
        first -= 1
    chain = chain[max(first, 0):]
    spans = []
    for k, (start, run) in enumerate(chain):
        stop = chain[k + 1][0] if k + 1 < len(chain) else cursor + 1
        cut = float(chain[k + 1][1].get("start_epoch") or 0) if k + 1 < len(chain) else float("inf")
        spans.append((start, stop, run.get("steps_per_epoch") or 0, cut))
    if not spans:  # no RunStarted (a damaged log): everything, by epoch number
        spans = [(0, cursor + 1, 0, float("inf"))]
    return spans


def chart_series(curves: RecordedCurves, runs: list[tuple[int, dict[str, Any]]],
                 epochs: list[tuple[int, dict[str, Any]]], cursor: int, max_steps: int = 1000) -> ChartSeries:
    """The charts as of record ``cursor``: the latest run, continued from the runs it resumed.

    ``runs`` and ``epochs`` are the log's (record index, record) lists of RunStarted and
    EpochCompleted. A resumed run (start_epoch > 0) continues the run before it; that run's
    points past the resume point were trained again, so they are left out. At most about
    ``max_steps`` step points are kept (evenly thinned): a terminal chart shows fewer.
    """
    out = ChartSeries()
    val_points: list[tuple[float, float, float]] = []
    for start, stop, spe, cut in resumed_spans(runs, cursor):
        lo, hi = bisect_right(curves.index, start - 1), bisect_right(curves.index, stop - 1)
        stride = max(1, -(-(bisect_right(curves.index, cursor) - lo) // max_steps))
        for k in range(lo, hi, stride):
            x = curves.step[k] / spe if spe else float(curves.epoch[k])
            if x <= cut:
                out.step_x.append(x)
                out.step_loss.append(curves.loss[k])
        lo, hi = bisect_right(curves.val_index, start - 1), bisect_right(curves.val_index, stop - 1)
        for k in range(lo, hi):
            x = curves.val_step[k] / spe if spe else nan
            if x <= cut:
                val_points.append((x, curves.val_loss[k], curves.val_accuracy[k]))
        for index, r in epochs:
            if start <= index < stop and (r.get("epoch") or 0) <= cut:
                out.epochs.append(r["epoch"])
                out.train_loss.append(_number(r.get("train_loss")))
                out.train_acc.append(_number(r.get("train_accuracy")))
                val_points.append((float(r["epoch"]), _number(r.get("val_loss")), _number(r.get("val_accuracy"))))
    val_points.sort(key=lambda p: p[0])  # stable: a mid-epoch point at an epoch's end stays before it
    for x, loss, acc in val_points:
        out.val_x.append(x)
        out.val_loss.append(loss)
        out.val_acc.append(acc)
    return out
