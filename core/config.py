"""Typed, validated configuration for a training run.

Three frozen dataclasses (model, data, train) grouped in ``RunConfig``. The TUI form is
generated from these fields and the CLI overrides them with ``--set section.field=value``;
both hand the engine a ``RunConfig``, never a dict of strings.

Each field carries a one-line ``help`` in its metadata: the TUI shows it when the field is
focused, so it explains what the hyperparameter does, not how it is stored.

The checks (``validate``, ``check``, ``ConfigError``) live in ``core.config_check`` and are
importable from here too.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_type_hints

# The check lives in its own module; its names are part of this one's interface.
from core.config_check import ConfigError, FieldError, check, validate  # noqa: F401
from core.files import write_text_atomic


def _f(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    meta = {"help": help}
    if choices:
        meta["choices"] = choices
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ModelConfig:
    # 8000 WordPiece pieces cover SST-2-sized corpora with few unknowns while keeping the
    # embedding table (vocab x emb_dim) small enough for a CPU.
    vocab_size: int = _f(8000, "Vocabulary size: how many distinct tokens the embedding table can represent.")
    emb_dim: int = _f(128, "Embedding size: each token becomes a vector of this many numbers (the model width).")
    n_heads: int = _f(4, "Attention heads: parallel Q/K/V projections, each looking at the sentence its own way.")
    num_layers: int = _f(2, "Encoder layers: stacked attention + feed-forward blocks; more layers, more abstraction.")
    ff_dim: int = _f(256, "Feed-forward size: the hidden width of the per-token MLP inside each encoder layer.")
    # Texts longer than this are truncated; 64 covers SST-2 (max 52 words) after WordPiece.
    max_seq_len: int = _f(64, "Maximum tokens per text: longer texts are truncated; also the positional table size.")
    dropout: float = _f(0.1, "Dropout: fraction of activations zeroed while training, against overfitting.")
    positional: str = _f(
        "learned",
        "Positional encoding: 'learned' (a trained vector per position, as in the tutorial) or 'sinusoidal'.",
        ("learned", "sinusoidal"),
    )
    pooling: str = _f(
        "mean",
        "Pooling: 'mean' averages the real tokens' vectors; 'cls' uses a prepended [CLS] token's vector.",
        ("mean", "cls"),
    )
    # A pretrained encoder replaces everything above (its own sizes and tokenizer apply).
    backbone: str = _f(
        "scratch",
        "Backbone: 'scratch' (the classifier above, trained from nothing) or a pretrained Hugging Face model "
        "to fine-tune: a folder, a cached hub id, an export, or all-MiniLM-L6-v2.",
    )
    trust_remote_code: bool = _f(False, "Let a backbone run Python code shipped with it (only for authors you trust).")
    # LoRA trains small low-rank updates of the backbone's matrices instead of the matrices.
    lora_rank: int = _f(0, "LoRA rank: train rank-r adapters instead of the backbone's weights (0: full fine-tuning).")
    lora_alpha: float = _f(16.0, "LoRA alpha: the adapters' output is scaled by alpha / rank.")
    lora_dropout: float = _f(0.1, "LoRA dropout: dropout on the adapters' input while training.")
    lora_targets: str = _f("", "LoRA target modules, comma-separated (e.g. query,value); empty: the backbone's "
                               "attention projections.")


@dataclass(frozen=True)
class DataConfig:
    source: str = _f(
        "synthetic",
        "Data: 'synthetic' (a learnable built-in task), 'random' (the tutorial's random data, chance accuracy) or 'file'.",
        ("synthetic", "random", "file"),
    )
    train_path: str = _f("", "Training file (CSV, TSV or JSONL) when data.source is 'file'.")
    val_path: str = _f("", "Optional validation file; when empty, a seeded stratified split of the training file.")
    text_column: str = _f("", "Column holding the text; empty to detect it (sentence, text, content, SMS, ...).")
    label_column: str = _f("", "Column holding the label; empty to detect it (label, Label, category, ...).")
    val_fraction: float = _f(0.1, "Share of the training data held out for validation when no validation file is given.")
    tokenizer: str = _f(
        "wordpiece",
        "Tokenizer: 'wordpiece' (trained on the training split), 'word' (whole words), or a local HF model folder.",
    )
    lowercase: bool = _f(True, "Lowercase texts before tokenizing: fewer distinct tokens, less data needed.")
    num_samples: int = _f(4000, "Number of examples generated for the built-in synthetic and random data.")
    num_classes: int = _f(2, "Number of classes of the built-in synthetic and random data.")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = _f(10, "Epochs: full passes over the training data.")
    batch_size: int = _f(32, "Batch size: examples per optimizer step; larger is faster per example, noisier less.")
    lr: float = _f(1e-3, "Learning rate: the size of each optimizer step; too high diverges, too low crawls.")
    optimizer: str = _f("adam", "Optimizer: 'adam' (as in the tutorial) or 'adamw' (decoupled weight decay).", ("adam", "adamw"))
    weight_decay: float = _f(0.0, "Weight decay: pulls weights towards zero each step, a regulariser.")
    warmup_steps: int = _f(0, "Warm-up steps: the learning rate rises linearly from 0 over these first steps.")
    warmup_ratio: float = _f(0.0, "Warm-up as a share of all steps (e.g. 0.06), used when warmup_steps is 0.")
    schedule: str = _f(
        "constant",
        "Learning-rate schedule after warm-up: 'constant', 'linear' decay to 0, or 'cosine' decay to 0.",
        ("constant", "linear", "cosine"),
    )
    grad_clip: float = _f(0.0, "Gradient clipping: cap on the gradient norm (0 disables); tames loss spikes.")
    early_stopping_patience: int = _f(0, "Early stopping: stop after this many epochs without improvement (0 disables).")
    early_stopping_metric: str = _f(
        "val_loss", "Metric watched for early stopping and for the best checkpoint.", ("val_loss", "val_accuracy")
    )
    grad_accum_steps: int = _f(
        1, "Gradient accumulation: batches summed into one optimizer step (the loss of one batch this many times larger).")
    class_weights: str = _f(
        "none", "Class weights in the loss: 'none' or 'balanced' (rarer classes weigh more, from the training split).",
        ("none", "balanced"))
    label_smoothing: float = _f(0.0, "Label smoothing: share of each target spread over all classes (e.g. 0.1).")
    # Fine-tuning a backbone: a fresh head learns faster than the pretrained body should move.
    head_lr: float = _f(0.0, "Learning rate of the classification head (0: train.lr); backbones only.")
    layer_lr_decay: float = _f(1.0, "Layer-wise decay: each layer below the top learns this many times slower "
                                    "(1: no decay); backbones only.")
    freeze_embeddings: bool = _f(False, "Keep the backbone's embeddings fixed; backbones only.")
    freeze_layers: int = _f(0, "Keep the backbone's first N layers fixed; backbones only.")
    nproc_per_node: int = _f(
        1, "Processes: data-parallel training in this many processes on this machine (torchrun; one GPU each "
           "on CUDA); the effective batch is batch_size x this.")
    child_process: bool = _f(
        False, "Workbench: train in a child process it follows, so training keeps every core and its own "
               "interpreter; the attention pane then shows the latest checkpoint (twb train ignores it).")
    seed: int = _f(42, "Random seed: the same seed, config and data give the same run on the CPU.")
    device: str = _f("auto", "Device: 'auto' (CUDA when present, else CPU), 'cpu', 'cuda' or 'cuda:N'.")
    bf16: bool = _f(True, "bfloat16 autocast on CUDA: faster matrix maths at nearly the same accuracy (ignored on CPU).")
    # .item() synchronises the GPU, so losses are read only every log_every_steps steps.
    log_every_steps: int = _f(20, "Report the training loss every this many steps.")
    eval_every_steps: int = _f(
        0, "Also evaluate on the validation set every this many steps (0: only at epoch ends); "
        "the best checkpoint is chosen among all evaluations.")


@dataclass(frozen=True)
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


SECTIONS: dict[str, type] = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}


# --- presets -----------------------------------------------------------------------------

PRESETS: dict[str, RunConfig] = {
    # A plain `twb train`: learns the built-in synthetic task within a minute on a CPU.
    "default": RunConfig(
        model=ModelConfig(vocab_size=1000, emb_dim=64, n_heads=4, num_layers=2, ff_dim=128, max_seq_len=32),
        train=TrainConfig(epochs=5),
    ),
    # Exactly the tutorial's values on its random data (chance accuracy: it teaches overfitting).
    "seed": RunConfig(
        model=ModelConfig(
            vocab_size=1000, emb_dim=128, n_heads=4, num_layers=2, ff_dim=256, max_seq_len=10,
            dropout=0.1, positional="learned", pooling="mean",
        ),
        data=DataConfig(source="random", tokenizer="word", num_samples=1000, num_classes=2),
        train=TrainConfig(epochs=10, batch_size=32, lr=0.001, optimizer="adam", seed=42),
    ),
    # Tiny and quick: for tests and for trying the workbench's keys, and it must visibly learn
    # (about 0.9 validation accuracy, chance 0.5, in a few seconds on two CPU cores). Whole
    # words, because WordPiece with 200 pieces splits the sentiment words; 32 tokens, because
    # 16 cut some sentences before their adjective; 2000 examples, a wider embedding and a high
    # learning rate, because 256 examples never got past 0.65 however long they trained.
    "nano": RunConfig(
        model=ModelConfig(vocab_size=200, emb_dim=64, n_heads=2, num_layers=1, ff_dim=128, max_seq_len=32,
                          dropout=0.0),
        data=DataConfig(num_samples=2000, tokenizer="word"),
        train=TrainConfig(epochs=2, batch_size=16, lr=5e-3, log_every_steps=2),
    ),
    # SST-2 from scratch: the settings the accuracy benchmark uses (about 83% dev accuracy after
    # 3-4 epochs). Whole words (SST-2 train has ~15k) with a narrow embedding, heavy dropout and
    # weight decay against over-fitting the 67k short phrases; batch 32 for more, noisier steps;
    # dev is evaluated every 250 steps and best/ keeps the most accurate model.
    "sst2": RunConfig(
        model=ModelConfig(vocab_size=16000, emb_dim=64, n_heads=4, num_layers=2, ff_dim=256, max_seq_len=64,
                          dropout=0.3),
        data=DataConfig(source="file", train_path="../shared/data/sst2/train.tsv",
                        val_path="../shared/data/sst2/dev.tsv", tokenizer="word"),
        train=TrainConfig(epochs=4, batch_size=32, lr=2e-3, optimizer="adamw", weight_decay=0.1,
                          warmup_steps=300, schedule="cosine", grad_clip=1.0,
                          early_stopping_metric="val_accuracy", eval_every_steps=250,
                          # In the workbench's process this model trained at 0.82x of headless, in a child 0.92x.
                          child_process=True),
    ),
    # SST-2 by fine-tuning the packaged all-MiniLM-L6-v2 (published: 91.3% dev): one epoch at the
    # usual BERT fine-tuning rate with linear decay after a 6% warm-up; its own tokenizer and sizes.
    "sst2-minilm": RunConfig(
        model=ModelConfig(backbone="all-MiniLM-L6-v2", max_seq_len=64),
        data=DataConfig(source="file", train_path="../shared/data/sst2/train.tsv",
                        val_path="../shared/data/sst2/dev.tsv"),
        train=TrainConfig(epochs=1, batch_size=32, lr=1e-4, optimizer="adamw", weight_decay=0.01,
                          warmup_ratio=0.06, schedule="linear", grad_clip=1.0,
                          early_stopping_metric="val_accuracy", eval_every_steps=250,
                          # Sharing a process with the UI cost 41% of this model's speed on 2 cores
                          # (17% with every core), in a child process of its own 1%.
                          child_process=True),
    ),
}


def preset(name: str) -> RunConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError([FieldError("preset", f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")]) from None


# --- parsing single values -------------------------------------------------------------------

def field_types(section_cls: type) -> dict[str, type]:
    return get_type_hints(section_cls)


def parse_value(text: str, kind: type) -> Any:
    """Parse a user-typed string into a field's type; ValueError names what was expected."""
    text = text.strip()
    if kind is bool:
        low = text.lower()
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            try:  # 1e3 is a fine way to write a whole number
                as_float = float(text)
            except ValueError:
                raise ValueError(f"expected a whole number, got {text!r}") from None
            if as_float.is_integer():
                return int(as_float)
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    return text


