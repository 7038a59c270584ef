"""Data-parallel scaling on this machine's CPU: torchrun processes against threads.

One epoch of SST-2 on the seed tutorial's model shape (2 layers, 128 wide, 4 heads), three runs
of `twb train` with the same effective batch, in this order:

  plain   1 process  x all cores as threads, batch B          (the baseline)
  ddp-1   1 process  x all cores, batch B, through torchrun    (the distributed path's overhead)
  ddp-N   N processes x cores/N threads, batch B/N per process (data parallelism)
  apart   N plain runs at once, 1 thread and batch B/N each, not connected: the most N
          processes get out of this machine, so the ceiling of ddp-N's ratio here

Each run is recorded as a session; training samples/s are the examples the epoch trained over
the time from the first step to the end of the epoch (the session's EpochCompleted.elapsed_s),
so data preparation and process start-up are left out of every run alike. Prints samples/s,
dev accuracy, and the ratios the targets are about: ddp-N/plain >= 1.4x, |accuracy - plain's|
<= 1 point, ddp-1 within 3% of plain.

usage: python benchmarks/ddp_scaling.py [--nproc 2] [--batch 64] [--rows 0 (all)] [--data-dir DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sst2"
SEED_SHAPE = ["--preset", "seed", "--set", "data.source=file", "--set", "data.tokenizer=word",
              "--set", "model.vocab_size=16000", "--set", "model.max_seq_len=64", "--set", "train.epochs=1",
              "--set", "train.log_every_steps=50"]


def train_run(name: str, workdir: Path, train: Path, dev: Path, batch: int, nproc: int | None) -> dict:
    return finish_run(start_run(name, workdir, train, dev, batch, nproc))


def side_by_side(name: str, workdir: Path, train: Path, dev: Path, batch: int, nproc: int) -> dict:
    """NPROC plain one-thread runs at once, each of batch B/N: what NPROC processes get out of
    this machine with no communication at all, the ceiling for data parallelism here."""
    runs = [finish_run(proc) for proc in [start_run(f"{name}{i}", workdir, train, dev, batch, None, threads=1)
                                          for i in range(nproc)]]
    return {"name": name, "device": f"{nproc} x {runs[0]['device']}", "world": nproc,
            "samples_per_s": sum(r["samples_per_s"] for r in runs), "seconds": max(r["seconds"] for r in runs),
            "accuracy": float("nan")}


def start_run(name: str, workdir: Path, train: Path, dev: Path, batch: int, nproc: int | None,
              threads: int | None = None) -> tuple:
    sessions = workdir / "sessions"
    argv = [sys.executable, "-m", "core.cli", "train", "--quiet", *SEED_SHAPE, "--data", str(train), "--val", str(dev),
            "--set", f"train.batch_size={batch}", "--out", str(workdir / name), "--session", name,
            "--sessions-dir", str(sessions)]
    if nproc is not None:
        argv += ["--nproc-per-node", str(nproc)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OMP_NUM_THREADS", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return name, sessions, batch, proc


def finish_run(started_run: tuple) -> dict:
    name, sessions, batch, proc = started_run
    _, stderr = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"{name} failed ({proc.returncode}):\n{stderr}")
    folder = next(p for p in sessions.iterdir() if p.name.endswith(name))
    records = [json.loads(line) for line in (folder / "session.jsonl").read_text().splitlines()]
    started = next(r for r in records if r.get("type") == "RunStarted")
    epoch = [r for r in records if r.get("type") == "EpochCompleted"][-1]
    world = started.get("world_size", 1)
    trained = started["steps_per_epoch"] * batch * world  # per-rank batch x ranks x steps (last batch may be short)
    trained = min(trained, started["num_train"])
    return {"name": name, "device": started["device"], "world": world, "samples_per_s": trained / epoch["elapsed_s"],
            "seconds": epoch["elapsed_s"], "accuracy": epoch["val_accuracy"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64, help="effective batch of every run")
    parser.add_argument("--rows", type=int, default=0, help="train on the first ROWS examples only (quick mode)")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    if args.batch % args.nproc:
        sys.exit(f"--batch {args.batch} is not a multiple of --nproc {args.nproc}")
    data_dir = Path(args.data_dir)
    with tempfile.TemporaryDirectory(prefix="twb-ddp-") as tmp:
        workdir = Path(tmp)
        train = data_dir / "train.tsv"
        if args.rows:
            lines = train.read_text(encoding="utf-8").splitlines(keepends=True)
            train = workdir / "train.tsv"
            train.write_text("".join(lines[:args.rows + 1]), encoding="utf-8")  # the header and ROWS rows
        runs = [train_run("plain", workdir, train, data_dir / "dev.tsv", args.batch, None),
                train_run("ddp-1", workdir, train, data_dir / "dev.tsv", args.batch, 1),
                train_run(f"ddp-{args.nproc}", workdir, train, data_dir / "dev.tsv", args.batch // args.nproc,
                          args.nproc),
                side_by_side("apart", workdir, train, data_dir / "dev.tsv", args.batch // args.nproc, args.nproc)]
    plain, one, many, apart = runs
    print(f"SST-2, {args.rows or 'all'} train rows, 1 epoch, seed-shaped model, effective batch {args.batch}")
    print(f"{'run':<8} {'device':<36} {'seconds':>8} {'samples/s':>10} {'dev acc':>8}")
    for run in runs:
        print(f"{run['name']:<8} {run['device'][:36]:<36} {run['seconds']:8.1f} {run['samples_per_s']:10.0f} "
              f"{run['accuracy']:8.4f}")
    speedup = many["samples_per_s"] / plain["samples_per_s"]
    overhead = 1 - one["samples_per_s"] / plain["samples_per_s"]
    gap = (many["accuracy"] - plain["accuracy"]) * 100
    print(f"ddp-{args.nproc} / plain samples/s: {speedup:.2f}x (target >= 1.40x)")
    print(f"ddp-{args.nproc} - plain dev accuracy: {gap:+.2f} points (target within 1)")
    print(f"ddp-1 overhead vs plain: {overhead * 100:+.1f}% (target <= 3%)")
    print(f"ceiling: {args.nproc} unconnected one-thread runs side by side / plain: "
          f"{apart['samples_per_s'] / plain['samples_per_s']:.2f}x; ddp-{args.nproc} reaches "
          f"{many['samples_per_s'] / apart['samples_per_s']:.0%} of it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
