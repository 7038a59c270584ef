"""Opening a 100,000-record session for replay: time and memory.

Baseline, measured here on the same file: the naive reader that json-parses every line and
keeps every record. The session reader indexes byte offsets and keeps only small derived state
(curves, epoch markers), so it should open in well under 1 s with memory that does not grow
with the bulky records (attention matrices, console results).

    python benchmarks/session_replay_open.py [--records 100000]
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sessions import SessionLog  # noqa: E402
from core.sessions.cursor import ReplayCursor  # noqa: E402
from tests.synthetic_sessions import write_synthetic_session  # noqa: E402


def build(root: Path, records: int) -> Path:
    # Per epoch: steps + ~5% attention views + ~1% console prompts + 3 epoch-end records.
    steps_per_epoch = 1000
    per_epoch = steps_per_epoch + steps_per_epoch // 20 + steps_per_epoch // 100 + 3
    epochs = max(1, records // per_epoch)
    rec = write_synthetic_session(root, "bench", epochs=epochs, steps_per_epoch=steps_per_epoch,
                                  attention_every=20, console_every=100)
    return rec.folder


def timed(fn):
    """Wall and CPU seconds of an untraced call, then its peak traced memory in a second call."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return wall, cpu, peak


def naive_open(folder: Path) -> list:
    with open(folder / "session.jsonl", "rb") as f:
        return [json.loads(line) for line in f]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(Path(tmp), args.records)
        size = (folder / "session.jsonl").stat().st_size
        naive_open(folder)  # warm the page cache for both readers alike

        naive_wall, naive_cpu, naive_peak = timed(lambda: naive_open(folder))

        def replay_open():
            log = SessionLog.open(folder)
            cursor = ReplayCursor(log)  # opens at the end: all curves, the last views
            cursor.attention(), cursor.recent(200), cursor.curves(), cursor.console()
            cursor.seek(len(log) // 2)  # and a jump to the middle
            cursor.attention(), cursor.recent(200), cursor.curves(), cursor.console()
            return log

        wall, cpu, peak = timed(replay_open)
        records = len(SessionLog.open(folder))
        print(f"session: {records:,} records, {size / 1e6:.1f} MB on disk")
        print(f"naive reader (json-parse and keep every line): {naive_wall:.3f} s wall, {naive_cpu:.3f} s CPU, "
              f"peak memory {naive_peak / 1e6:.1f} MB")
        print(f"session reader (open + panes at end + jump to middle): {wall:.3f} s wall, {cpu:.3f} s CPU, "
              f"peak memory {peak / 1e6:.1f} MB")
        print(f"open time vs 1 s budget: {wall:.2f}x wall, {cpu:.2f}x CPU ({'OK' if wall < 1.0 else 'OVER BUDGET'})")
        print(f"open time vs naive reader: {wall / naive_wall:.2f}x")
        print(f"peak memory vs file size: {peak / size:.2f}x (naive reader: {naive_peak / size:.2f}x)")


if __name__ == "__main__":
    main()
