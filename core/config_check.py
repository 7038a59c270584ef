"""Checking a run configuration before anything runs: every problem, one line per field.

``twb train``, the workbench form (on each keystroke, so nothing here imports torch unless
asked to) and the trainer all call ``validate``. Besides types and ranges it refuses what
would hang or crash later: built-in data too small to give every class an example in both
splits, bounds past which a library aborts, and runs whose model, optimizer state and built-in
data could not fit in this machine's memory even in the best case.

Only plain data and the dataclasses' own field metadata are used here; ``core.config``
imports this module (not the other way round), so either can be imported first.
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from core.formatting import format_bytes

if TYPE_CHECKING:
    from core.config import DataConfig, ModelConfig, RunConfig


@dataclass(frozen=True)
class FieldError:
    field: str  # "section.name", e.g. "model.emb_dim"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ConfigError(ValueError):
    """Every problem found, per field, so the user fixes them all in one go."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


# --- bounds --------------------------------------------------------------------------------

# Deeper post-norm stacks do not train without tricks this model does not have; the bound
# also keeps a typo (num_layers=1e9) from building modules until the machine gives out.
MAX_LAYERS = 1000
# Attention costs grow with the square of the length: 65536 tokens are already ~17 GB of
# weights per head and layer for a single text.
MAX_SEQ_LEN = 65536
# Token ids are 32-bit in the tokenizers library; larger vocabularies abort inside it.
MAX_VOCAB = 2**32 - 1
# The built-in data is generated in Python; past this it takes many minutes before step one.
MAX_BUILTIN_SAMPLES = 10_000_000
# torch seeds are 64-bit and every epoch shuffles with seed + epoch, so stay inside int64.
MAX_SEED = 2**63 - 1
MAX_PROCESSES = 1024  # per machine: more than any box has GPUs or cores


# --- memory --------------------------------------------------------------------------------

# fp32 weights, their gradients and Adam's two moment buffers.
_BYTES_PER_TRAINED_PARAMETER = 16
# The WordPiece and WordLevel trainers of the tokenizers library reserve about 71 bytes per
# vocabulary entry before they look at any text (measured: vocab_size=1e9 asks for 70.9 GB).
_TOKENIZER_BYTES_PER_ENTRY = 72
# Measured resident memory of prepared built-in data (texts, token ids, labels): synthetic
# about 1.6 KiB per example; random about 100 bytes per generated token.
_SYNTHETIC_BYTES_PER_EXAMPLE = 2048
_RANDOM_BYTES_PER_TOKEN = 128
_SYNTHETIC_TOKENS = 32  # synthetic sentences stay under this many tokens
# The confusion matrix exists as numpy counts, Python lists and JSON in the session log.
_BYTES_PER_CONFUSION_CELL = 24


@functools.lru_cache(maxsize=1)
def machine_memory_bytes() -> int | None:
    """Memory this process may use: physical memory, or a lower cgroup (container) limit."""
    total: int | None = None
    try:
        import psutil  # type: ignore[import-not-found]

        total = int(psutil.virtual_memory().total)
    except ImportError:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            total = None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit_file, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and (total is None or int(text) < total):
            total = int(text)
        break
    return total


def parameter_count(model: ModelConfig, num_classes: int, vocab_size: int | None = None) -> int:
    """Trainable parameters of ``core.model.TransformerClassifier`` for these settings."""
    e, f = model.emb_dim, model.ff_dim
    vocab = vocab_size if vocab_size is not None else model.vocab_size
    cls = model.pooling == "cls"
    positions = model.max_seq_len + (1 if cls else 0)
    # Q/K/V and output projections (4E^2 + 4E), two feed-forward linears (2EF + F + E), two norms (4E).
    per_layer = 4 * e * e + 2 * e * f + 9 * e + f
    return (vocab * e + (positions * e if model.positional == "learned" else 0) + (e if cls else 0)
            + model.num_layers * per_layer + e * num_classes + num_classes)