def with_field(config: RunConfig, dotted: str, value: Any) -> RunConfig:
    """A copy of ``config`` with ``section.name`` set; ``value`` may be a string to parse."""
    section, _, name = dotted.partition(".")
    if section not in SECTIONS or not name:
        raise ConfigError([FieldError(dotted, f"unknown setting; use section.name with section one of {', '.join(SECTIONS)}")])
    types = field_types(SECTIONS[section])
    if name not in types:
        raise ConfigError([FieldError(dotted, f"unknown field; {section} has: {', '.join(types)}")])
    kind = types[name]
    if isinstance(value, str) and kind is not str:
        try:
            value = parse_value(value, kind)
        except ValueError as exc:
            raise ConfigError([FieldError(dotted, str(exc))]) from None
    elif kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError([FieldError(dotted, f"expected {kind.__name__}, got {value!r}")])
    return replace(config, **{section: replace(getattr(config, section), **{name: value})})


def apply_overrides(config: RunConfig, overrides: list[str]) -> RunConfig:
    """Apply ``--set section.field=value`` strings; all bad ones are reported together."""
    errors: list[FieldError] = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            errors.append(FieldError(item, "expected section.field=value, e.g. train.lr=3e-4"))
            continue
        try:
            config = with_field(config, key.strip(), value)
        except ConfigError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ConfigError(errors)
    return config


