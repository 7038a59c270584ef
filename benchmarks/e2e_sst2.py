"""One SST-2 epoch, whole process, as a user runs it: `twb train` against the tutorial's loop.

Both are timed from starting the process to its exit, peak RSS included (from the child's
rusage): the baseline is /work/shared/baseline/seed_loop.py for one epoch's steps (batch 32,
length 64); the engine is ``python -m tui.cli train`` with the tutorial's model shape (preset
``seed``, max length 64, batch 32, one epoch, validation and checkpoints included) and a warm
data cache (a first, untimed run fills it; ``--cold`` times the engine with an empty cache
too). Runs alternate, so load on the machine hits both alike; medians and their ratio are
printed. The goal is at least 5x, with peak RSS under 0.7 GiB.

    python benchmarks/e2e_sst2.py [--runs 1] [--rows N] [--cold] [--tokenizer wordpiece]

``--rows N`` trains on the first N rows of the training file (a quick check, e.g. in
``run_all.py --quick``); the seed loop then runs the same number of steps.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from first_step import SST2, tutorial_command  # noqa: E402

SEED_LOOP = ROOT.parent / "shared" / "baseline" / "seed_loop.py"
GOAL_RATIO = 5.0
GOAL_RSS = 0.7 * 2**30
SEED_WARMUP_STEPS = 10  # seed_loop.py runs --steps plus these untimed ones
CPU_SECONDS: list[float] = []


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in bytes, stdout) of one whole process; its CPU seconds are
    appended to ``CPU_SECONDS`` (a busy machine moves them less than the wall time)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{out[-2000:]}")
    CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    return seconds, usage.ru_maxrss * 1024, out


def subset(path: Path, rows: int, folder: Path) -> Path:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out = folder / f"{path.stem}-{rows}{path.suffix}"
    out.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default=str(SST2 / "train.tsv"))
    parser.add_argument("--val", default=str(SST2 / "dev.tsv"))
    parser.add_argument("--tokenizer", default="wordpiece")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rows", type=int, default=0, help="only the first N training rows (0: all)")
    parser.add_argument("--cold", action="store_true", help="also time the engine with an empty data cache")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="extra --set for twb train")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train = subset(Path(args.train), args.rows, folder) if args.rows else Path(args.train)
        n = sum(1 for _ in open(train, encoding="utf-8")) - 1
        steps = math.ceil(n / 32)
        seed_cmd = [sys.executable, str(SEED_LOOP), "--data", str(train), "--seq-len", "64", "--batch", "32",
                    "--steps", str(max(1, steps - SEED_WARMUP_STEPS))]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TWB_CACHE_DIR": str(folder / "cache")}
        twb_cmd = tutorial_command(train, Path(args.val), args.tokenizer, folder / "run") + ["--quiet"]
        for override in args.overrides:
            twb_cmd += ["--set", override]
        timed(twb_cmd, env)  # fills the data cache
        seed_s, seed_rss, twb_s, twb_rss, cold_s = [], [], [], [], []
        for run in range(args.runs):
            s, rss, _ = timed(seed_cmd, env)
            seed_s.append(s)
            seed_rss.append(rss)
            seed_cpu = CPU_SECONDS[-1]
            s, rss, out = timed(twb_cmd, env)
            twb_s.append(s)
            twb_rss.append(rss)
            accuracy = re.findall(r"Val Accuracy: ([\d.]+)", out)
            line = f"run {run + 1}: seed loop {seed_s[-1]:.1f}s, twb {twb_s[-1]:.1f}s ({seed_s[-1] / twb_s[-1]:.2f}x), " \
                   f"CPU seconds {seed_cpu:.1f} vs {CPU_SECONDS[-1]:.1f}, twb peak RSS {twb_rss[-1] / 2**30:.2f} GiB, val accuracy {accuracy[-1] if accuracy else '?'}"
            if args.cold:
                cold_env = {**env, "TWB_CACHE_DIR": str(folder / f"cold{run}")}
                cold_s.append(timed(twb_cmd, cold_env)[0])
                line += f"; twb cold cache {cold_s[-1]:.1f}s"
            print(line, flush=True)
    seed, twb, rss = statistics.median(seed_s), statistics.median(twb_s), max(twb_rss)
    print(f"{n} examples, {steps} steps; median of {args.runs}: seed loop {seed:.1f}s "
          f"(peak RSS {max(seed_rss) / 2**30:.2f} GiB), twb {twb:.1f}s (peak RSS {rss / 2**30:.2f} GiB)")
    print(f"ratio seed/twb whole process: {seed / twb:.2f}x (goal >= {GOAL_RATIO:.0f}x: "
          f"{'met' if seed / twb >= GOAL_RATIO else 'NOT met'}); peak RSS goal < 0.7 GiB: "
          f"{'met' if rss < GOAL_RSS else 'NOT met'} (load average {os.getloadavg()[0]:.1f})")
    if cold_s:
        print(f"twb with a cold data cache: {statistics.median(cold_s):.1f}s "
              f"({seed / statistics.median(cold_s):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
