"""SST-2 from scratch: dev accuracy reached, time to reach the target, peak memory.

Trains the ``sst2`` preset (random initial weights, tokenizer trained on SST-2 train) and
evaluates on SST-2 dev after every epoch and every ``train.eval_every_steps`` steps (the
best of those evaluations is what best/ keeps); reports when dev accuracy first reaches the target
(82% by default), the best dev accuracy, and the process's peak resident memory.

usage: python benchmarks/accuracy_sst2.py [--data-dir DIR] [--target 0.82] [--budget-min 15]
                                          [--threads N] [--set section.field=value ...] [--out DIR]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core import events as ev  # noqa: E402
from core.config import apply_overrides, check, preset, with_field  # noqa: E402
from core.training.devices import peak_rss_bytes  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sst2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--target", type=float, default=0.82)
    parser.add_argument("--budget-min", type=float, default=15.0, help="stop the run after this many minutes")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: the engine's choice)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default="", help="checkpoint folder (default: none written)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    data_dir = Path(args.data_dir)
    config = preset("sst2")
    config = with_field(config, "data.train_path", str(data_dir / "train.tsv"))
    config = with_field(config, "data.val_path", str(data_dir / "dev.tsv"))
    config = check(apply_overrides(config, args.overrides))

    start = time.perf_counter()
    reached: list[float] = []
    best = {"accuracy": 0.0, "epoch": 0}
    outcome: list[ev.Event] = []

    def note(accuracy: float, epoch: int, now: float) -> None:
        if accuracy > best["accuracy"]:
            best.update(accuracy=accuracy, epoch=epoch)
        if accuracy >= args.target and not reached:
            reached.append(now)

    def on_event(event: ev.Event) -> None:
        now = time.perf_counter() - start
        if isinstance(event, ev.ValidationReported):
            mark = " (best so far, saved)" if event.improved else ""
            print(f"[{now:6.1f}s]   step {event.step} (epoch {event.epoch}): "
                  f"dev accuracy {event.val_accuracy:.4f}{mark}", flush=True)
            note(event.val_accuracy, event.epoch, now)
        if isinstance(event, ev.RunStarted):
            print(f"[{now:6.1f}s] data ready: {event.num_train} train / {event.num_val} dev, "
                  f"{event.num_parameters:,} parameters, {event.steps_per_epoch} steps per epoch, {event.device}",
                  flush=True)
        elif isinstance(event, ev.EpochCompleted):
            print(f"[{now:6.1f}s] {event.seed_line()}", flush=True)
            note(event.val_accuracy, event.epoch, now)
        elif isinstance(event, ev.TERMINAL_EVENTS):
            outcome.append(event)

    trainer = Trainer(config, on_event, out_dir=args.out or None)
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    thread.join(args.budget_min * 60)
    if thread.is_alive():
        trainer.cancel()
        thread.join()
    total = time.perf_counter() - start
    final = outcome[0] if outcome else None
    if isinstance(final, ev.TrainingFailed):
        print(f"training failed: {final.message} ({final.hint})")
        return 1

    peak = peak_rss_bytes() or 0
    print()
    print(f"threads: {torch.get_num_threads()}, run time: {total:.1f}s (budget {args.budget_min:g} min)")
    print(f"best dev accuracy: {best['accuracy']:.4f} (epoch {best['epoch']})")
    if reached:
        print(f"time to {args.target:.0%} dev accuracy: {reached[0]:.1f}s "
              f"({reached[0] / 60:.1f} min; budget ratio {reached[0] / (args.budget_min * 60):.2f})")
    else:
        print(f"dev accuracy never reached {args.target:.0%} within the run")
    print(f"peak RSS: {peak / 2**30:.2f} GiB (goal < 2 GiB; ratio {peak / 2**31:.2f})")
    return 0 if reached else 1


if __name__ == "__main__":
    sys.exit(main())
