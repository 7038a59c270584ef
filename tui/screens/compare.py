"""The compare screen: the runs marked in the session picker, as overlaid curves and a runs table.

The table comes first, from the picker's summaries; a thread worker then reads each log (a
100,000-record session takes a fraction of a second) and posts its full row and curves, and
another thread turns the curves into chart points whenever the x axis or the smoothing
changes. Neither touches a widget. Rows and curves come from core.sessions.compare and
core.sessions.compare_curves, the same code as `twb compare`.

Small terminals show one view at a time (v cycles: table, then each chart); from 160x48 up
the three charts and the table are all on screen.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from core.errors import UserError
from core.sessions import compare
from core.sessions.compare_curves import METRICS, X_AXES, ChartRun, RunCurves, chart_runs
from core.sessions.listing import SessionSummary
from tui.image_saving import ImageSaver
from tui.widgets.compare_chart import CompareChart
from tui.widgets.runs_table import READING, RunsTable

VIEWS = ["table", *METRICS]  # what a small terminal shows, one at a time
SMOOTHING = [0.6, 0.9, 0.99, 0.0]  # TensorBoard's default first
ALL_AT = (160, 48)
REFRESH_S = 0.25  # while reading: the table is redrawn at most this often
CHARTS_S = 1.0  # and the charts at most this often
BUCKETS = 200  # x buckets of a chart's min/max thinning: more than a chart has columns at 160 wide  # from this size up, every view at once
HELP = ("v view · x x-axis · l log-y · s smoothing · o sort by column (again: reverse) · "
        "/ filter (text or val_accuracy>0.8) · Enter replay · Esc back")


class SessionRead(Message):
    """A marked session's log was read: its full row and curves (None when it could not be read)."""

    def __init__(self, position: int, row: compare.CompareRow, curves: RunCurves | None) -> None:
        super().__init__()
        self.position, self.row, self.curves = position, row, curves


class ChartsComputed(Message):
    """Chart points of some runs for one (x axis, smoothing, buckets)."""

    def __init__(self, key: tuple[str, float, int], runs: dict[int, ChartRun]) -> None:
        super().__init__()
        self.key, self.runs = key, runs


def image_runs(chart: list[tuple[int, ChartRun]]) -> list:
    """The chart's runs as core.render curves: losses share one panel, accuracy has its own."""
    from core.render import Run, Series

    return [Run(run.name, [Series(METRICS[metric], points, "accuracy" if "accuracy" in metric else "loss")
                           for metric, points in run.series.items() if points])
            for _, run in chart]


