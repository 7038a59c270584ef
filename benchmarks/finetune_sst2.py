"""Fine-tuning all-MiniLM-L6-v2 on SST-2: twb against Hugging Face's Trainer, same model and settings.

twb trains the ``sst2-minilm`` preset (the packaged all-MiniLM-L6-v2, its own tokenizer, texts
cut at 64 tokens) on SST-2 train, or its first ``--train-rows`` rows, for ``--epochs`` epochs, and
evaluates on SST-2 dev every ``train.eval_every_steps`` steps. It reports the best dev accuracy,
when dev accuracy first reached the target (88% by default), training samples/s and peak RSS.

Then ``transformers.Trainer`` fine-tunes the same model on the same rows with the same batch
size, learning rate, warm-up, linear decay, weight decay, gradient clipping, seed and number of
steps (dynamic padding, no length grouping: its defaults), and the script prints both dev
accuracies and the twb / Trainer training samples/s ratio. Evaluation and start-up time are
excluded from both (Trainer's own train_runtime).

``--quick``: 512 training rows, one epoch, dev evaluated once at the end (about 2 minutes on two
cores; dev accuracy is then far below the full run's). The full run is one epoch over all 67k rows.

usage: python benchmarks/finetune_sst2.py [--quick] [--data-dir DIR] [--train-rows N] [--epochs N]
                                          [--target 0.88] [--threads N] [--skip-hf] [--set KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
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


def subsample(train: Path, rows: int, folder: Path) -> Path:
    """The first ``rows`` rows of train.tsv, written to a temp folder (never into the project)."""
    with open(train, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        kept = [next(reader)] + [row for _, row in zip(range(rows), reader)]
    out = folder / "train.tsv"
    with open(out, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\").writerows(kept)
    return out


def run_twb(config, target: float) -> dict:
    marks: dict = {"steps": [], "evals": [], "reached": None}
    outcome: list = []

    def on_event(event) -> None:
        now = time.perf_counter()
        if isinstance(event, ev.RunStarted):
            marks["steps_total"] = event.steps_per_epoch * event.total_epochs
        elif isinstance(event, ev.StepLogged):
            marks["steps"].append((now, event.step))
        elif isinstance(event, (ev.ValidationReported, ev.EpochCompleted)):
            marks["evals"].append(event.val_accuracy)
            if event.val_accuracy >= target and marks["reached"] is None:
                marks["reached"] = event.elapsed_s
        elif isinstance(event, (ev.TrainingFinished, ev.TrainingFailed, ev.TrainingCancelled)):
            outcome.append(event)

    began = time.perf_counter()
    trainer = Trainer(config, on_event)
    trainer.run()
    if not isinstance(outcome[-1], ev.TrainingFinished):
        raise SystemExit(f"twb run failed: {outcome[-1]}")
    steps = marks["steps_total"]
    train_s = outcome[-1].elapsed_s - _eval_seconds(trainer, config, steps)
    return {"accuracy": max(marks["evals"]), "reached_s": marks["reached"], "steps": steps,
            "samples": len(trainer.data.train) * config.train.epochs, "train_s": train_s,
            "wall_s": time.perf_counter() - began, "rss": peak_rss_bytes(), "data": trainer.data}


def _eval_seconds(trainer: Trainer, config, total_steps: int) -> float:
    """Time of one dev evaluation of the final model, times the number the run made."""
    from core.data.batching import iterate_batches
    from core.training.loop import eval_batch_size, evaluate

    model = trainer.snapshot().model
    started = time.perf_counter()
    evaluate(model, iterate_batches(trainer.data.val, eval_batch_size(config.train.batch_size), False, 0),
             torch.device("cpu"), config.train.bf16)
    one = time.perf_counter() - started
    every = config.train.eval_every_steps
    count = config.train.epochs + (total_steps // every if every else 0)
    return one * count


def run_hf(config, data, steps: int) -> dict:
    """transformers.Trainer on the same texts, labels, model folder and optimisation settings."""
    import numpy as np
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                              Trainer as HFTrainer, TrainingArguments)
    from transformers.utils import logging

    from core.pretrained.locate import locate_backbone
    from core.training.schedule import warmup_steps

    logging.set_verbosity_error()
    folder = str(locate_backbone(config.model.backbone).folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    t = config.train

    def encode(split):
        enc = tokenizer(split.texts, truncation=True, max_length=config.model.max_seq_len)
        return [{"input_ids": i, "attention_mask": m, "labels": y}
                for i, m, y in zip(enc["input_ids"], enc["attention_mask"], split.labels)]

    train, dev = encode(data.train), encode(data.val)
    torch.manual_seed(t.seed)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=len(data.label_names))
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=256,
            learning_rate=t.lr, weight_decay=t.weight_decay, lr_scheduler_type=t.schedule,
            warmup_steps=warmup_steps(t, steps), max_steps=steps, max_grad_norm=t.grad_clip or 1e9,
            seed=t.seed, report_to="none", save_strategy="no", eval_strategy="no", logging_steps=10**9,
            optim="adamw_torch", dataloader_num_workers=0, disable_tqdm=True, use_cpu=not torch.cuda.is_available())
        hf = HFTrainer(model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer))
        # Its own measure of the training loop (as twb's excludes start-up and evaluation).
        train_s = float(hf.train().metrics["train_runtime"])
        predictions = hf.predict(dev).predictions
    accuracy = float((np.argmax(predictions, axis=-1) == np.array(data.val.labels)).mean())
    return {"accuracy": accuracy, "train_s": train_s, "samples": min(steps * t.batch_size, len(train) * t.epochs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="512 rows, one epoch, one evaluation (about 2 minutes)")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--train-rows", type=int, default=0, help="first N training rows (0: all)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--target", type=float, default=0.88)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: the engine's choice)")
    parser.add_argument("--skip-hf", action="store_true", help="only the twb run")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = Path(args.data_dir)
    if not (data_dir / "train.tsv").is_file():
        raise SystemExit(f"no SST-2 in {data_dir} (train.tsv, dev.tsv); pass --data-dir")
    rows = args.train_rows or (512 if args.quick else 0)
    with tempfile.TemporaryDirectory() as tmp:
        train_path = subsample(data_dir / "train.tsv", rows, Path(tmp)) if rows else data_dir / "train.tsv"
        config = preset("sst2-minilm")
        config = with_field(config, "data.train_path", str(train_path))
        config = with_field(config, "data.val_path", str(data_dir / "dev.tsv"))
        config = with_field(config, "train.epochs", args.epochs)
        if args.quick:
            config = with_field(config, "train.eval_every_steps", 0)
        config = check(apply_overrides(config, args.overrides))
        ours = run_twb(config, args.target)
        print(f"twb: {len(ours['data'].train):,} train rows x {config.train.epochs} epoch(s), {ours['steps']} steps of "
              f"{config.train.batch_size}, threads {torch.get_num_threads()}")
        print(f"twb: best dev accuracy {ours['accuracy']:.4f}; reached {args.target:.0%} after "
              + (f"{ours['reached_s']:.0f} s" if ours["reached_s"] is not None else "never"))
        twb_rate = ours["samples"] / ours["train_s"]
        print(f"twb: training {ours['train_s']:.1f} s ({twb_rate:.1f} samples/s), wall {ours['wall_s']:.1f} s, "
              f"peak RSS {(ours['rss'] or 0) / 2**20:.0f} MiB")
        if args.skip_hf:
            return 0
        theirs = run_hf(config, ours["data"], ours["steps"])
        hf_rate = theirs["samples"] / theirs["train_s"]
        print(f"HF Trainer: dev accuracy {theirs['accuracy']:.4f}; training {theirs['train_s']:.1f} s "
              f"({hf_rate:.1f} samples/s)")
        print(f"twb / Trainer samples/s: {twb_rate / hf_rate:.2f}x; dev accuracy twb - Trainer: "
              f"{100 * (ours['accuracy'] - theirs['accuracy']):+.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
