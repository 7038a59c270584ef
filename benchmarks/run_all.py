"""Every benchmark, one after the other, and one table of their headline ratios.

Each benchmark runs as its own process (so none pays for another's threads or imports) and
prints its own figures; this script keeps each one's last line with a ratio ("2.31x") as its
headline. ``--quick`` gives each small arguments so that the whole set runs in a few minutes on
a quiet machine; without it, each runs as its own defaults say (the SST-2 ones take minutes
each). A benchmark whose inputs are missing (SST-2, the transformers-4 venv) is skipped.

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--timeout S]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "sst2" / "train.tsv"
RATIO = re.compile(r"\d+(?:\.\d+)?x\b")


@dataclass(frozen=True)
class Bench:
    name: str
    quick: tuple[str, ...]  # arguments in --quick mode
    full: tuple[str, ...] = ()
    needs: Path | None = None  # skipped when this path is missing
    in_quick: bool = True  # too long for --quick even with small arguments


BENCHES = (
    Bench("throughput", ("--steps", "60", "--seed-steps", "40"), needs=SST2),
    Bench("e2e_sst2", ("--rows", "3200"), needs=SST2),
    Bench("first_step", ("--runs", "1"), needs=SST2),
    Bench("data_prepare", (), needs=SST2),
    Bench("predict_vs_pipeline", ("--model", "twb", "--rows", "4000"), needs=SST2),
    Bench("model_layer_speed", ("--steps", "60")),
    Bench("tui_throughput", ("--runs", "1", "--epochs", "1")),
    Bench("session_recording_overhead", ("--pairs", "2", "--samples", "1000")),
    Bench("session_replay_open", ("--records", "20000")),
    Bench("pipeline_overhead", ("--calls", "30")),
    Bench("tui_first_paint", ("--runs", "2")),
    Bench("tui_key_latency", ("--keys", "20")),
    Bench("explain_speed", ("--repeat", "1", "--train-steps", "300", "--rounds", "1")),
    Bench("attention_grid", ("--runs", "1")),
    Bench("compare_screen", ("--sessions", "3", "--records", "20000")),
    Bench("ddp_scaling", ("--rows", "2000"), needs=SST2),
    Bench("ddp_start", ("--runs", "1")),
    Bench("finetune_sst2", ("--quick", "--train-rows", "160"), needs=SST2),
    Bench("accuracy_sst2", (), needs=SST2, in_quick=False),
    Bench("pipelines_vs_transformers4", (), needs=Path("/work/venv-tf4"), in_quick=False),
)


def run_one(bench: Bench, quick: bool, timeout: float) -> tuple[str, float, str]:
    """(status, seconds, headline) of one benchmark."""
    if bench.needs is not None and not bench.needs.exists():
        return "skipped", 0.0, f"needs {bench.needs}"
    if quick and not bench.in_quick:
        return "skipped", 0.0, "full runs only"
    cmd = [sys.executable, str(ROOT / "benchmarks" / f"{bench.name}.py"), *(bench.quick if quick else bench.full)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started, f"over {timeout:.0f}s"
    seconds = time.perf_counter() - started
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    print(f"--- {bench.name} ({seconds:.1f}s)\n" + "\n".join(lines), flush=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return "failed", seconds, tail[:100]
    with_ratio = [line for line in lines if RATIO.search(line)]
    return "ok", seconds, (with_ratio or lines or ["(no output)"])[-1][:100]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small arguments: the whole set in minutes")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES], help="run just these")
    parser.add_argument("--timeout", type=float, default=0, help="seconds per benchmark (default 120 quick, 1800)")
    args = parser.parse_args()
    timeout = args.timeout or (120 if args.quick else 1800)
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    started = time.perf_counter()
    rows = [(b.name, *run_one(b, args.quick, timeout)) for b in chosen]
    width = max(len(name) for name, *_ in rows)
    print(f"\n{'benchmark':<{width}}  status    seconds  headline")
    for name, status, seconds, headline in rows:
        print(f"{name:<{width}}  {status:<8} {seconds:8.1f}  {headline}")
    print(f"total {time.perf_counter() - started:.0f}s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (ratios within one benchmark are comparable, absolute times are not)")
    return 1 if any(status in ("failed", "timeout") for _, status, *_ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