def memory_needed(config: RunConfig) -> int:
    """A lower estimate of the bytes a run needs at its peak (see the module docstring)."""
    m, d, t = config.model, config.data, config.train
    builtin = d.source != "file"
    classes = d.num_classes if builtin else 2
    need = parameter_count(m, classes) * _BYTES_PER_TRAINED_PARAMETER
    if m.positional != "learned":
        need += (m.max_seq_len + 1) * m.emb_dim * 4  # the fixed sine table
    if d.tokenizer.strip() in ("wordpiece", "word"):
        need += m.vocab_size * _TOKENIZER_BYTES_PER_ENTRY
    if builtin:
        if d.source == "random":
            tokens = m.max_seq_len
            need += d.num_samples * tokens * _RANDOM_BYTES_PER_TOKEN
        else:
            tokens = min(m.max_seq_len, _SYNTHETIC_TOKENS)
            need += d.num_samples * _SYNTHETIC_BYTES_PER_EXAMPLE
        need += classes * classes * _BYTES_PER_CONFUSION_CELL
        # One training batch's activations kept for backward: per layer about a dozen
        # (B, T, E)-sized tensors, two (B, T, F) and the (B, H, T, T) attention weights.
        batch = min(t.batch_size, d.num_samples)
        need += 4 * batch * tokens * m.num_layers * (12 * m.emb_dim + 2 * m.ff_dim + 2 * m.n_heads * tokens)
    return need


# The settings the memory estimate depends on, in the order a fix is suggested.
_MEMORY_FIELDS = (("model", "vocab_size"), ("model", "emb_dim"), ("model", "ff_dim"), ("model", "num_layers"),
                  ("model", "max_seq_len"), ("data", "num_samples"), ("data", "num_classes"),
                  ("train", "batch_size"))


def _default_of(section: Any, name: str) -> Any:
    return next(f.default for f in fields(section) if f.name == name)


def _memory_error(config: RunConfig) -> FieldError | None:
    available = machine_memory_bytes()
    if not available:
        return None
    need = memory_needed(config)
    if need <= available:
        return None
    # Blame the setting whose return to its default saves the most memory.
    savings = []
    for section_name, name in _MEMORY_FIELDS:
        section = getattr(config, section_name)
        default = _default_of(section, name)
        if getattr(section, name) <= default:
            continue
        lowered = replace(config, **{section_name: replace(section, **{name: default})})
        savings.append((need - memory_needed(lowered), f"{section_name}.{name}"))
    culprit = max(savings)[1] if savings else "model.emb_dim"
    return FieldError(culprit, f"the run needs at least {format_bytes(need)} of memory (model, gradients, "
                               f"Adam state and data) but this machine has {format_bytes(available)}; lower {culprit}")


# --- the check -----------------------------------------------------------------------------

def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def builtin_data_errors(data: DataConfig) -> list[FieldError]:
    """What stops the built-in data from giving every class an example in both splits."""
    if data.source == "file":
        return []
    errors: list[FieldError] = []
    if data.num_samples < 2:
        errors.append(FieldError("data.num_samples", "must be at least 2"))
    elif data.num_samples > MAX_BUILTIN_SAMPLES:
        errors.append(FieldError("data.num_samples", f"at most {MAX_BUILTIN_SAMPLES:,} for the built-in data; "
                                                     "for more, train on a file (data.source=file)"))
    if data.num_classes < 2:
        errors.append(FieldError("data.num_classes", "must be at least 2 (one class leaves nothing to learn)"))
    elif data.num_samples >= 2 and data.num_classes > data.num_samples // 2:
        # Each class needs one example to train on and one to validate on, or the validation
        # split misses classes (and with more classes than examples it is empty).
        errors.append(FieldError("data.num_classes", f"{data.num_classes:,} classes need at least "
                                 f"{2 * data.num_classes:,} examples (one per class in each split); lower it to "
                                 f"{data.num_samples // 2} or raise data.num_samples"))
    return errors


