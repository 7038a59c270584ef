"""Training curves as an image: named runs, each with named series of (x, y) points.

The one input serves a single run (the training pane: train and val loss, val accuracy) and
several (a comparison): with one run each series gets its own colour; with several, a run
keeps one colour and each series its own line style. Series go into panels by their
``panel`` name (one y axis each). A NaN y is a gap in the line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from core.errors import UserError
from core.render.figure import new_figure

LINE_STYLES = ("-", "--", ":", "-.")
MARKERS_UP_TO = 60  # points; a series with more is a plain line
PANEL_IN = (5.0, 3.6)


@dataclass(frozen=True)
class Series:
    name: str  # "train loss", "val accuracy", ...
    points: Sequence[tuple[float, float]]  # (x, y), x in epochs
    panel: str = "loss"  # series of one panel share its axes


@dataclass(frozen=True)
class Run:
    name: str
    series: Sequence[Series]


def _finite(series: Series) -> bool:
    return any(math.isfinite(y) for _, y in series.points)


def curves_figure(runs: Sequence[Run], title: str = "", x_label: str = "epoch") -> Any:
    """One panel per panel name (in order of first appearance), every run's series in it."""
    panels: list[str] = []
    for run in runs:
        for series in run.series:
            if _finite(series) and series.panel not in panels:
                panels.append(series.panel)
    if not panels:
        raise UserError("there are no curves to save yet", "train a model (F6) or replay a session first")
    width, height = PANEL_IN[0] * len(panels), PANEL_IN[1] + (0.4 if title else 0.0)
    fig = new_figure(width, height)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    several = len(runs) > 1
    for ax, panel in zip(axes, panels):
        styles: dict[str, str] = {}
        colour = 0
        for r, run in enumerate(runs):
            for series in run.series:
                if series.panel != panel or not _finite(series):
                    continue
                style = styles.setdefault(series.name, LINE_STYLES[len(styles) % len(LINE_STYLES)])
                xs = [float(x) for x, _ in series.points]
                ys = [float(y) for _, y in series.points]
                few = len(xs) <= MARKERS_UP_TO
                ax.plot(xs, ys, label=f"{run.name} · {series.name}" if several else series.name,
                        color=f"C{r if several else colour}", linestyle=style if several else "-",
                        marker="o" if few else None, markersize=3, linewidth=1.4 if few else 1.0)
                colour += 1
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(x_label, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        if "acc" in panel:
            ax.set_ylim(0, 1)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