# --- TOML ----------------------------------------------------------------------------------

def to_dict(config: RunConfig) -> dict[str, dict[str, Any]]:
    return {name: dataclasses.asdict(getattr(config, name)) for name in SECTIONS}


def from_dict(data: dict[str, Any], base: RunConfig | None = None) -> RunConfig:
    """Build a config from nested plain data, on top of ``base``; unknown keys are errors."""
    config = base or RunConfig()
    errors: list[FieldError] = []
    for section, values in data.items():
        if section not in SECTIONS:
            errors.append(FieldError(section, f"unknown section; expected {', '.join(SECTIONS)}"))
            continue
        if not isinstance(values, dict):
            errors.append(FieldError(section, "expected a table of settings"))
            continue
        for name, value in values.items():
            try:
                config = with_field(config, f"{section}.{name}", value)
            except ConfigError as exc:
                errors.extend(exc.errors)
    if errors:
        raise ConfigError(errors)
    return config


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dumps_toml(config: RunConfig) -> str:
    lines: list[str] = []
    for section, values in to_dict(config).items():
        lines.append(f"[{section}]")
        lines.extend(f"{name} = {_toml_value(value)}" for name, value in values.items())
        lines.append("")
    return "\n".join(lines)


def loads_toml(text: str, source: str = "<config>", base: RunConfig | None = None) -> RunConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([FieldError(source, f"not valid TOML ({exc}); fix the file or save it again from the workbench")]) from None
    return from_dict(data, base)


def load_toml(path: str | os.PathLike, base: RunConfig | None = None) -> RunConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([FieldError(str(path), "config file not found; check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([FieldError(str(path), f"cannot read the config file: {exc}")]) from None
    return loads_toml(text, str(path), base)


def save_toml(config: RunConfig, path: str | os.PathLike) -> None:
    write_text_atomic(path, dumps_toml(config))