def _whole_in(value: int, low: int, high: int) -> bool:
    return low <= value <= high


def validate(config: RunConfig, train_size: int | None = None, check_device: bool = True) -> list[FieldError]:
    """Every problem with ``config``, per field. Empty list means it can run.

    ``train_size`` (when known) lets the batch size be checked against the data;
    ``check_device=False`` skips importing torch (the TUI validates on each keystroke).
    """
    m, d, t = config.model, config.data, config.train
    errors: list[FieldError] = []

    def err(name: str, message: str) -> None:
        errors.append(FieldError(name, message))

    for section_field in fields(config):
        section = getattr(config, section_field.name)
        for f in fields(section):
            choices = f.metadata.get("choices")
            value = getattr(section, f.name)
            if choices and value not in choices:
                err(f"{section_field.name}.{f.name}", f"{value!r} is not one of: {', '.join(choices)}")

    for name in ("emb_dim", "n_heads", "ff_dim"):
        if getattr(m, name) < 1:
            err(f"model.{name}", "must be a positive whole number")
    if not _whole_in(m.num_layers, 1, MAX_LAYERS):
        err("model.num_layers", f"must be a whole number from 1 to {MAX_LAYERS}")
    if not _whole_in(m.vocab_size, 5, MAX_VOCAB):
        # 5: room for padding, unknown and special tokens.
        err("model.vocab_size", f"must be a whole number from 5 to {MAX_VOCAB:,}")
    if not _whole_in(m.max_seq_len, 1, MAX_SEQ_LEN):
        err("model.max_seq_len", f"must be a whole number from 1 to {MAX_SEQ_LEN}")
    if m.emb_dim >= 1 and m.n_heads >= 1 and m.emb_dim % m.n_heads:
        err("model.emb_dim", f"{m.emb_dim} is not divisible by model.n_heads={m.n_heads}; "
            f"each head gets emb_dim/n_heads dimensions (try {m.n_heads * max(1, round(m.emb_dim / m.n_heads))})")
    if not (0.0 <= m.dropout < 1.0) or math.isnan(m.dropout):
        err("model.dropout", "must be in [0, 1)")

    if d.source == "file" and not d.train_path:
        err("data.train_path", "data.source is 'file' but no training file is given")
    if not (0.0 < d.val_fraction < 1.0) or math.isnan(d.val_fraction):
        err("data.val_fraction", "must be between 0 and 1 (exclusive)")
    errors.extend(builtin_data_errors(d))
    if not d.tokenizer:
        err("data.tokenizer", "must be 'wordpiece', 'word' or a local model folder")

    if t.epochs < 1:
        err("train.epochs", "must be at least 1")
    if t.batch_size < 1:
        err("train.batch_size", "must be at least 1")
    elif train_size is not None and t.batch_size > train_size:
        err("train.batch_size", f"{t.batch_size} is larger than the training set ({train_size} examples); lower it")
    if not math.isfinite(t.lr) or t.lr <= 0:
        err("train.lr", "must be a positive number, e.g. 1e-3")
    if not math.isfinite(t.weight_decay) or t.weight_decay < 0:
        err("train.weight_decay", "must be 0 or a positive number, e.g. 0.01")
    if t.warmup_steps < 0:
        err("train.warmup_steps", "must be 0 or more")
    if not math.isfinite(t.grad_clip) or t.grad_clip < 0:
        err("train.grad_clip", "must be 0 (off) or a positive norm, e.g. 1.0")
    if t.early_stopping_patience < 0:
        err("train.early_stopping_patience", "must be 0 (off) or more")
    if t.log_every_steps < 1:
        err("train.log_every_steps", "must be at least 1")
    if t.eval_every_steps < 0:
        err("train.eval_every_steps", "must be 0 (only at epoch ends) or more")
    if not _whole_in(t.nproc_per_node, 1, MAX_PROCESSES):
        err("train.nproc_per_node", f"must be a whole number from 1 to {MAX_PROCESSES} (1: one process)")
    if not _whole_in(t.seed, 0, MAX_SEED):
        err("train.seed", "must be a whole number from 0 to 2**63-1")
    dev = t.device.strip().lower()
    if dev in ("auto", "cpu"):
        pass
    elif dev == "cuda" or (dev.startswith("cuda:") and dev[5:].isdigit()):
        if check_device and not _cuda_available():
            err("train.device", "CUDA was asked for but no CUDA device is available; use 'auto' or 'cpu'")
    else:
        err("train.device", f"unknown device {t.device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'")

    errors.extend(finetune_errors(config))

    if not errors:  # the estimate assumes every other setting is sane
        memory = _memory_error(config)
        if memory is not None:
            errors.append(memory)
    return errors


