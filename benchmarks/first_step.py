"""Time from `twb train` starting to its first training step, with a cold and a warm data cache.

Runs the whole process as a user does (``python -m tui.cli train`` on SST-2, the tutorial's
model shape, max length 64, batch 32) with ``train.log_every_steps=1``, so the first step line
the printer writes is the first step. Cold: an empty TWB_CACHE_DIR (read, train the tokenizer,
encode); warm: the same folder again (the cache read back). Cold and warm runs alternate and
the medians are printed with their ratio; the goal is a warm first step within 3 s.

    python benchmarks/first_step.py [--runs 3] [--tokenizer wordpiece|word]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "sst2"
GOAL_S = 3.0


def tutorial_command(train: Path, val: Path, tokenizer: str, out: Path, epochs: int = 1) -> list[str]:
    """`twb train` on SST-2 with the tutorial's model shape (vocab 1000, emb 128, 4 heads, 2 layers, ff 256)."""
    return [sys.executable, "-m", "tui.cli", "train", "--preset", "seed", "--data", str(train), "--val", str(val),
            "--out", str(out), "--set", "model.max_seq_len=64", "--set", f"data.tokenizer={tokenizer}",
            "--set", f"train.epochs={epochs}", "--set", "train.batch_size=32"]


def time_to_first_step(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds from starting the process to its first step line, CPU seconds it had used by then,
    its 'data:' line). The CPU time says less about how busy the machine was than the wall time."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    data_line, seconds = "", None
    try:
        for line in proc.stdout:
            if line.startswith("data: "):
                data_line = line.strip()
            if line.lstrip().startswith("step "):
                seconds = time.perf_counter() - started
                break
    finally:
        proc.kill()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if seconds is None:
        raise RuntimeError(f"no step line from {' '.join(cmd)} (exit {proc.returncode})")
    return seconds, usage.ru_utime + usage.ru_stime, data_line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default=str(SST2 / "train.tsv"))
    parser.add_argument("--val", default=str(SST2 / "dev.tsv"))
    parser.add_argument("--tokenizer", default="wordpiece")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = tutorial_command(Path(args.train), Path(args.val), args.tokenizer, Path(tmp) / "run")
        cmd += ["--set", "train.log_every_steps=1"]
        for run in range(args.runs):
            cache = Path(tmp) / f"cache{run}"
            env = {**os.environ, "TWB_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
            seconds, cpu, _ = time_to_first_step(cmd, env)
            cold.append((seconds, cpu))
            seconds, cpu, line = time_to_first_step(cmd, env)
            warm.append((seconds, cpu))
            print(f"run {run + 1}: cold {cold[-1][0]:.2f}s ({cold[-1][1]:.2f} CPU s)  warm {warm[-1][0]:.2f}s "
                  f"({warm[-1][1]:.2f} CPU s)  ({line})", flush=True)
    c, w = (statistics.median(s for s, _ in cold), statistics.median(s for s, _ in warm))
    c_cpu, w_cpu = (statistics.median(x for _, x in cold), statistics.median(x for _, x in warm))
    print(f"first step, median of {args.runs}: cold cache {c:.2f}s ({c_cpu:.2f} CPU s), warm cache {w:.2f}s "
          f"({w_cpu:.2f} CPU s); ratio cold/warm {c / w:.2f}x; goal warm <= {GOAL_S:.0f}s: "
          f"{'met' if w <= GOAL_S else 'NOT met'} (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
