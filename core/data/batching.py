"""Batches with dynamic padding and length bucketing.

Each batch is padded only to its own longest text, and texts of similar length are batched
together, so short texts don't pay for long ones: examples are shuffled, cut into chunks of
about ``BUCKET_BATCHES`` batches, sorted by length inside each chunk, cut into batches, and the
batch order is shuffled again. Everything is deterministic for a given seed; pass a different
seed per epoch (e.g. ``seed + epoch``) for a different order each epoch.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

import numpy as np
import torch

if TYPE_CHECKING:
    from core.data.prepare import EncodedSplit

# Sorting within ~100 batches' worth of examples groups lengths tightly while the chunks keep
# enough randomness that batch contents still change from epoch to epoch.
BUCKET_BATCHES = 100


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, T) long, padded with 0
    attention_mask: torch.Tensor  # (B, T) bool, True = real token
    labels: torch.Tensor  # (B,) long
    num_tokens: int  # real (non-padding) tokens in the batch
    indices: list[int] = field(default_factory=list)  # the examples' positions in the split

    def to(self, device: torch.device | str) -> "Batch":
        non_blocking = torch.device(device).type == "cuda"
        return Batch(
            self.input_ids.to(device, non_blocking=non_blocking),
            self.attention_mask.to(device, non_blocking=non_blocking),
            self.labels.to(device, non_blocking=non_blocking),
            self.num_tokens,
            self.indices,
        )

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def num_batches(split: "EncodedSplit", batch_size: int) -> int:
    return math.ceil(len(split.labels) / batch_size)


def batch_order(lengths: list[int], batch_size: int, shuffle: bool, seed: int, bucket: bool = True) -> list[list[int]]:
    """The example indices of each batch, in order; every index exactly once."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n = len(lengths)
    rng = random.Random(seed)
    order = list(range(n))
    if shuffle:
        rng.shuffle(order)
    if bucket:
        chunk = batch_size * BUCKET_BATCHES if shuffle else max(n, 1)
        # Without shuffling (evaluation), one sorted pass gives the least padding.
        order = [i for start in range(0, n, chunk)
                 for i in sorted(order[start:start + chunk], key=lengths.__getitem__)]
    batches = [order[start:start + batch_size] for start in range(0, n, batch_size)]
    if shuffle and bucket:
        # Otherwise every chunk would run from short to long batches.
        rng.shuffle(batches)
    return batches


# Prediction batches: once a batch holds this many (padded) tokens, it stops growing rather than
# pad more than ``MAX_PADDING`` of its positions; below that, a forward pass is too small to waste.
MIN_BATCH_TOKENS = 512
MAX_PADDING = 0.1


def token_budget_batches(lengths: list[int], max_tokens: int, batch_size: int) -> list[list[int]]:
    """Prediction's batches: indices shortest first, each batch's rows x longest length within
    ``max_tokens`` and at most ``batch_size`` rows (a text longer than the budget goes alone).

    Short texts then share a forward pass by the hundred while long ones come a few at a time.
    A batch also closes when the next text would make padding more than ``MAX_PADDING`` of it
    (once it holds ``MIN_BATCH_TOKENS``): in a few hundred texts of mixed lengths, a full-size
    batch would otherwise span lengths from 3 to 30 and be mostly padding."""
    if max_tokens < 1 or batch_size < 1:
        raise ValueError(f"max_tokens and batch_size must be at least 1, got {max_tokens} and {batch_size}")
    order = sorted(range(len(lengths)), key=lengths.__getitem__)  # stable: equal lengths keep their order
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0  # tokens of the texts in ``current``
    for i in order:
        # Ascending order: the new row is the longest, so it sets the padded width.
        padded = (len(current) + 1) * lengths[i]
        if current and (len(current) >= batch_size or padded > max_tokens or (
                len(current) * lengths[current[-1]] >= MIN_BATCH_TOKENS
                and padded - real - lengths[i] > MAX_PADDING * padded)):
            batches.append(current)
            current, real = [], 0
        current.append(i)
        real += lengths[i]
    if current:
        batches.append(current)
    return batches


def pad(ids: list[list[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids (B, T) padded with ``pad_id`` to the longest row, and the mask (B, T), True on real tokens."""
    lengths = np.fromiter((len(s) for s in ids), dtype=np.int64, count=len(ids))
    width = int(lengths.max()) if len(ids) else 0
    mask = np.arange(width)[None, :] < lengths[:, None]  # (B, T)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)  # (B, T)
    if len(ids):
        # Row-major boolean assignment fills each row's first len(s) slots in order.
        input_ids[mask] = np.fromiter((i for s in ids for i in s), dtype=np.int64, count=int(lengths.sum()))
    return torch.from_numpy(input_ids), torch.from_numpy(mask)


def collate(ids: list[list[int]], labels: list[int], indices: list[int] | None = None) -> Batch:
    """One padded batch of the given token id lists."""
    input_ids, mask = pad(ids)
    return Batch(
        input_ids,
        mask,
        torch.tensor(labels, dtype=torch.long),
        int(mask.sum()),
        list(indices) if indices is not None else [],
    )


def iterate_batches(split: "EncodedSplit", batch_size: int, shuffle: bool, seed: int,
                    bucket: bool = True) -> Iterator[Batch]:
    """Padded batches over ``split``: each example exactly once, deterministic for ``seed``."""
    lengths = [len(s) for s in split.ids]
    for indices in batch_order(lengths, batch_size, shuffle, seed, bucket):
        yield collate([split.ids[i] for i in indices], [split.labels[i] for i in indices], indices)


def padding_ratio(split: "EncodedSplit", batch_size: int, shuffle: bool, seed: int, bucket: bool = True) -> float:
    """Share of padded positions over all positions in one pass; what bucketing lowers."""
    lengths = [len(s) for s in split.ids]
    real = padded = 0
    for indices in batch_order(lengths, batch_size, shuffle, seed, bucket):
        longest = max(lengths[i] for i in indices)
        total = sum(lengths[i] for i in indices)
        real += total
        padded += longest * len(indices) - total
    return padded / max(1, real + padded)