def finetune_errors(config: RunConfig) -> list[FieldError]:
    """The bounds of the fine-tuning settings (backbone, LoRA, accumulation, loss, layer rates)."""
    m, t = config.model, config.train
    errors: list[FieldError] = []

    def err(name: str, message: str) -> None:
        errors.append(FieldError(name, message))

    scratch = m.backbone.strip() == "scratch"
    if not m.backbone.strip():
        err("model.backbone", "must be 'scratch' or a Hugging Face model (folder, id, or all-MiniLM-L6-v2)")
    if not _whole_in(m.lora_rank, 0, 1024):
        err("model.lora_rank", "must be 0 (off) or a whole number up to 1024, e.g. 8")
    elif m.lora_rank and scratch:
        err("model.lora_rank", "LoRA adapts a pretrained backbone; set model.backbone, or set lora_rank to 0")
    if not math.isfinite(m.lora_alpha) or m.lora_alpha <= 0:
        err("model.lora_alpha", "must be a positive number, e.g. 16")
    if not (0.0 <= m.lora_dropout < 1.0) or math.isnan(m.lora_dropout):
        err("model.lora_dropout", "must be in [0, 1)")
    if not _whole_in(t.grad_accum_steps, 1, 4096):
        err("train.grad_accum_steps", "must be a whole number from 1 (no accumulation) to 4096")
    if not (0.0 <= t.label_smoothing < 1.0) or math.isnan(t.label_smoothing):
        err("train.label_smoothing", "must be in [0, 1), e.g. 0.1")
    if not (0.0 <= t.warmup_ratio < 1.0) or math.isnan(t.warmup_ratio):
        err("train.warmup_ratio", "must be in [0, 1), e.g. 0.06")
    if not math.isfinite(t.head_lr) or t.head_lr < 0:
        err("train.head_lr", "must be 0 (same as train.lr) or a positive number, e.g. 1e-3")
    if not (0.0 < t.layer_lr_decay <= 1.0) or math.isnan(t.layer_lr_decay):
        err("train.layer_lr_decay", "must be in (0, 1], e.g. 0.9 (1: every layer at train.lr)")
    if not _whole_in(t.freeze_layers, 0, MAX_LAYERS):
        err("train.freeze_layers", f"must be a whole number from 0 to {MAX_LAYERS}")
    if scratch:
        for name, off in (("head_lr", 0.0), ("layer_lr_decay", 1.0), ("freeze_embeddings", False),
                          ("freeze_layers", 0)):
            if getattr(t, name) != off and not any(e.field == f"train.{name}" for e in errors):
                err(f"train.{name}", f"applies to a pretrained backbone only; set model.backbone, or set it back "
                                     f"to {off}")
    return errors


def check(config: RunConfig, train_size: int | None = None) -> RunConfig:
    """Raise ConfigError with every problem, or return the config unchanged."""
    errors = validate(config, train_size)
    if errors:
        raise ConfigError(errors)
    return config
