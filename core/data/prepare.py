"""From a data config to encoded train and validation splits.

``prepare_data`` reads the user's file (or generates built-in data), maps labels to ids,
splits off validation data (a separate file, or a seeded stratified split), trains or loads
the tokenizer on the training split only, and encodes both splits truncated to
``model.max_seq_len``. Bad input raises ``UserError`` naming the file, the line and the fix.
"""
from __future__ import annotations

import random
import re
import time
from collections import Counter
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.data.builtin import random_data, synthetic_data
from core.config import DataConfig, ModelConfig
from core.config_check import builtin_data_errors
from core.errors import UserError
from core.data.readers import Table, read_table, require_regular_file
from core.data.tokenization import TextEncoder, build_encoder


@dataclass
class EncodedSplit:
    texts: list[str]
    ids: list[list[int]]  # truncated to model.max_seq_len, at least one id each
    labels: list[int]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class PreparedData:
    train: EncodedSplit
    val: EncodedSplit
    label_names: list[str]
    encoder: TextEncoder
    summary: dict[str, Any] = field(default_factory=dict)  # plain JSON data for RunStarted


# --- labels -------------------------------------------------------------------------------

def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None  # NaN is not a label


def _natural_key(text: str) -> list[Any]:
    # "class2" before "class10"
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
            for part in re.split(r"(\d+)", text) if part]


def normalise_label(raw: str) -> str:
    """ "1.0" and "1" are the same class; other labels are kept as written."""
    number = _as_number(raw)
    if number is not None and number.is_integer():
        return str(int(number))
    return raw


def label_order(names: set[str]) -> list[str]:
    """Numbers numerically, otherwise a natural, case-insensitive order (ham < spam)."""
    numbers = {n: _as_number(n) for n in names}
    if all(v is not None for v in numbers.values()):
        return sorted(names, key=lambda n: (numbers[n], n))
    return sorted(names, key=lambda n: (_natural_key(n), n))


def _label_ids(table: Table, label_names: list[str], role: str) -> list[int]:
    index = {name: i for i, name in enumerate(label_names)}
    # Few distinct raw labels, many rows: normalise each distinct one once.
    by_raw = {raw: index.get(normalise_label(raw)) for raw in set(table.labels)}
    ids: list[int] = []
    for raw, line in zip(table.labels, table.lines):
        i = by_raw[raw]
        if i is None:
            raise UserError(
                f"{table.path}, line {line}: label {raw!r} never appears in the {role}",
                f"the training labels are {', '.join(map(repr, label_names))}; fix the label or add "
                f"training examples of it")
        ids.append(i)
    return ids


# --- splitting ----------------------------------------------------------------------------

