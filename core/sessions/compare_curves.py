"""The compare screen's curves: several runs' validation accuracy, validation loss and training
loss on one x axis (step, epoch or wall-clock), smoothed and thinned for drawing.

``RunCurves.of_log`` keeps, per run, every logged step and every evaluation (mid-epoch ones
included) as numpy columns; ``chart_runs`` turns a list of them into what a chart draws: a list of
``ChartRun`` (a name and named series of (x, y) points), the shape an image writer takes too.

Smoothing is TensorBoard's: an exponential moving average debiased like Adam's moments, so the
first points are not pulled towards zero. Thinning for a chart keeps, per x bucket (a terminal
column), the lowest and the highest point: spikes stay visible, unlike taking every n-th point.
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from core.sessions.curves import resumed_spans
from core.sessions.reader import SessionLog

METRICS = {"val_accuracy": "validation accuracy", "val_loss": "validation loss", "train_loss": "training loss"}
X_AXES = {"step": "step", "epoch": "epoch", "time": "wall-clock (s)"}


@dataclass
class Series:
    """One metric of one run: a point per record, with its x on every axis."""
    step: np.ndarray
    epoch: np.ndarray
    time: np.ndarray  # seconds since the session's first record
    value: np.ndarray

    def x(self, axis: str) -> np.ndarray:
        return getattr(self, axis)


@dataclass
class RunCurves:
    name: str
    series: dict[str, Series] = field(default_factory=dict)

    @classmethod
    def of_log(cls, log: SessionLog, name: str | None = None) -> "RunCurves":
        """The latest run of ``log`` continued from the runs it resumed (as the replay charts)."""
        curves, ts = log.curves, np.frombuffer(log.ts, dtype=np.float64) if len(log) else np.zeros(0)
        t0 = ts[0] if len(ts) and math.isfinite(ts[0]) else 0.0
        index, step = np.frombuffer(curves.index, dtype=np.int64), np.frombuffer(curves.step, dtype=np.int64)
        epoch_col, loss = np.frombuffer(curves.epoch, dtype=np.int64), np.frombuffer(curves.loss, dtype=np.float64)
        train: list[np.ndarray] = []  # (4, n) blocks: step, epoch x, time, value
        val: list[tuple[float, float, float, float, float]] = []  # step, epoch x, time, loss, accuracy
        for start, stop, spe, cut in resumed_spans(log.runs, len(log) - 1):
            lo, hi = bisect_right(curves.index, start - 1), bisect_right(curves.index, stop - 1)
            s = step[lo:hi].astype(np.float64)
            x = s / spe if spe else epoch_col[lo:hi].astype(np.float64)
            keep = x <= cut
            train.append(np.vstack([s, x, ts[index[lo:hi]] - t0, loss[lo:hi]])[:, keep])
            for k in range(bisect_right(curves.val_index, start - 1), bisect_right(curves.val_index, stop - 1)):
                vx = curves.val_step[k] / spe if spe else math.nan
                if not vx > cut:
                    val.append((curves.val_step[k], vx, ts[curves.val_index[k]] - t0,
                                curves.val_loss[k], curves.val_accuracy[k]))
            for i, r in log.epochs:
                if start <= i < stop and (r.get("epoch") or 0) <= cut:
                    k = bisect_left(curves.index, i)  # an epoch end's step: the last step logged before it
                    val.append((curves.step[k - 1] if k else math.nan, float(r["epoch"]), ts[i] - t0,
                                _number(r.get("val_loss")), _number(r.get("val_accuracy"))))
        run = cls(name or log.header.get("name") or log.name)
        block = np.hstack(train) if train else np.zeros((4, 0))
        run.series["train_loss"] = Series(*block)
        val.sort(key=lambda p: (p[2], p[0]))  # record order: a mid-epoch point before its epoch's end
        cols = np.array(val, dtype=np.float64).reshape(-1, 5).T
        run.series["val_loss"] = Series(cols[0], cols[1], cols[2], cols[3])
        run.series["val_accuracy"] = Series(cols[0], cols[1], cols[2], cols[4])
        return run


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def debiased_ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: ``last = last * w + (1 - w) * y``, divided by ``1 - w ** n`` (n the
    finite points so far). Non-finite points pass through unsmoothed, as does a constant series."""
    values = [float(v) for v in values]
    if weight <= 0 or not values:
        return values
    finite = [v for v in values if math.isfinite(v)]
    if finite and all(v == finite[0] for v in finite):
        return values
    out, last, count = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        out.append(last / (1 - weight ** count) if weight < 1 else last)
    return out


def minmax_downsample(xs: np.ndarray, ys: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most two points per x bucket (``buckets`` equal-width over the x range): the lowest and the
    highest, in x order. NaN points are kept where they are (a chart draws them as a gap)."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if len(xs) <= 2 * buckets:
        return xs, ys
    finite = np.isfinite(xs) & np.isfinite(ys)
    fx, fy = xs[finite], ys[finite]
    lo, hi = (fx.min(), fx.max()) if len(fx) else (0.0, 0.0)
    bucket = np.minimum(((fx - lo) / ((hi - lo) or 1.0) * buckets).astype(np.int64), buckets - 1)
    order = np.lexsort((fy, bucket))  # per bucket, by y: its first point is the lowest, its last the highest
    starts = np.flatnonzero(np.diff(np.concatenate(([-1], bucket[order]))))
    ends = np.concatenate((starts[1:], [len(order)])) - 1
    picked = np.unique(np.concatenate((order[starts], order[ends])))  # unique sorts: x order again
    gaps = np.flatnonzero(~finite)
    if len(gaps):
        keep = np.sort(np.concatenate((np.flatnonzero(finite)[picked], gaps)))
        return xs[keep], ys[keep]
    return fx[picked], fy[picked]


@dataclass
class ChartRun:
    """What a chart draws of one run: ``series`` maps a metric to its (x, y) points."""
    name: str
    series: dict[str, list[tuple[float, float]]]


def chart_runs(runs: list[RunCurves], axis: str = "step", smoothing: float = 0.0, buckets: int = 200,
               metrics: Sequence[str] = tuple(METRICS)) -> list[ChartRun]:
    """Each run's ``metrics`` on ``axis`` (a key of X_AXES), smoothed over every recorded point, then
    thinned to about ``2 * buckets`` points a series."""
    if axis not in X_AXES:
        raise ValueError(f"unknown x axis {axis!r}: one of {', '.join(X_AXES)}")
    out = []
    for run in runs:
        series = {}
        for metric in metrics:
            s = run.series.get(metric)
            if s is None:
                series[metric] = []
                continue
            # Smoothed in record order (what the EMA means), then ordered by x for drawing.
            ys = np.asarray(debiased_ema(s.value.tolist(), smoothing)) if smoothing else s.value
            xs = s.x(axis)
            # A point without a place on this axis (no steps per epoch known, no timestamp) is left out.
            order = np.flatnonzero(np.isfinite(xs))
            order = order[np.argsort(xs[order], kind="stable")]
            dx, dy = minmax_downsample(xs[order], ys[order], buckets)
            series[metric] = list(zip(dx.tolist(), dy.tolist()))
        out.append(ChartRun(run.name, series))
    return out
