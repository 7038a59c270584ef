"""Loss and accuracy curves (train and validation) drawn in the terminal with plotext.

Points arrive as often as the engine reports them, but the plots are rebuilt at most once per
``REDRAW_INTERVAL`` seconds: building a plotext figure costs milliseconds of the UI thread,
and a calm chart is easier to read than a flickering one. The x axis is epochs from the global
step (core.sessions.curves), shared by steps, mid-epoch validations and epoch ends. A NaN
(validation that gave no loss) is left out of the plot: a gap, not a crash.
"""
from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical
from textual_plotext import PlotextPlot

REDRAW_INTERVAL = 2.0  # seconds
COLORS = {"train (steps)": "blue+", "train": "green+", "val": "orange+"}


def finite_runs(xs: list[float], ys: list[float]) -> list[tuple[list[float], list[float]]]:
    """The stretches of a series between non-finite values (NaN, inf): drawn apart, so a NaN
    shows as a gap in the line (plotext itself fails on a series that is only NaN)."""
    runs: list[tuple[list[float], list[float]]] = []
    current: tuple[list[float], list[float]] = ([], [])
    for x, y in zip(xs, ys):
        if y is not None and math.isfinite(y):
            current[0].append(x)
            current[1].append(y)
        elif current[0]:
            runs.append(current)
            current = ([], [])
    if current[0]:
        runs.append(current)
    return runs


def plot_series(plt, xs: list[float], ys: list[float], label: str, marker: str) -> bool:
    """Plot a series, a NaN splitting it into stretches; False when it has no finite point."""
    drawn = False
    for i, (run_x, run_y) in enumerate(finite_runs(xs, ys)):
        # One legend entry and one colour for all stretches of the series.
        plt.plot(run_x, run_y, label=label if i == 0 else None, marker=marker, color=COLORS.get(label))
        drawn = True
    return drawn


class Curves(Vertical):
    DEFAULT_CSS = """
    Curves { height: 1fr; min-height: 8; }
    Curves PlotextPlot { height: 1fr; min-height: 4; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.step_x: list[float] = []  # fractional epochs
        self.step_loss: list[float] = []
        self.epochs: list[int] = []
        self.train_loss: list[float] = []
        self.val_x: list[float] = []  # mid-epoch validations and epoch ends
        self.val_loss: list[float] = []
        self.train_acc: list[float] = []
        self.val_acc: list[float] = []
        self.redraws = 0
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="loss-plot")
        yield PlotextPlot(id="acc-plot")

    def on_mount(self) -> None:
        self._draw()
        self.set_interval(REDRAW_INTERVAL, self._redraw_if_dirty)

    # --- data in -------------------------------------------------------------------------

    def clear(self) -> None:
        self.keep_until(-math.inf)

    def keep_until(self, x: float) -> None:
        """Drop the points after ``x`` (a resumed run trains them again) and redraw."""
        for xs, *series in ((self.step_x, self.step_loss), (self.val_x, self.val_loss, self.val_acc),
                            (self.epochs, self.train_loss, self.train_acc)):
            keep = sum(1 for v in xs if v <= x)
            for values in (xs, *series):
                del values[keep:]
        self.redraw()

    def set_series(self, series) -> None:
        """Show recorded series at once (core.sessions.curves.ChartSeries), e.g. after a replay jump."""
        for name in ("step_x", "step_loss", "epochs", "train_loss", "train_acc", "val_x", "val_loss", "val_acc"):
            getattr(self, name)[:] = getattr(series, name)
        self.redraw()

    def add_step(self, epoch_position: float, loss: float) -> None:
        self.step_x.append(epoch_position)
        self.step_loss.append(loss)
        self._dirty = True

    def add_epoch(self, epoch: int, train_loss: float, val_loss: float, val_acc: float,
                  train_acc: float | None) -> None:
        self.epochs.append(epoch)
        self.train_loss.append(train_loss)
        self.train_acc.append(math.nan if train_acc is None else train_acc)
        self.add_validation(float(epoch), val_loss, val_acc)

    def add_validation(self, x: float, val_loss: float, val_acc: float) -> None:
        self.val_x.append(x)
        self.val_loss.append(val_loss)
        self.val_acc.append(val_acc)
        self._dirty = True

    def as_run(self, name: str):
        """The curves on show as plain data for an image (core.render.curves_figure)."""
        from core.render.curves import Run, Series

        return Run(name, (
            Series("train loss (steps)", tuple(zip(self.step_x, self.step_loss)), "loss"),
            Series("train loss", tuple(zip(self.epochs, self.train_loss)), "loss"),
            Series("val loss", tuple(zip(self.val_x, self.val_loss)), "loss"),
            Series("train accuracy", tuple(zip(self.epochs, self.train_acc)), "accuracy"),
            Series("val accuracy", tuple(zip(self.val_x, self.val_acc)), "accuracy"),
        ))

    # --- drawing -------------------------------------------------------------------------

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self.redraw()

    def redraw(self) -> None:
        self._dirty = False
        self._draw()

    def _draw(self) -> None:
        loss = self.query_one("#loss-plot", PlotextPlot)
        plt = loss.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("loss")
        plot_series(plt, self.step_x, self.step_loss, "train (steps)", "dot")
        plot_series(plt, self.epochs, self.train_loss, "train", "hd")
        plot_series(plt, self.val_x, self.val_loss, "val", "hd")
        loss.refresh()

        acc = self.query_one("#acc-plot", PlotextPlot)
        plt = acc.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("accuracy")
        drawn = plot_series(plt, self.epochs, self.train_acc, "train", "hd")
        if plot_series(plt, self.val_x, self.val_acc, "val", "hd") or drawn:
            plt.ylim(0, 1)
        acc.refresh()
        self.redraws += 1
