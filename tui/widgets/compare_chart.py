"""One metric of several runs overlaid in a plotext chart, each run in its own colour AND marker.

The marker tells runs apart where colour does not reach (NO_COLOR, a monochrome terminal, a
colour-blind reader); the runs table prefixes each name with the same marker. A NaN (or, on a
log axis, a value <= 0) leaves a gap in a run's line.
"""
from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from core.sessions.compare_curves import METRICS, X_AXES, ChartRun
from tui.widgets.curves import finite_runs

# (colour, marker) of the run at that position in the compared list: stable while sorting and
# filtering. Markers are plain ASCII so every terminal font has them.
RUN_STYLES = [("blue+", "o"), ("red+", "x"), ("green+", "+"), ("orange+", "*"), ("magenta+", "#"),
              ("cyan+", "@"), ("gray+", "%"), ("blue", "&"), ("green", "$"), ("red", "=")]


def run_style(position: int) -> tuple[str, str]:
    """Past ten runs the markers repeat with the next colour, so pairs still differ."""
    colour = RUN_STYLES[(position + position // len(RUN_STYLES)) % len(RUN_STYLES)][0]
    return colour, RUN_STYLES[position % len(RUN_STYLES)][1]


class CompareChart(PlotextPlot):
    DEFAULT_CSS = "CompareChart { height: 1fr; min-height: 6; }"

    def __init__(self, metric: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric = metric
        self.drawn_runs: list[str] = []  # names of the runs with at least one point, as last drawn

    def show(self, runs: list[tuple[int, ChartRun]], axis: str, log_y: bool, smoothing: float) -> None:
        """Draw ``runs`` (each with its position in the compared list, for its style). The title
        is short: plotext leaves out a title wider than the plot."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"{METRICS[self.metric]} · " + (f"EMA {smoothing:g}" if smoothing else "raw"))
        plt.xlabel(X_AXES[axis])
        self.drawn_runs = []
        for position, run in runs:
            colour, marker = run_style(position)
            points = run.series.get(self.metric, [])
            xs = [x for x, _ in points]
            ys = [y if not (log_y and (y is None or not y > 0)) else math.nan for _, y in points]
            for i, (run_x, run_y) in enumerate(finite_runs(xs, ys)):
                plt.plot(run_x, run_y, label=f"{marker} {run.name}" if i == 0 else None, marker=marker, color=colour)
                if i == 0:
                    self.drawn_runs.append(run.name)
        if log_y and self.drawn_runs:
            plt.yscale("log")
        if not self.drawn_runs:
            plt.title(f"{METRICS[self.metric]}: no points in the shown runs")
        self.refresh()
