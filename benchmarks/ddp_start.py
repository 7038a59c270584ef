"""What starting a data-parallel job costs: `twb train --nproc-per-node 2` against one process.

Both train the nano preset for one epoch (built-in data, so no file is read), as a user runs
them (``python -m tui.cli train``), and alternate run by run. For each: the time from starting
the process to its first step line, to its exit, and the CPU seconds of the whole process tree
(this process is made a child subreaper, so processes the job leaves behind, such as a fork
server, are reaped here and counted). Prints the medians and the ratios of the two-process job
to the one-process run: start-up is what a job adds (its workers' imports, the rendezvous, the
process group), since the nano epoch itself is a fraction of a second.

    python benchmarks/ddp_start.py [--runs 3] [--nproc 2]
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reap_all() -> None:
    """Wait for every process left behind (reparented here as the subreaper)."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def one_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds to the first step line, seconds to exit, CPU seconds of the process tree)."""
    before = children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = None
    tail = []
    for line in proc.stdout:
        tail = (tail + [line])[-20:]
        if first is None and line.lstrip().startswith("step "):
            first = time.perf_counter() - started
    code = proc.wait()
    ended = time.perf_counter() - started
    reap_all()
    if code != 0 or first is None:
        raise RuntimeError(f"{' '.join(cmd)} exited {code} (first step line: {first}):\n{''.join(tail)}")
    return first, ended, children_cpu() - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nproc", type=int, default=2)
    args = parser.parse_args()
    become_subreaper()
    results: dict[str, list[tuple[float, float, float]]] = {"1 process": [], f"{args.nproc} processes": []}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TWB_CACHE_DIR": str(Path(tmp) / "cache"),
               "TWB_SESSIONS_DIR": str(Path(tmp) / "sessions")}
        base = [sys.executable, "-m", "tui.cli", "train", "--preset", "nano", "--set", "train.epochs=1",
                "--set", "train.log_every_steps=1"]
        for run in range(args.runs):
            for name, extra in (("1 process", []), (f"{args.nproc} processes", ["--nproc-per-node", str(args.nproc)])):
                out = Path(tmp) / f"run-{run}-{len(extra)}"
                results[name].append(one_run(base + ["--out", str(out)] + extra, env))
                first, ended, cpu = results[name][-1]
                print(f"run {run + 1} {name}: first step {first:.2f}s, exit {ended:.2f}s, {cpu:.2f} CPU s", flush=True)
    medians = {name: [statistics.median(r[i] for r in rows) for i in range(3)] for name, rows in results.items()}
    (one, many) = medians.values()
    for name, (first, ended, cpu) in medians.items():
        print(f"median of {args.runs}, {name}: first step {first:.2f}s, exit {ended:.2f}s, {cpu:.2f} CPU s")
    print(f"{args.nproc}-process job / 1 process: first step {many[0] / one[0]:.2f}x, exit {many[1] / one[1]:.2f}x, "
          f"CPU {many[2] / one[2]:.2f}x (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
