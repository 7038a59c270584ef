"""Batching: every example once, deterministic, padding masked, bucketing cuts padding."""
from __future__ import annotations

import random

import pytest
import torch

from core.data.batching import Batch, batch_order, iterate_batches, num_batches, padding_ratio
from core.data.prepare import EncodedSplit
from tests.conftest import SST2_DIR


def _split(n: int, seed: int = 0, lengths=None) -> EncodedSplit:
    rng = random.Random(seed)
    if lengths is None:
        # SST-2-like: mostly short phrases, a long tail of full sentences (1..52 tokens).
        lengths = [min(52, max(1, int(rng.lognormvariate(2.2, 0.8)))) for _ in range(n)]
    ids = [[rng.randrange(2, 500) for _ in range(length)] for length in lengths]
    return EncodedSplit([f"text {i}" for i in range(n)], ids, [rng.randrange(3) for _ in range(n)])


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("bucket", [True, False])
@pytest.mark.parametrize("batch_size", [1, 7, 32, 1000])
def test_every_example_exactly_once(shuffle, bucket, batch_size):
    split = _split(250)
    seen: list[int] = []
    batches = list(iterate_batches(split, batch_size, shuffle=shuffle, seed=3, bucket=bucket))
    assert len(batches) == num_batches(split, batch_size)
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        seen.extend(batch.indices)
        # Each row holds its example's ids and label.
        for row, i in enumerate(batch.indices):
            length = len(split.ids[i])
            assert batch.input_ids[row, :length].tolist() == split.ids[i]
            assert batch.labels[row].item() == split.labels[i]
    assert sorted(seen) == list(range(250))


def test_padding_positions_are_zero_and_masked():
    split = _split(100)
    for batch in iterate_batches(split, 16, shuffle=True, seed=0):
        assert batch.input_ids.dtype == torch.long and batch.attention_mask.dtype == torch.bool
        assert batch.input_ids.shape == batch.attention_mask.shape
        assert (batch.input_ids[~batch.attention_mask] == 0).all()
        assert (batch.input_ids[batch.attention_mask] != 0).all()  # ids here are >= 2
        assert batch.num_tokens == int(batch.attention_mask.sum()) == sum(len(split.ids[i]) for i in batch.indices)
        # Padded to the batch's own longest text, no further.
        assert batch.input_ids.shape[1] == max(len(split.ids[i]) for i in batch.indices)
        # Real tokens come first in every row.
        lengths = batch.attention_mask.sum(dim=1)
        assert all(batch.attention_mask[r, : lengths[r]].all() for r in range(len(batch)))


def test_same_seed_same_batches_other_seed_other_batches():
    split = _split(300)
    order = lambda seed: [b.indices for b in iterate_batches(split, 20, shuffle=True, seed=seed)]  # noqa: E731
    assert order(5) == order(5)
    assert order(5) != order(6)
    assert [b.indices for b in iterate_batches(split, 20, shuffle=False, seed=1)] == \
        [b.indices for b in iterate_batches(split, 20, shuffle=False, seed=2)]


def test_shuffled_bucketed_batches_vary_in_length_order():
    # Buckets are shuffled: the epoch doesn't run from short to long batches.
    split = _split(2000)
    widths = [b.input_ids.shape[1] for b in iterate_batches(split, 10, shuffle=True, seed=0)]
    assert widths != sorted(widths) and widths != sorted(widths, reverse=True)


def test_bucketing_cuts_padding_on_sst2_like_lengths():
    split = _split(5000)
    random_batches = padding_ratio(split, 32, shuffle=True, seed=0, bucket=False)
    bucketed = padding_ratio(split, 32, shuffle=True, seed=0, bucket=True)
    assert random_batches > 0.4  # most positions are padding without bucketing
    assert bucketed < random_batches / 5


@pytest.mark.skipif(not (SST2_DIR / "train.tsv").is_file(), reason="SST-2 not present")
def test_bucketing_cuts_padding_on_real_sst2_lengths():
    # Word counts stand in for token counts: no tokenizer needed for the shape of the data.
    lines = (SST2_DIR / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    lengths = [min(64, max(1, len(line.split("\t", 1)[1].split()))) for line in lines]
    split = EncodedSplit([""] * len(lengths), [[2] * n for n in lengths], [0] * len(lengths))
    assert padding_ratio(split, 64, True, 0, bucket=True) < 0.1
    assert padding_ratio(split, 64, True, 0, bucket=False) > 0.5


def test_batch_to_device_keeps_everything():
    batch = next(iterate_batches(_split(10), 4, shuffle=False, seed=0))
    moved = batch.to("cpu")
    assert isinstance(moved, Batch)
    assert torch.equal(moved.input_ids, batch.input_ids) and moved.num_tokens == batch.num_tokens
    assert moved.indices == batch.indices


def test_empty_split_gives_no_batches_and_bad_batch_size_is_refused():
    empty = EncodedSplit([], [], [])
    assert list(iterate_batches(empty, 8, shuffle=True, seed=0)) == []
    assert num_batches(empty, 8) == 0
    with pytest.raises(ValueError):
        batch_order([1, 2], 0, shuffle=False, seed=0)


def test_token_budget_batches_keep_to_the_budget_and_cover_every_row_once():
    from core.data.batching import token_budget_batches

    lengths = [5, 1, 30, 2, 2, 9, 100, 3]
    batches = token_budget_batches(lengths, max_tokens=12, batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 12
    assert batches[0] == [1, 3, 4]  # shortest first; equal lengths keep the input order
    assert batches[-1] == [6]  # longer than the budget: alone


def test_token_budget_batches_close_before_padding_dominates():
    from core.data.batching import MAX_PADDING, token_budget_batches

    rng = random.Random(0)
    lengths = [rng.randint(3, 40) for _ in range(300)]
    batches = token_budget_batches(lengths, max_tokens=8192, batch_size=256)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert padded <= sum(lengths) * (1 + 2 * MAX_PADDING)  # one 256-row batch would be ~2x
    uniform = token_budget_batches([10] * 1000, max_tokens=8192, batch_size=256)
    assert [len(b) for b in uniform] == [256, 256, 256, 232]  # equal lengths: full batches


def test_pad_uses_the_models_pad_id_and_masks_it():
    from core.data.batching import pad

    ids, mask = pad([[7, 8, 9], [5]], pad_id=3)
    assert ids.tolist() == [[7, 8, 9], [5, 3, 3]]
    assert mask.tolist() == [[True, True, True], [True, False, False]]
