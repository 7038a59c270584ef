"""core.dropout: the same layer as nn.Dropout (drop rate, scaling, gradient, seeding), drawn faster."""
import math

import pytest
import torch
import torch.nn as nn

from core.dropout import Dropout, dropout, keep_mask
from core.model import TransformerClassifier
from core.config import ModelConfig

N = 2_000_000


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_drops_at_rate_p_and_scales_what_it_keeps_like_nn_dropout(p):
    torch.manual_seed(0)
    ours = dropout(torch.ones(N), p)
    torch.manual_seed(0)
    reference = nn.Dropout(p)(torch.ones(N))
    sigma = math.sqrt(p * (1 - p) / N)
    for out in (ours, reference):
        assert abs((out == 0).double().mean().item() - p) < 5 * sigma
        assert torch.equal(out.unique(), torch.tensor([0.0, 1.0 / (1.0 - p)]))  # same kept value as nn.Dropout
        assert abs(out.double().mean().item() - 1.0) < 5 * sigma / (1 - p)  # expectation kept


def test_neighbours_are_independent():
    # Four neighbours share one 64-bit draw: their masks must still be uncorrelated.
    torch.manual_seed(1)
    keep = keep_mask(torch.Size([N]), 0.5, torch.float32, torch.device("cpu")) > 0
    a, b = keep[:-1].double(), keep[1:].double()
    correlation = ((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std())
    assert abs(correlation.item()) < 5 / math.sqrt(N)
    # Every lane of the four 16-bit numbers in a draw drops at the same rate.
    lanes = keep[: N // 4 * 4].view(-1, 4).double().mean(dim=0)
    assert torch.all((lanes - 0.5).abs() < 5 * math.sqrt(0.25 / (N // 4)))


def test_the_seed_repeats_the_mask_and_successive_calls_differ():
    x = torch.ones(64, 32)
    torch.manual_seed(7)
    first, second = dropout(x, 0.2), dropout(x, 0.2)
    torch.manual_seed(7)
    assert torch.equal(dropout(x, 0.2), first)
    assert not torch.equal(first, second)


def test_gradient_is_the_mask_and_scale():
    x = torch.randn(128, 64, requires_grad=True)
    out = dropout(x, 0.25)
    out.backward(torch.ones_like(out))
    kept = out != 0
    assert torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], 1 / 0.75))
    assert torch.all(x.grad[~kept] == 0)


def test_off_in_eval_at_zero_and_everything_dropped_at_one():
    x = torch.randn(10, 10)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert torch.all(dropout(x, 1.0) == 0)
    layer = Dropout(0.5).eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout(1.5)


def test_odd_sizes_and_shapes():
    for shape in [(1,), (3,), (5, 7), (2, 3, 5, 7)]:
        out = dropout(torch.ones(shape), 0.5)
        assert out.shape == shape and set(out.unique().tolist()) <= {0.0, 2.0}


def test_the_model_drops_attention_weights_while_training_and_not_when_predicting():
    cfg = ModelConfig(vocab_size=50, emb_dim=16, n_heads=2, num_layers=2, ff_dim=32, max_seq_len=12, dropout=0.5)
    model = TransformerClassifier(cfg, num_classes=2)
    ids = torch.randint(1, 50, (4, 12))
    model.train()
    torch.manual_seed(3)
    a = model(ids)
    torch.manual_seed(3)
    assert torch.equal(model(ids), a)  # seeded: the same masks
    assert not torch.equal(model(ids), a)
    model.eval()
    assert torch.equal(model(ids), model(ids))
