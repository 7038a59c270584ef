"""The classifier keeps samples apart, ignores padding, and reports the attention it used."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from core.config import ModelConfig
from core.model import EncoderLayer, TransformerClassifier, sinusoidal_table


def tiny_config(**overrides) -> ModelConfig:
    base = dict(vocab_size=50, emb_dim=16, n_heads=2, num_layers=2, ff_dim=32, max_seq_len=12, dropout=0.0)
    base.update(overrides)
    return ModelConfig(**base)


def make_model(seed: int = 0, num_classes: int = 3, **overrides) -> TransformerClassifier:
    torch.manual_seed(seed)
    return TransformerClassifier(tiny_config(**overrides), num_classes).eval()


def padded_batch(seqs: list[list[int]], length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    length = length or max(map(len, seqs))
    ids = torch.zeros(len(seqs), length, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
    return ids, ids != 0


SEQS = [[5, 6, 7], [8, 9, 10, 11, 12, 13], [14, 15], [16, 17, 18, 19]]
MODES = [(pos, pool) for pos in ("learned", "sinusoidal") for pool in ("mean", "cls")]


# --- samples of a batch stay apart ----------------------------------------------------------

class SeedTransformer(nn.Module):
    """The tutorial's construction: layers without batch_first, fed (B, T, E)."""

    def __init__(self, vocab=50, emb=16, heads=2, layers=1, ff=32, classes=2, max_len=12):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.positional_encoding = nn.Parameter(torch.zeros(1, max_len, emb))
        layer = nn.TransformerEncoderLayer(d_model=emb, nhead=heads, dim_feedforward=ff, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.fc = nn.Linear(emb, classes)

    def forward(self, x):
        h = self.embedding(x) + self.positional_encoding[:, : x.size(1), :]
        return self.fc(self.encoder(h).mean(dim=1))


def permutation_breaks(model, ids, mask=None) -> float:
    """Largest change in a sample's logits when the batch order is shuffled."""
    perm = torch.tensor([2, 0, 3, 1])
    with torch.no_grad():
        out = model(ids) if mask is None else model(ids, mask)
        out_perm = model(ids[perm]) if mask is None else model(ids[perm], mask[perm])
    return (out[perm] - out_perm).abs().max().item()


def influence_of_other_samples(model, ids, mask=None) -> float:
    """How much sample 0's logits move when every other sample of the batch is replaced."""
    others = ids.clone()
    others[1:] = torch.randint(1, 50, others[1:].shape, generator=torch.Generator().manual_seed(1))
    if mask is not None:
        others[1:] *= mask[1:]
    with torch.no_grad():
        a = model(ids) if mask is None else model(ids, mask)
        b = model(others) if mask is None else model(others, mask)
    return (a[0] - b[0]).abs().max().item()


def test_the_tutorial_construction_mixes_samples_of_a_batch():
    # The tutorial's layers read (B, T, E) as (T, B, E): they attend across the batch. Note a
    # permutation of the batch cannot reveal this (attention without positions along that axis
    # is permutation-equivariant), so the check is that a sample depends on its neighbours.
    torch.manual_seed(0)
    seed = SeedTransformer().eval()
    ids = torch.randint(1, 50, (4, 6))
    assert influence_of_other_samples(seed, ids) > 1e-3


@pytest.mark.parametrize("positional,pooling", MODES)
def test_a_sample_does_not_depend_on_the_rest_of_its_batch(positional, pooling):
    model = make_model(positional=positional, pooling=pooling)
    ids, mask = padded_batch(SEQS)
    assert influence_of_other_samples(model, ids, mask) < 1e-5


@pytest.mark.parametrize("positional,pooling", MODES)
def test_permuting_the_batch_permutes_the_logits(positional, pooling):
    model = make_model(positional=positional, pooling=pooling)
    ids, mask = padded_batch(SEQS)
    assert permutation_breaks(model, ids, mask) < 1e-5


# --- padding changes nothing ----------------------------------------------------------------

@pytest.mark.parametrize("positional,pooling", MODES)
def test_padding_does_not_change_logits(positional, pooling):
    model = make_model(positional=positional, pooling=pooling)
    alone_ids, alone_mask = padded_batch([SEQS[0]])
    batch_ids, batch_mask = padded_batch(SEQS, length=10)
    with torch.no_grad():
        alone = model(alone_ids, alone_mask)[0]
        in_batch = model(batch_ids, batch_mask)[0]
    torch.testing.assert_close(in_batch, alone, atol=1e-5, rtol=0)


def test_mean_pooling_ignores_padding_positions_entirely():
    # Whatever sits at padded positions (even real-looking ids) must not reach the logits.
    model = make_model()
    ids, mask = padded_batch([SEQS[0]], length=6)
    noisy = ids.clone()
    noisy[0, 3:] = torch.tensor([40, 41, 42])
    with torch.no_grad():
        torch.testing.assert_close(model(noisy, mask), model(ids, mask), atol=1e-5, rtol=0)


# --- attention weights -----------------------------------------------------------------------

@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padded_keys_get_zero_weight_and_rows_sum_to_one(pooling):
    model = make_model(pooling=pooling)
    ids, mask = padded_batch(SEQS)
    maps = model.attention_maps(ids, mask)  # (B, L, H, T', T')
    offset = 1 if pooling == "cls" else 0
    assert maps.shape == (4, 2, 2, ids.size(1) + offset, ids.size(1) + offset)
    for b, seq in enumerate(SEQS):
        n = len(seq) + offset
        assert torch.all(maps[b, :, :, :, n:] == 0), "padding keys must get exactly zero weight"
        assert torch.all(maps[b, :, :, n:, :] == 0), "padding query rows are zeroed"
        torch.testing.assert_close(maps[b, :, :, :n, :n].sum(-1), torch.ones(2, 2, n))


def test_no_nan_when_a_text_has_no_real_token():
    model = make_model()
    ids = torch.tensor([[0, 0, 0], [5, 6, 7]])
    mask = ids != 0
    model.train()
    out = model(ids, mask)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert torch.isfinite(model.attention_maps(ids, mask)).all()


def test_weights_rebuild_the_attention_output_of_the_fast_path():
    # The layer's own output comes from the fused kernel in forward(); rebuilding it from the
    # weights attention_maps() returns proves those are the weights the model actually uses.
    model = make_model(pooling="cls")
    ids, mask = padded_batch(SEQS)
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def keep(i):
        def hook(module, args, output):
            seen[i] = (args[0].detach(), output[0].detach())  # layer input (B, T', E), attention output
        return hook

    handles = [layer.self_attn.register_forward_hook(keep(i)) for i, layer in enumerate(model.layers)]
    with torch.no_grad():
        model(ids, mask)
    for h in handles:
        h.remove()
    maps = model.attention_maps(ids, mask)  # (B, L, H, T', T')
    real = torch.cat([torch.ones(len(SEQS), 1, dtype=torch.bool), mask], dim=1)  # (B, T')
    for i, layer in enumerate(model.layers):
        x, own_output = seen[i]
        attn = layer.self_attn
        with torch.no_grad():
            _, _, v = attn.heads(x)  # (B, H, T', D)
            heads = maps[:, i] @ v  # (B, H, T', D)
            rebuilt = attn.out_proj(heads.transpose(1, 2).reshape(x.shape))  # (B, T', E)
        torch.testing.assert_close(rebuilt[real], own_output[real], atol=1e-5, rtol=0)


def test_encoder_layer_is_the_tutorials_block():
    # Same parameters in nn.TransformerEncoderLayer (batch_first) give the same outputs: the
    # block is the tutorial's (post-norm, ReLU), only faster and able to return its weights.
    torch.manual_seed(0)
    ours = EncoderLayer(16, 2, 32, dropout=0.0).eval()
    ref = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True).eval()
    state = ours.state_dict()
    state["self_attn.in_proj_weight"] = state.pop("self_attn.in_proj.weight")
    state["self_attn.in_proj_bias"] = state.pop("self_attn.in_proj.bias")
    ref.load_state_dict(state)
    x = torch.randn(3, 5, 16)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    with torch.no_grad():
        mine, _ = ours(x, mask)
        theirs = ref(x, src_key_padding_mask=~mask)
    torch.testing.assert_close(mine[mask], theirs[mask], atol=1e-5, rtol=0)


