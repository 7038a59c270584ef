"""How fast SST-2 is prepared, and how much padding length bucketing saves.

    python benchmarks/data_prepare.py [--train PATH] [--val PATH]

Prints the time of ``prepare_data`` on SST-2 (read, train WordPiece, encode both splits) with
an empty data cache against reading the same data back from the cache, then encoding the same texts one ``encode`` call at a time, and the share of padded
positions per epoch with bucketed batches against randomly composed batches.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.batching import iterate_batches, padding_ratio  # noqa: E402
from core.config import DataConfig, ModelConfig  # noqa: E402
from core.data.prepare import prepare_data  # noqa: E402

SST2 = ROOT.parent / "shared" / "data" / "sst2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default=str(SST2 / "train.tsv"))
    parser.add_argument("--val", default=str(SST2 / "dev.tsv"))
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    cfg = DataConfig(source="file", train_path=args.train, val_path=args.val)
    model = ModelConfig(vocab_size=8000, max_seq_len=64)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["TWB_CACHE_DIR"] = cache  # empty: the first call builds, the second reads back
        started = time.perf_counter()
        data = prepare_data(cfg, model, seed=42)
        prepare_s = time.perf_counter() - started
        started = time.perf_counter()
        cached = prepare_data(cfg, model, seed=42)
        cached_s = time.perf_counter() - started
    print(f"prepare_data: {len(data.train)} train + {len(data.val)} val examples in {prepare_s:.2f}s; "
          f"from the cache {cached_s:.2f}s ({prepare_s / cached_s:.1f}x faster; {cached.summary['cache']})")

    # Baseline: the same encoder, one text per call (what a per-example Dataset would do).
    started = time.perf_counter()
    for text in data.train.texts:
        data.encoder.encode(text)
    one_by_one_s = time.perf_counter() - started
    started = time.perf_counter()
    data.encoder.encode_batch(data.train.texts)
    batch_s = time.perf_counter() - started
    print(f"encode train split: batch {batch_s:.2f}s vs one at a time {one_by_one_s:.2f}s "
          f"({one_by_one_s / batch_s:.1f}x faster)")

    bucketed = padding_ratio(data.train, args.batch_size, shuffle=True, seed=0, bucket=True)
    random_batches = padding_ratio(data.train, args.batch_size, shuffle=True, seed=0, bucket=False)
    print(f"padded positions per epoch: bucketed {bucketed:.1%} vs random batches {random_batches:.1%} "
          f"({(1 - bucketed) / (1 - random_batches):.1f}x fewer positions to compute)")

    started = time.perf_counter()
    count = sum(1 for _ in iterate_batches(data.train, args.batch_size, shuffle=True, seed=0))
    print(f"one epoch of batches ({count}) built in {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