def stratified_split(labels: list[int], val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, val): each class split in proportion, shuffled by ``seed``.

    Every class keeps at least one training example; a class with two or more examples gives
    at least one to validation, so per-class accuracy is defined.
    """
    rng = random.Random(seed)
    by_class: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    train: list[int] = []
    val: list[int] = []
    for label in sorted(by_class):
        members = by_class[label]
        rng.shuffle(members)
        n_val = round(len(members) * val_fraction)
        n_val = min(max(n_val, 1 if len(members) >= 2 else 0), len(members) - 1)
        val.extend(members[:n_val])
        train.extend(members[n_val:])
    train.sort()
    val.sort()
    return train, val


# --- encoding -----------------------------------------------------------------------------

def encode_texts(encoder: TextEncoder, texts: list[str], max_seq_len: int) -> list[list[int]]:
    """Token ids truncated to ``max_seq_len``; a text with no tokens becomes [unk]."""
    return _encode(encoder, texts, max_seq_len)[0]


def reencoded(data: PreparedData, encoder: TextEncoder, max_seq_len: int) -> PreparedData:
    """``data`` with both splits encoded by ``encoder`` instead of the one it was prepared with."""
    def encode(split: EncodedSplit) -> EncodedSplit:
        return EncodedSplit(split.texts, encode_texts(encoder, split.texts, max_seq_len), split.labels)

    return dataclasses.replace(data, train=encode(data.train), val=encode(data.val), encoder=encoder)


def _encode(encoder: TextEncoder, texts: list[str], max_seq_len: int) -> tuple[list[list[int]], int]:
    """(ids as ``encode_texts`` gives them, how many texts were cut)."""
    ids = encoder.encode_batch(texts)
    unk = encoder.unk_id
    truncated = sum(1 for seq in ids if len(seq) > max_seq_len)
    return [seq[:max_seq_len] if seq else [unk] for seq in ids], truncated


def _length_stats(ids: list[list[int]]) -> dict[str, float]:
    lengths = [len(s) for s in ids]
    return {"mean_length": round(sum(lengths) / max(1, len(lengths)), 2), "max_length": max(lengths, default=0)}


# --- sources ------------------------------------------------------------------------------

@dataclass
class _Raw:
    train_texts: list[str]
    train_labels: list[int]
    val_texts: list[str]
    val_labels: list[int]
    label_names: list[str]
    info: dict[str, Any]


def _from_builtin(data_cfg: DataConfig, model_cfg: ModelConfig, seed: int) -> _Raw:
    if data_cfg.source == "random":
        gen = random_data(data_cfg.num_samples, data_cfg.num_classes, model_cfg.vocab_size,
                          model_cfg.max_seq_len, seed)
    else:
        gen = synthetic_data(data_cfg.num_samples, data_cfg.num_classes, seed)
    train_idx, val_idx = stratified_split(gen.labels, data_cfg.val_fraction, seed)
    return _Raw([gen.texts[i] for i in train_idx], [gen.labels[i] for i in train_idx],
                [gen.texts[i] for i in val_idx], [gen.labels[i] for i in val_idx], gen.label_names,
                {"num_samples": data_cfg.num_samples})


def _some(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _from_files(data_cfg: DataConfig, seed: int) -> _Raw:
    # Before reading anything: a FIFO or a device as either path would block the read for ever.
    require_regular_file(data_cfg.train_path, "data.train_path")
    if data_cfg.val_path:
        require_regular_file(data_cfg.val_path, "data.val_path")
    train = read_table(data_cfg.train_path, data_cfg.text_column, data_cfg.label_column)
    label_names = label_order({normalise_label(x) for x in set(train.labels)})
    if len(label_names) < 2:
        raise UserError(f"{train.path}: every example has the label {label_names[0]!r}",
                        "a classifier needs at least two classes; check data.label_column")
    if len(label_names) > 20 and len(label_names) > len(train.labels) // 2:
        raise UserError(
            f"{train.path}: column {train.label_column!r} has {len(label_names)} different values in "
            f"{len(train.labels)} examples; that is not a set of classes",
            "set data.label_column to the column that holds the class of each example")
    info: dict[str, Any] = {"train_path": str(Path(train.path).resolve()), "text_column": train.text_column,
                            "label_column": train.label_column}
    if data_cfg.val_path:
        val = _read_val(data_cfg, train)
        info.update(val_path=str(Path(val.path).resolve()), val_text_column=val.text_column,
                    val_label_column=val.label_column)
        # A validation file the user chose may lack a class (its report row then has no support);
        # it cannot be empty (read_table refuses that), so the validation loss is always defined.
        return _Raw(train.texts, _label_ids(train, label_names, "training file"), val.texts,
                    _label_ids(val, label_names, f"training file {train.path}"), label_names, info)
    labels = _label_ids(train, label_names, "training file")
    single = [label_names[i] for i, n in sorted(Counter(labels).items()) if n < 2]
    if single:
        # A class with one example can be trained on or validated on, not both.
        raise UserError(f"{train.path}: class{'es' if len(single) > 1 else ''} {_some(single)} "
                        f"{'have' if len(single) > 1 else 'has'} a single example; the validation split needs "
                        "one of each class besides those trained on",
                        "add examples, remove those rows, or give a validation file with data.val_path")
    train_idx, val_idx = stratified_split(labels, data_cfg.val_fraction, seed)
    info.update(val_path="", val_fraction=data_cfg.val_fraction)
    return _Raw([train.texts[i] for i in train_idx], [labels[i] for i in train_idx],
                [train.texts[i] for i in val_idx], [labels[i] for i in val_idx], label_names, info)


def _read_val(data_cfg: DataConfig, train: Table) -> Table:
    """The validation file; its columns may be named differently (SST-2: sentence vs content)."""
    try:
        return read_table(data_cfg.val_path, data_cfg.text_column, data_cfg.label_column)
    except UserError as first:
        if not (data_cfg.text_column or data_cfg.label_column):
            raise
        # The configured names fit the training file; fall back to detecting them here.
        try:
            return read_table(data_cfg.val_path)
        except UserError:
            raise first from None


# --- the entry point ----------------------------------------------------------------------

def prepare_data(data_cfg: DataConfig, model_cfg: ModelConfig, seed: int) -> PreparedData:
    """Read or generate, split, tokenize and encode the data a run trains on.

    Data from files comes from the cache (``core.data.cache``) when these files and settings
    were prepared before; ``summary["cache"]`` then says so, and otherwise whether it was saved.
    """
    from core.data import cache

    started = time.perf_counter()
    key = cache.cache_key(data_cfg, model_cfg, seed)
    if key is None:
        return _build(data_cfg, model_cfg, seed)
    data, note = cache.load(key)
    if data is not None:
        built_s = data.summary.get("prepare_seconds")
        read_s = time.perf_counter() - started
        data.summary.update(prepare_seconds=round(read_s, 2), cache=cache.describe_hit(key, read_s, built_s))
        return data
    data = _build(data_cfg, model_cfg, seed)
    not_saved = cache.store(key, data)  # before "cache" joins the summary: a hit sets its own
    data.summary["cache"] = "; ".join(filter(None, [note, not_saved])) or "built and saved to the cache"
    return data


def _build(data_cfg: DataConfig, model_cfg: ModelConfig, seed: int) -> PreparedData:
    started = time.perf_counter()
    if data_cfg.source == "file":
        if not data_cfg.train_path:
            raise UserError("data.source is 'file' but data.train_path is empty",
                            "give a CSV, TSV or JSONL file: --data PATH or --set data.train_path=PATH")
        raw = _from_files(data_cfg, seed)
    elif data_cfg.source in ("synthetic", "random"):
        # The config check's rules, for callers that prepare data without checking first.
        for error in builtin_data_errors(data_cfg):
            raise UserError(str(error))
        raw = _from_builtin(data_cfg, model_cfg, seed)
    else:
        raise UserError(f"unknown data.source {data_cfg.source!r}", "use 'synthetic', 'random' or 'file'")

    encoder = build_encoder(data_cfg, model_cfg, raw.train_texts)
    train_ids, truncated = _encode(encoder, raw.train_texts, model_cfg.max_seq_len)
    val_ids = encode_texts(encoder, raw.val_texts, model_cfg.max_seq_len)
    train = EncodedSplit(raw.train_texts, train_ids, raw.train_labels)
    val = EncodedSplit(raw.val_texts, val_ids, raw.val_labels)
    summary = _summary(data_cfg, model_cfg, raw, encoder, train, val, truncated, time.perf_counter() - started)
    return PreparedData(train, val, raw.label_names, encoder, summary)


def _summary(data_cfg: DataConfig, model_cfg: ModelConfig, raw: _Raw, encoder: TextEncoder,
             train: EncodedSplit, val: EncodedSplit, truncated: int, seconds: float) -> dict[str, Any]:
    names = raw.label_names
    train_counts = Counter(train.labels)
    val_counts = Counter(val.labels)
    unk = encoder.unk_id
    total_tokens = sum(len(s) for s in train.ids)
    unk_tokens = sum(s.count(unk) for s in train.ids)
    return {
        "source": data_cfg.source,
        **raw.info,
        "tokenizer": encoder.kind,
        **({"tokenizer_path": encoder.meta.get("source", data_cfg.tokenizer)} if encoder.kind == "pretrained" else {}),
        "lowercase": encoder.meta.get("lowercase"),
        "vocab_size": encoder.vocab_size,
        "max_seq_len": encoder.meta.get("max_length") or model_cfg.max_seq_len,
        # model.max_seq_len above a backbone's position limit: cut to the limit (the printer says so).
        **({"max_seq_len_capped_from": encoder.meta["capped_from"]} if encoder.meta.get("capped_from") else {}),
        "num_classes": len(names),
        "label_names": list(names),
        "train_examples": len(train),
        "val_examples": len(val),
        "train_class_counts": {names[i]: train_counts.get(i, 0) for i in range(len(names))},
        "val_class_counts": {names[i]: val_counts.get(i, 0) for i in range(len(names))},
        **{f"train_{k}": v for k, v in _length_stats(train.ids).items()},
        **{f"val_{k}": v for k, v in _length_stats(val.ids).items()},
        # Training texts cut to max_seq_len tokens; a high share says raise model.max_seq_len.
        "train_truncated": truncated,
        "train_unknown_token_rate": round(unk_tokens / max(1, total_tokens), 4),
        "prepare_seconds": round(seconds, 2),
    }