@pytest.mark.parametrize("positional,pooling", MODES)
def test_gradient_reaches_every_trained_part(positional, pooling):
    model = make_model(positional=positional, pooling=pooling, dropout=0.1).train()
    ids, mask = padded_batch(SEQS)
    loss = nn.functional.cross_entropy(model(ids, mask), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"no gradient reaches {name}"
    assert torch.all(model.embedding.weight.grad[0] == 0), "the padding embedding stays untrained"


def test_dropout_is_off_in_eval_and_on_in_training():
    model = make_model(dropout=0.3)
    ids, mask = padded_batch(SEQS)
    with torch.no_grad():
        torch.testing.assert_close(model(ids, mask), model(ids, mask), atol=0, rtol=0)
        model.train()
        assert not torch.equal(model(ids, mask), model(ids, mask))


def test_attention_maps_restore_training_mode_and_need_no_grad():
    model = make_model().train()
    ids, mask = padded_batch(SEQS)
    maps = model.attention_maps(ids, mask)
    assert model.training and not maps.requires_grad


def test_longest_text_fits_in_both_pooling_modes_and_longer_is_refused():
    for pooling in ("mean", "cls"):
        model = make_model(pooling=pooling)
        ids = torch.randint(1, 50, (2, 12))
        assert model(ids, ids != 0).shape == (2, 3)
        with pytest.raises(ValueError, match="max_seq_len=12"):
            model(torch.randint(1, 50, (2, 13)))


def test_vocab_size_argument_overrides_the_config():
    model = TransformerClassifier(tiny_config(vocab_size=50), 2, vocab_size=300)
    assert model.embedding.num_embeddings == 300
    assert model(torch.tensor([[299, 5]])).shape == (1, 2)


def test_sinusoidal_positions_are_fixed_and_not_saved():
    model = make_model(positional="sinusoidal")
    assert "positional_encoding" not in model.state_dict()
    assert not any(n == "positional_encoding" for n, _ in model.named_parameters())
    table = sinusoidal_table(4, 6)
    torch.testing.assert_close(table[0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    torch.testing.assert_close(table[1, 0], torch.sin(torch.tensor(1.0)))


def test_logits_from_the_weights_path_match_the_fast_path():
    model = make_model(pooling="cls", positional="sinusoidal")
    ids, mask = padded_batch(SEQS)
    logits, maps = model.logits_and_attention(ids, mask)
    with torch.no_grad():
        torch.testing.assert_close(logits, model(ids, mask), atol=1e-5, rtol=0)
    torch.testing.assert_close(maps, model.attention_maps(ids, mask), atol=0, rtol=0)
