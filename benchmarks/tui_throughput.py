"""Training throughput with the workbench open and updating vs headless, same config.

Headless: ``Trainer`` with a callback that does nothing, as `twb train` runs it. Workbench:
the real app (headless Pilot, 160x48 so every pane, the curves included, is on screen and
redrawn) trains through F6 in its worker thread. Each side runs in a fresh process (torch's
thread pools belong to the thread that first used them, so sharing one process would make the
second side pay for the first), trains once to warm up, then once measured; the engine's own
training time (``TrainingFinished.elapsed_s``) is compared. Sides alternate so load on the
machine hits both alike, and the medians are compared.

With ``--finetune``, the run fine-tunes all-MiniLM-L6-v2 (the sst2-minilm preset) on the first
``--rows`` rows of SST-2's training file (and as many of dev), written to a temporary folder.

    python benchmarks/tui_throughput.py [--runs 3] [--epochs 2] [--finetune [--rows 256]]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.config import PRESETS, with_field  # noqa: E402
from core.events import TrainingFinished  # noqa: E402

TARGET = 0.9
SST2 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sst2"


def bench_config(epochs: int, data_dir: str = ""):
    if data_dir:  # fine-tuning MiniLM on a slice of SST-2
        config = with_field(PRESETS["sst2-minilm"], "data.train_path", str(Path(data_dir) / "train.tsv"))
        config = with_field(config, "data.val_path", str(Path(data_dir) / "dev.tsv"))
        config = with_field(config, "train.eval_every_steps", 0)
    else:  # the default preset's model on the synthetic task: big enough that a step is real work
        config = PRESETS["default"]
    config = with_field(config, "train.epochs", epochs)
    return with_field(config, "train.log_every_steps", 5)  # more events than usual: a harder case for the UI


def write_slices(folder: Path, rows: int) -> None:
    """The first ``rows`` examples of SST-2's train and dev files (header kept)."""
    for name in ("train.tsv", "dev.tsv"):
        with (SST2 / name).open(encoding="utf-8") as source:
            lines = [line for _, line in zip(range(rows + 1), source)]
        (folder / name).write_text("".join(lines), encoding="utf-8")


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


def one_side(side: str, epochs: int, data_dir: str) -> None:
    """Child process: warm up, measure once, print ``seconds count``."""
    config = bench_config(epochs, data_dir)
    if side == "headless":
        headless(config)
        seconds, count = headless(config)
    else:
        seconds, count = asyncio.run(with_workbench(config))
    print(f"{seconds} {count}")


def in_child(side: str, epochs: int, data_dir: str) -> tuple[float, int]:
    out = subprocess.run([sys.executable, __file__, "--side", side, "--epochs", str(epochs), "--data-dir", data_dir],
                         capture_output=True, text=True, check=True)
    seconds, count = out.stdout.split()[-2:]
    return float(seconds), int(count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--finetune", action="store_true", help="fine-tune all-MiniLM-L6-v2 on a slice of SST-2")
    parser.add_argument("--rows", type=int, default=256, help="with --finetune: SST-2 rows to train on")
    parser.add_argument("--side", choices=("headless", "workbench"), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        one_side(args.side, args.epochs, args.data_dir)
        return 0
    if args.finetune and not (SST2 / "train.tsv").is_file():
        print(f"SST-2 not found at {SST2}; --finetune needs it", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as data_dir:
        if args.finetune:
            write_slices(Path(data_dir), args.rows)
        else:
            data_dir = ""
        config = bench_config(args.epochs, data_dir)
        plain, tui = [], []
        total_steps = events = 0
        for _ in range(args.runs):
            seconds, total_steps = in_child("headless", args.epochs, data_dir)
            plain.append(seconds)
            seconds, events = in_child("workbench", args.epochs, data_dir)
            tui.append(seconds)
    samples = total_steps * config.train.batch_size
    h, t = statistics.median(plain), statistics.median(tui)
    what = f"all-MiniLM-L6-v2 fine-tuned on {args.rows} SST-2 rows" if args.finetune else "default preset"
    print(f"config: {what}, {args.epochs} epochs, {total_steps} steps, log every {config.train.log_every_steps} steps")
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
