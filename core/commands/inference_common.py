"""What `twb predict` and `twb eval` share: the model and data options, and the progress line."""
from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from core.formatting import format_duration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="a checkpoint (runs/<run>/best), a run folder, a `twb export` folder, "
                             "or a Hugging Face text-classification folder")
    parser.add_argument("--data", metavar="FILE", required=True, help="texts to classify, CSV/TSV/JSONL")
    parser.add_argument("--text-column", metavar="C", default="", help="the column holding the text (default: detected)")
    parser.add_argument("--label-column", metavar="C", default="", help="the column holding the label (default: detected)")
    parser.add_argument("--batch-size", metavar="N", type=int, default=None,
                        help="rows per forward pass at most (default: 256; batches also keep to a token budget)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")


def predict_options(args: argparse.Namespace) -> dict:
    from core.errors import UserError

    if args.batch_size is None:
        return {}
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}", "e.g. --batch-size 64")
    return {"batch_size": args.batch_size}


def load(args: argparse.Namespace, labels_optional: bool):
    """(classifier, table): the data first, so a wrong file is refused before a model loads."""
    from core.data.readers import read_table
    from core.inference import load_model

    options = predict_options(args)
    table = read_table(args.data, args.text_column, args.label_column, labels_optional=labels_optional,
                       settings=("--text-column", "--label-column"))
    return load_model(args.model, device=_device(args.device)), table, options


def _device(name: str) -> str:
    import torch

    from core.errors import UserError
    from core.training.devices import resolve_device

    name = (name or "auto").strip().lower()
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {name!r} asked for, but no CUDA GPU is visible", "use --device cpu (or auto)")
    try:
        return str(resolve_device(name))
    except (RuntimeError, ValueError):
        raise UserError(f"unknown device {name!r}", "use auto, cpu, cuda or cuda:N") from None


class RowProgress:
    """``progress(done, total)`` for the predictor: a line redrawn in place on a terminal, plain
    lines every ``every_s`` seconds otherwise (a log file should not fill with carriage returns)."""

    def __init__(self, stream: TextIO | None = None, every_s: float | None = None):
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s = every_s if every_s is not None else (0.2 if self.live else 10.0)
        self.start = time.monotonic()
        self._last = self.start
        self._width = 0  # of the longest line drawn, so a shorter one covers it

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.every_s:
            return
        if done >= total and not self.live and now - self.start < self.every_s:
            return  # a quick run on a pipe: no progress line at all
        self._last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else None
        line = f"  {done:,}/{total:,} rows  {rate:,.0f} rows/s  eta {format_duration(eta)}"
        if self.live:
            self._width = max(self._width, len(line))
            self.stream.write("\r" + line.ljust(self._width) + ("\n" if done >= total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def interrupted(self) -> None:
        """End a line drawn in place, so the next message starts on its own line."""
        if self.live and self._width:
            self.stream.write("\n")
            self.stream.flush()
