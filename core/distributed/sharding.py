"""Which examples each rank trains and evaluates.

Training: every rank builds the same length-bucketed order of *global* batches — the batches
of one process training with batch ``B x W`` (``core.data.batching.batch_order``) from the one
seed of the epoch — and at each step rank ``r`` takes every ``W``-th example of that step's
global batch, starting at ``r``. So the ranks' slices of a step come from the same length
bucket and pad to about the same length: no rank waits at the gradient all-reduce for another
that drew a batch of long sentences (with a batch per rank drawn from anywhere in the shuffled
order, the step took as long as the longest of ``W`` random batches). Every rank gets the same
number of steps, one per global batch; a last global batch with fewer examples than ranks (at
most ``W - 1`` examples) is not trained that epoch, a different one each epoch. With one process
the batches are exactly the plain trainer's, and with ``W`` processes of batch ``B`` the global
batches are exactly those of one process with batch ``B x W``.

Validation: the examples sorted by length are dealt out in turn (rank ``r`` gets positions
``r, r + W, ...``), so every example is evaluated exactly once — nothing repeated to even the
shards, unlike ``DistributedSampler``, whose padding duplicates skew the metrics — and every
rank's batches are about equally long.
"""
from __future__ import annotations

from typing import Any, Iterator

from core.data.batching import batch_order, collate


def steps_per_epoch(num_examples: int, batch_size: int, world_size: int) -> int:
    full, rest = divmod(num_examples, batch_size * world_size)
    return full + (1 if rest >= world_size else 0)


def rank_batches(lengths: list[int], batch_size: int, world_size: int, rank: int, seed: int) -> list[list[int]]:
    """The example indices of rank ``rank``'s batches for the epoch shuffled by ``seed``."""
    global_batches = batch_order(lengths, batch_size * world_size, shuffle=True, seed=seed)
    return [batch[rank::world_size] for batch in global_batches if len(batch) >= world_size]


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
