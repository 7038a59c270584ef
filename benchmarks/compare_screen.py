"""The compare screen on 10 sessions of 100,000 records each: first frame, table complete, charts.

Goal: the first frame (the runs table, one row per marked session, from the picker's
summaries) within 1.5 s of pressing c. Then the logs are read in a thread worker (full rows
fill in) and the chart points computed in another (debiased EMA over every point, then min/max
per x bucket); those times are printed too.

Baseline, in the same invocation: a screen that reads every log before showing anything (open,
row and curves for each session on the UI thread), timed directly.

The frame is timed where Textual composes it (App._display, run headless under Pilot), so the
terminal's own write is not included. One session is written through the real recorder; the
other nine are byte copies of it under other names (writing 1M records takes over a minute).

    python benchmarks/compare_screen.py [--sessions 10] [--records 100000]
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sessions import compare  # noqa: E402
from core.sessions.compare_curves import RunCurves, chart_runs  # noqa: E402
from core.sessions.listing import list_sessions  # noqa: E402
from core.sessions.reader import open_session  # noqa: E402
from tests.synthetic_sessions import write_synthetic_session  # noqa: E402

GOAL_S = 1.5


def build(root: Path, sessions: int, records: int) -> None:
    # Per epoch: the steps, a mid-epoch evaluation every 1,000 steps, and 3 epoch-end records.
    epochs = 10
    steps_per_epoch = max(1, records // epochs * 1000 // 1001 - 3)
    first = write_synthetic_session(root, "run-00", epochs=epochs, steps_per_epoch=steps_per_epoch,
                                    eval_every=1000).folder
    log = (first / "session.jsonl").read_bytes()
    header, rest = log.split(b"\n", 1)
    stamp = first.name[:len("YYYYmmdd-HHMMSS")]
    for k in range(1, sessions):
        folder = root / f"{stamp}-run-{k:02d}"
        folder.mkdir()
        (folder / "session.jsonl").write_bytes(header.replace(b'"run-00"', f'"run-{k:02d}"'.encode()) + b"\n" + rest)


def baseline(summaries) -> float:
    """Every log read (row and curves) and chart points computed before the screen could show."""
    started = time.perf_counter()
    runs = []
    for summary in summaries:
        log = open_session(summary.folder)
        compare.row_of(log)
        runs.append(RunCurves.of_log(log))
    chart_runs(runs, smoothing=0.6)
    return time.perf_counter() - started


async def screen_times(summaries) -> dict[str, float]:
    from textual.app import App
    from textual.widgets import DataTable

    from tui.screens.compare import CompareScreen
    from tui.session_picker import SessionPickerScreen

    times: dict[str, float] = {}
    app = App()
    async with app.run_test(size=(160, 48)) as pilot:
        picker = SessionPickerScreen(summaries, launch=lambda *a: None)
        app.push_screen(picker)
        await pilot.pause()
        picker.marked = list(range(len(summaries)))
        display = app._display

        def spy(screen, renderable):
            if isinstance(screen, CompareScreen) and renderable is not None and "first frame" not in times:
                times["first frame"] = time.perf_counter() - started
                times["rows in the first frame"] = screen.query_one(DataTable).row_count
            return display(screen, renderable)

        app._display = spy
        started = time.perf_counter()
        await pilot.press("c")
        screen = app.screen
        while screen.read < len(summaries):
            await asyncio.sleep(0.01)
        times["every log read (full rows)"] = time.perf_counter() - started
        while screen.charts_drawn == 0 or screen.pending or len(screen.chart_data()) < len(summaries):
            await asyncio.sleep(0.01)
        times["charts drawn for every run"] = time.perf_counter() - started
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="twb-bench-compare-"))
    try:
        build(root, args.sessions, args.records)
        started = time.perf_counter()
        summaries = list(reversed(list_sessions(root)))
        listing = time.perf_counter() - started
        print(f"{len(summaries)} sessions of {summaries[0].records:,} records")
        print(f"  the picker's listing (before c, not part of the screen): {listing:.2f} s")
        naive = baseline(summaries)
        times = asyncio.run(screen_times(summaries))
        for what, value in times.items():
            print(f"  {what}: {value:.2f} s" if isinstance(value, float) else f"  {what}: {value}")
        first = times["first frame"]
        print(f"  baseline (read everything, then show): {naive:.2f} s")
        print(f"first frame {first:.2f} s (goal <= {GOAL_S} s: {'met' if first <= GOAL_S else 'NOT met'}); "
              f"{naive / first:.1f}x sooner than the baseline's")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