class CompareScreen(Screen[None]):
    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("v", "view(1)", "View"),
        Binding("V", "view(-1)", "Previous view", show=False),
        Binding("x", "x_axis", "X axis"),
        Binding("l", "log_y", "Log-y"),
        Binding("s", "smoothing", "Smoothing"),
        Binding("o", "sort", "Sort"),
        Binding("slash", "filter", "Filter"),
        Binding("w", "save_curves", "Save image"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, summaries: list[SessionSummary], launch: Callable[[object, str, Path], object]) -> None:
        super().__init__()
        self.summaries = summaries
        self.launch = launch  # opens a session's replay (the picker's way: a `twb replay` process)
        self.images = ImageSaver()
        self.rows = [compare.row_of_summary(s) for s in summaries]
        for row in self.rows:
            row.notes.append(READING)
        self.curves: list[RunCurves | None] = [None] * len(summaries)
        self.read = 0
        self.view, self.axis, self.log_y, self.smoothing_index = 0, "step", False, 0
        self.sort_key: str | None = None
        self.query_text = ""
        self.shown: list[int] = list(range(len(self.rows)))  # positions in the table, in order
        self.chart_cache: dict[tuple[str, float, int], dict[int, ChartRun]] = {}
        self.pending: set[tuple[tuple[str, float, int], int]] = set()
        self._refresh_timer = None
        self._charts_at = 0.0
        self.charts_drawn = 0  # how many times the charts were drawn (tests and the benchmark wait on it)

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # markup=False: notes and typed filters are shown as written ("[Errno 13]").
        yield Static("", id="compare-title", markup=False)
        with Container(id="compare-body"):
            for metric in METRICS:  # charts first: the wide layout's grid puts them in its top row
                yield CompareChart(metric, id=f"chart-{metric}")
            yield RunsTable(id="compare-table")
        yield Static("", id="compare-notes", markup=False)
        yield Input(placeholder="filter: text, or COLUMN OP VALUE such as val_accuracy>0.8 (Enter applies, Esc closes)",
                    id="compare-filter")
        yield Static(HELP, id="compare-help")

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)
        self._show_view()
        self._refresh_table()
        self.query_one(RunsTable).focus()
        self.call_after_refresh(self._read_logs)  # after the first frame: the reader competes for the GIL

    def on_resize(self, event) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        self.set_class(width >= ALL_AT[0] and height >= ALL_AT[1], "-all")

    def _show_view(self) -> None:
        for i, name in enumerate(VIEWS):
            widget = self.query_one("#compare-table" if name == "table" else f"#chart-{name}")
            widget.set_class(i == self.view, "-shown")
        self._update_title()

    def _update_title(self) -> None:
        marked = len(self.rows)
        shown = f"{len(self.shown)} of {marked}" if len(self.shown) != marked else str(marked)
        reading = f" · reading {self.read}/{marked}" if self.read < marked else ""
        filt = f" · filter {self.query_text!r}" if self.query_text else ""
        sort = f" · sorted by {self.sort_key}" if self.sort_key else ""
        self.query_one("#compare-title", Static).update(
            f"Comparing {shown} runs · x {X_AXES[self.axis]} · "
            f"{'log-y' if self.log_y else 'linear y'} · {self.smoothing_note}{sort}{filt}{reading}")

    @property
    def smoothing(self) -> float:
        return SMOOTHING[self.smoothing_index]

    @property
    def smoothing_note(self) -> str:
        return f"smoothing {self.smoothing:g}, debiased EMA" if self.smoothing else "smoothing off"

    # --- reading (thread workers: they only post messages) ---------------------------------------

    @work(thread=True, exclusive=True, group="compare-read", exit_on_error=False)
    def _read_logs(self) -> None:
        from core.sessions.reader import open_session

        worker = get_current_worker()
        for position, summary in enumerate(self.summaries):
            if worker.is_cancelled:  # the screen was closed (Escape): the rest is not wanted
                return
            try:
                log = open_session(summary.folder)
            except (UserError, OSError) as exc:  # gone since the listing, or unreadable
                message = getattr(exc, "message", None) or str(exc)
                row = compare.missing_row(summary.name, message)
                row.status = "unreadable" if summary.folder.exists() else "missing"
                self.post_message(SessionRead(position, row, None))
                continue
            self.post_message(SessionRead(position, compare.row_of(log), RunCurves.of_log(log, summary.name)))

    @on(SessionRead)
    def _session_read(self, message: SessionRead) -> None:
        self.rows[message.position] = message.row
        self.curves[message.position] = message.curves
        self.read += 1
        if self.read == len(self.rows):
            compare.add_label_notes(self.rows)
            self._show_read()
        elif self._refresh_timer is None:  # a redraw per REFRESH_S while reading: the UI thread stays free
            self._refresh_timer = self.set_timer(REFRESH_S, self._show_read)

    def _show_read(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        self._refresh_table()
        # The charts cost more to draw than the table: while reading, at most once per CHARTS_S.
        now = time.monotonic()
        if self.read == len(self.rows) or now - self._charts_at >= CHARTS_S:
            self._charts_at = now
            self._compute_charts()

    def _chart_key(self) -> tuple[str, float, int]:
        return (self.axis, self.smoothing, BUCKETS)

    def _compute_charts(self) -> None:
        """Chart points for the current settings: cached per run, the missing ones in a thread."""
        key = self._chart_key()
        done = self.chart_cache.setdefault(key, {})
        todo = [(p, c) for p, c in enumerate(self.curves)
                if c is not None and p not in done and (key, p) not in self.pending]
        if todo:
            self.pending.update((key, p) for p, _ in todo)
            self._chart_worker(todo, key)
        self._draw_charts()

    @work(thread=True, group="compare-charts", exit_on_error=False)
    def _chart_worker(self, runs: list[tuple[int, RunCurves]], key: tuple[str, float, int]) -> None:
        axis, smoothing, buckets = key
        points = chart_runs([c for _, c in runs], axis=axis, smoothing=smoothing, buckets=buckets)
        self.post_message(ChartsComputed(key, dict(zip((p for p, _ in runs), points))))

    @on(ChartsComputed)
    def _charts_computed(self, message: ChartsComputed) -> None:
        self.chart_cache.setdefault(message.key, {}).update(message.runs)
        self.pending.difference_update((message.key, p) for p in message.runs)
        if message.key == self._chart_key():
            self._draw_charts()

    def chart_data(self) -> list[tuple[int, ChartRun]]:
        """The shown runs' chart points for the current settings, in marking order (as the
        colours): a name and named series of (x, y) points each, ready for an image writer too."""
        done = self.chart_cache.get(self._chart_key(), {})
        return [(p, done[p]) for p in sorted(self.shown) if p in done]

    def _draw_charts(self) -> None:
        runs = self.chart_data()
        for metric in METRICS:
            self.query_one(f"#chart-{metric}", CompareChart).show(runs, self.axis, self.log_y, self.smoothing)
        self.charts_drawn += 1

    # --- the table ---------------------------------------------------------------------------

    def _refresh_table(self) -> None:
        try:
            rows = compare.search_rows(self.rows, self.query_text)
            problem = ""
        except UserError as exc:  # a malformed filter hides nothing and says why
            rows, problem = list(self.rows), f"filter: {exc.message} ({exc.hint})"
        if self.sort_key:
            rows = compare.sort_rows(rows, self.sort_key)
        position = {id(r): p for p, r in enumerate(self.rows)}
        self.shown = [position[id(r)] for r in rows]
        self.query_one(RunsTable).fill(self.rows, self.shown, self.sort_key)
        notes = [f"{self.rows[p].name}: {note}" for p in self.shown for note in self.rows[p].notes if note != READING]
        if not self.shown:
            notes.insert(0, f"no run matches {self.query_text!r}")
        self.query_one("#compare-notes", Static).update("\n".join([problem, *notes] if problem else notes))
        self._update_title()
        self._draw_charts()

    @on(DataTable.CellSelected)
    def _open_replay(self, event: DataTable.CellSelected) -> None:
        event.stop()
        position = int(event.cell_key.row_key.value)
        summary = self.summaries[position]
        if self.rows[position].status in ("missing", "unreadable"):
            self.app.notify(f"{summary.name} cannot be replayed: {'; '.join(self.rows[position].notes)}", severity="warning")
            return
        self.launch(self.app, "replay", summary.folder)

    # --- keys --------------------------------------------------------------------------------

    def action_view(self, step: int) -> None:
        self.view = (self.view + step) % len(VIEWS)
        self._show_view()
        if VIEWS[self.view] == "table":
            self.query_one(RunsTable).focus()

    def action_x_axis(self) -> None:
        axes = list(X_AXES)
        self.axis = axes[(axes.index(self.axis) + 1) % len(axes)]
        self._update_title()
        self._compute_charts()

    def action_log_y(self) -> None:
        self.log_y = not self.log_y
        self._update_title()
        self._draw_charts()

    def action_smoothing(self) -> None:
        self.smoothing_index = (self.smoothing_index + 1) % len(SMOOTHING)
        self._update_title()
        self._compute_charts()

    def action_sort(self) -> None:
        key = self.query_one(RunsTable).column_key()
        if key == "notes":
            self.app.notify("Notes are not sorted: move to a metric, name or setting column.", severity="warning")
            return
        self.sort_key = ("-" + key) if self.sort_key == key else key
        self._refresh_table()

    def action_filter(self) -> None:
        field = self.query_one("#compare-filter", Input)
        field.value = self.query_text
        field.add_class("-open")
        field.focus()

    @on(Input.Submitted, "#compare-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_text = event.value.strip()
        self._close_filter()
        self._refresh_table()

    def _close_filter(self) -> None:
        self.query_one("#compare-filter", Input).remove_class("-open")
        self.query_one(RunsTable).focus()

    def action_save_curves(self) -> None:
        """The overlaid curves as they are shown (x axis, smoothing, filter) as an SVG or PNG."""
        from functools import partial

        from core.render import curves_figure

        runs = image_runs(self.chart_data())
        if not runs:
            self.app.notify("No curves yet: wait for the runs to be read, or widen the filter.",
                            title="Nothing to save", severity="warning")
            return
        smoothing = f", smoothing {self.smoothing:g} (debiased EMA)" if self.smoothing else ""
        title = f"{len(runs)} runs compared{smoothing}"
        self.images.ask_and_save(self.app, "the compared curves", "compare",
                                 partial(curves_figure, runs, title, X_AXES[self.axis]))

    def action_back(self) -> None:
        if self.query_one("#compare-filter", Input).has_class("-open"):
            self._close_filter()
            return
        self.dismiss(None)
