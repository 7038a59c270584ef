"""Training throughput: the engine against the tutorial's loop, on SST-2 train.

Both train the same model shape (word vocabulary of 1000, emb 128, 4 heads, 2 layers, ff 256,
max length 64, batch 32, Adam 1e-3) with the same number of torch threads, one after the other.
The baseline is /work/shared/baseline/seed_loop.py run as a subprocess; the engine is
``core.training.trainer.Trainer`` measured from its own StepLogged events after a warm-up. Prints both
rates in samples per second and their ratio.

usage: python benchmarks/throughput.py [--data TSV] [--threads N] [--steps N] [--seed-steps N]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core import events as ev  # noqa: E402
from core.config import apply_overrides, preset  # noqa: E402
from core.training.devices import configure_threads  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

SHARED = ROOT.parent / "shared"
SEED_LOOP = SHARED / "baseline" / "seed_loop.py"
WARMUP_STEPS = 20


def seed_samples_per_s(data: Path, threads: int, steps: int) -> float:
    cmd = [sys.executable, str(SEED_LOOP), "--data", str(data), "--seq-len", "64", "--batch", "32",
           "--steps", str(steps), "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    match = re.search(r"samples/s ([\d.]+)", out)
    if not match:
        raise RuntimeError(f"unexpected output from the baseline: {out!r}")
    return float(match.group(1))


def engine_samples_per_s(data: Path, val: Path, steps: int) -> tuple[float, str]:
    config = apply_overrides(preset("seed"), [
        "data.source=file", f"data.train_path={data}", f"data.val_path={val}", "data.tokenizer=word",
        "model.vocab_size=1000", "model.max_seq_len=64", "model.dropout=0.1",
        "train.batch_size=32", "train.epochs=1", "train.log_every_steps=10", "train.seed=42",
    ])
    marks: list[tuple[int, float]] = []
    device = [""]

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            device[0] = event.device
        if isinstance(event, ev.StepLogged):
            marks.append((event.step, time.perf_counter()))
            if event.step >= WARMUP_STEPS + steps:
                trainer.cancel()

    trainer = Trainer(config, on_event)
    trainer.run()
    if not isinstance(trainer.outcome, (ev.TrainingCancelled, ev.TrainingFinished)):
        raise RuntimeError(f"the engine's run failed: {trainer.outcome}")
    timed = [(s, t) for s, t in marks if s >= WARMUP_STEPS]
    (first_step, first_t), (last_step, last_t) = timed[0], timed[-1]
    # Every batch but the epoch's last holds exactly batch_size examples.
    return (last_step - first_step) * config.train.batch_size / (last_t - first_t), device[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SHARED / "data" / "sst2" / "train.tsv"))
    parser.add_argument("--val", default=str(SHARED / "data" / "sst2" / "dev.tsv"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads for both (0: the engine's choice)")
    parser.add_argument("--steps", type=int, default=400, help="timed engine steps")
    parser.add_argument("--seed-steps", type=int, default=200, help="timed baseline steps")
    args = parser.parse_args()

    threads = args.threads or configure_threads()
    torch.set_num_threads(threads)
    print(f"threads: {threads}; model: vocab 1000, emb 128, 4 heads, 2 layers, ff 256; batch 32, max length 64")
    seed = seed_samples_per_s(Path(args.data), threads, args.seed_steps)
    print(f"seed loop (tutorial):  {seed:10.1f} samples/s")
    engine, device = engine_samples_per_s(Path(args.data), Path(args.val), args.steps)
    print(f"engine ({device}): {engine:10.1f} samples/s")
    print(f"ratio engine/seed: {engine / seed:.2f}x (goal >= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
