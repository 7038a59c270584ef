"""Which examples each rank trains and evaluates.

Training: every rank builds the same length-bucketed batch order from the one seed of the epoch
(``core.data.batching.batch_order`` with the per-rank batch size), and rank ``r`` takes batches
``r, r + W, r + 2W, ...``. Every rank gets the same number of steps, ``floor(B / W)`` of the
epoch's ``B`` batches, so no rank waits in a collective for a step another never takes. The
remainder — the last ``B mod W`` batches of the shuffled order, at most ``W - 1`` batches — is not
trained that epoch; the order changes every epoch, so it is different examples each time. With
one process nothing is left out and the batches are the plain trainer's.

Validation: the examples sorted by length are dealt out in turn (rank ``r`` gets positions
``r, r + W, ...``), so every example is evaluated exactly once — nothing repeated to even the
shards, unlike ``DistributedSampler``, whose padding duplicates skew the metrics — and every
rank's batches are about equally long.
"""
from __future__ import annotations

from typing import Any, Iterator

from core.data.batching import batch_order, collate


def steps_per_epoch(num_examples: int, batch_size: int, world_size: int) -> int:
    batches = -(-num_examples // batch_size)
    return batches // world_size


def rank_batches(lengths: list[int], batch_size: int, world_size: int, rank: int, seed: int) -> list[list[int]]:
    """The example indices of rank ``rank``'s batches for the epoch shuffled by ``seed``."""
    batches = batch_order(lengths, batch_size, shuffle=True, seed=seed)
    steps = len(batches) // world_size
    return batches[rank:steps * world_size:world_size]


def iterate_rank_batches(split: Any, batch_size: int, world_size: int, rank: int, seed: int) -> Iterator[Any]:
    lengths = [len(s) for s in split.ids]
    for indices in rank_batches(lengths, batch_size, world_size, rank, seed):
        yield collate([split.ids[i] for i in indices], [split.labels[i] for i in indices], indices)


def validation_shard(lengths: list[int], world_size: int, rank: int) -> list[int]:
    """The validation examples rank ``rank`` evaluates; the shards partition the split."""
    by_length = sorted(range(len(lengths)), key=lengths.__getitem__)
    return by_length[rank::world_size]


def iterate_shard(split: Any, indices: list[int], batch_size: int) -> Iterator[Any]:
    """Padded batches over the examples ``indices`` (sorted by length), each once; a batch's
    ``indices`` are positions in the whole split."""
    lengths = [len(split.ids[i]) for i in indices]
    for positions in batch_order(lengths, batch_size, shuffle=False, seed=0):
        chosen = [indices[p] for p in positions]
        yield collate([split.ids[i] for i in chosen], [split.labels[i] for i in chosen], chosen)
