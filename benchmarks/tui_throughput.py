"""Training throughput with the workbench open and updating vs headless, same config.

Headless: ``Trainer`` with a callback that does nothing, as `twb train` runs it. Workbench:
the real app (headless Pilot, 160x48 so every pane, the curves included, is on screen and
redrawn) trains through F6 in its worker thread. Each side runs in a fresh process (torch's
thread pools belong to the thread that first used them, so sharing one process would make the
second side pay for the first), trains once to warm up, then once measured; the engine's own
training time (``TrainingFinished.elapsed_s``) is compared. Sides alternate so load on the
machine hits both alike, and the medians are compared.

    python benchmarks/tui_throughput.py [--runs 3] [--epochs 2] [--preset sst2 [--rows N]]

``--preset sst2`` measures on the SST-2 preset's model (16k vocabulary, 64 tokens), where the
thread the workbench leaves to its UI matters; ``--rows N`` trains on the first N training rows
(its validation every 250 steps and its checkpoints included, as a user runs it).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.config import PRESETS, with_field  # noqa: E402
from core.events import TrainingFinished  # noqa: E402

TARGET = 0.9


def bench_config(epochs: int, preset: str = "default", rows: int = 0):
    # default: the default preset's model on the synthetic task, big enough that a step is real work.
    config = with_field(PRESETS[preset], "train.epochs", epochs)
    if rows:
        config = with_field(config, "data.train_path", first_rows(config.data.train_path, rows))
    return with_field(config, "train.log_every_steps", 5)  # more events than usual: a harder case for the UI


def first_rows(path: str, rows: int) -> str:
    source = ROOT / path if not Path(path).is_absolute() else Path(path)
    out = Path(tempfile.gettempdir()) / f"twb-bench-{source.stem}-{rows}{source.suffix}"
    with open(source, encoding="utf-8") as f:
        out.write_text("".join(line for _, line in zip(range(rows + 1), f)), encoding="utf-8")
    return str(out)


def headless(config) -> tuple[float, int]:
    from core.training.trainer import Trainer

    finished: list[TrainingFinished] = []
    steps: list[int] = []

    def on_event(event) -> None:  # the no-op consumer, except for reading the result
        if isinstance(event, TrainingFinished):
            finished.append(event)
        elif hasattr(event, "steps_per_epoch"):
            steps.append(event.steps_per_epoch * event.total_epochs)

    with tempfile.TemporaryDirectory() as out:
        Trainer(config, on_event, out_dir=out).run()
    return finished[0].elapsed_s, steps[0]


async def with_workbench(config, warm_up: bool = True) -> tuple[float, int]:
    from tui.app import create_app

    finished: list[TrainingFinished] = []
    with tempfile.TemporaryDirectory() as out:
        # The workbench records the run as a session, as it does for a user (into the temp folder).
        app = create_app(config, out_dir=out, install_signal_handlers=False, sessions_dir=Path(out) / "sessions",
                         event_consumer=lambda e: finished.append(e) if isinstance(e, TrainingFinished) else None)
        async with app.run_test(size=(160, 48)) as pilot:
            await app.panes_ready.wait()
            await app.form.built.wait()
            for _ in range(2 if warm_up else 1):
                await pilot.press("f6")
                await app.workers.wait_for_complete()
                await pilot.pause()
            messages = app.events_seen
    return finished[-1].elapsed_s, messages


def one_side(side: str, epochs: int, preset: str, rows: int) -> None:
    """Child process: warm up, measure once, print ``seconds count``."""
    config = bench_config(epochs, preset, rows)
    if side == "headless":
        headless(config)
        seconds, count = headless(config)
    else:
        seconds, count = asyncio.run(with_workbench(config))
    print(f"{seconds} {count}")


def in_child(side: str, epochs: int, preset: str, rows: int) -> tuple[float, int]:
    out = subprocess.run([sys.executable, __file__, "--side", side, "--epochs", str(epochs), "--preset", preset,
                          "--rows", str(rows)], capture_output=True, text=True, check=True, cwd=ROOT)
    seconds, count = out.stdout.split()[-2:]
    return float(seconds), int(count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--preset", default="default", choices=list(PRESETS))
    parser.add_argument("--rows", type=int, default=0, help="with a file preset: only its first N training rows")
    parser.add_argument("--side", choices=("headless", "workbench"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        one_side(args.side, args.epochs, args.preset, args.rows)
        return 0
    config = bench_config(args.epochs, args.preset, args.rows)
    plain, tui = [], []
    total_steps = events = 0
    for _ in range(args.runs):
        seconds, total_steps = in_child("headless", args.epochs, args.preset, args.rows)
        plain.append(seconds)
        seconds, events = in_child("workbench", args.epochs, args.preset, args.rows)
        tui.append(seconds)
    samples = total_steps * config.train.batch_size
    h, t = statistics.median(plain), statistics.median(tui)
    print(f"config: {args.preset} preset{f' (first {args.rows} rows)' if args.rows else ''}, {args.epochs} epochs, {total_steps} steps, log every {config.train.log_every_steps} steps")
    print(f"headless training time:  {h:.2f} s (median of {args.runs}; runs {', '.join(f'{x:.2f}' for x in plain)})")
    print(f"workbench training time: {t:.2f} s (median of {args.runs}; runs {', '.join(f'{x:.2f}' for x in tui)}); "
          f"{events} events shown")
    print(f"throughput headless ~{samples / h:,.0f} samples/s, workbench ~{samples / t:,.0f} samples/s")
    print(f"ratio workbench / headless throughput: {h / t:.3f}x (target >= {TARGET}x: {'yes' if h / t >= TARGET else 'NO'})")
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    if "--side" not in sys.argv:
        print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
    sys.exit(code)
