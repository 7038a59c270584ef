"""The attention view of one text: real tokens only, rows that sum to 1, the model's own weights."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.attention import AttentionView, attention_for_text, head_matrix, mean_over_heads, top_attended
from core.config import DataConfig, ModelConfig
from core.errors import UserError
from core.model import TransformerClassifier


class FakeEncoder:
    """Whitespace words -> ids from a fixed list; unknown words -> 1."""

    def __init__(self, words: list[str]):
        self.vocab = ["[PAD]", "[UNK]", *words]
        self.index = {w: i for i, w in enumerate(self.vocab)}

    def encode(self, text: str) -> list[int]:
        return [self.index.get(w, 1) for w in text.lower().split()]

    def id_to_token(self, i: int) -> str:
        return self.vocab[i]


WORDS = "the movie was not good at all but actors were great".split()


def make_model(pooling: str = "mean", max_seq_len: int = 8, layers: int = 2, heads: int = 2) -> TransformerClassifier:
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=20, emb_dim=16, n_heads=heads, num_layers=layers, ff_dim=32,
                      max_seq_len=max_seq_len, dropout=0.1, pooling=pooling)
    return TransformerClassifier(cfg, num_classes=2)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_view_holds_real_tokens_and_normalised_rows(pooling):
    model = make_model(pooling)
    view = attention_for_text(model, FakeEncoder(WORDS), "The movie was GREAT", 8, ["negative", "positive"])
    expected = ["the", "movie", "was", "great"]
    assert view.tokens == (["[CLS]", *expected] if pooling == "cls" else expected)
    T = len(view.tokens)
    assert view.weights.dtype == np.float32 and view.weights.shape == (2, 2, T, T)
    np.testing.assert_allclose(view.weights.sum(-1), 1.0, atol=1e-5)
    assert view.source == "workbench model" and view.causal is False and view.truncated == 0
    assert set(view.prediction) == {"negative", "positive"}
    assert sum(view.prediction.values()) == pytest.approx(1.0, abs=1e-6)
    assert model.training, "the caller's training mode is left as it was"


def test_view_matches_the_model_on_the_same_text_in_a_padded_batch():
    # The viewer shows exactly what the model computes for this text in a batch with padding.
    model = make_model()
    encoder = FakeEncoder(WORDS)
    view = attention_for_text(model, encoder, "not good at all", 8, ["neg", "pos"])
    ids = torch.tensor([encoder.encode("not good at all") + [0, 0], encoder.encode("the actors were great but all")])
    logits, maps = model.logits_and_attention(ids, ids != 0)
    np.testing.assert_allclose(view.weights, maps[0, :, :, :4, :4].numpy(), atol=1e-6)
    assert view.prediction["pos"] == pytest.approx(logits.softmax(-1)[0, 1].item(), abs=1e-6)


def test_long_text_is_truncated_as_in_training():
    model = make_model(max_seq_len=4)
    view = attention_for_text(model, FakeEncoder(WORDS), "the movie was not good at all", 4)
    assert view.tokens == ["the", "movie", "was", "not"]
    assert view.truncated == 3
    assert set(view.prediction) == {"0", "1"}


def test_empty_text_is_a_user_error():
    with pytest.raises(UserError, match="empty"):
        attention_for_text(make_model(), FakeEncoder(WORDS), "   ", 8)


def test_wrong_number_of_label_names_is_refused():
    with pytest.raises(ValueError, match="3 label names"):
        attention_for_text(make_model(), FakeEncoder(WORDS), "good", 8, ["a", "b", "c"])


def test_works_with_the_projects_word_encoder():
    from core.data.tokenization import build_encoder

    cfg = ModelConfig(vocab_size=30, emb_dim=16, n_heads=2, num_layers=1, ff_dim=32, max_seq_len=8)
    encoder = build_encoder(DataConfig(tokenizer="word"), cfg, ["a good movie", "a bad movie", "good actors"])
    torch.manual_seed(0)
    model = TransformerClassifier(cfg, 2, vocab_size=encoder.vocab_size)
    view = attention_for_text(model, encoder, "A good movie!", 8)
    assert view.tokens[:3] == ["a", "good", "movie"]
    assert view.weights.shape[-1] == len(view.tokens)


# --- reading a view --------------------------------------------------------------------------

def hand_view() -> AttentionView:
    # layer 0: head 0 looks at "b", head 1 spreads out; one layer, two heads, three tokens.
    w = np.array([[[[0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.0, 0.9, 0.1]],
                   [[0.5, 0.3, 0.2], [0.3, 0.3, 0.4], [0.6, 0.1, 0.3]]]], dtype=np.float32)
    return AttentionView(tokens=["a", "b", "c"], weights=w)


def test_top_attended_per_head_and_over_heads():
    view = hand_view()
    assert top_attended(view, 0, 0, query=0, k=2) == [("b", pytest.approx(0.8)), ("a", pytest.approx(0.1))]
    # ties keep sentence order: 0.3 for "a" and "b" in head 1, query 1
    assert [t for t, _ in top_attended(view, 0, 1, query=1, k=3)] == ["c", "a", "b"]
    mean = top_attended(view, 0, None, query=0, k=1)
    assert mean == [("b", pytest.approx(0.55))]


def test_mean_over_heads_keeps_rows_normalised():
    view = hand_view()
    mean = mean_over_heads(view, 0)
    assert mean.shape == (3, 3)
    np.testing.assert_allclose(mean.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(head_matrix(view, 0, None), mean)


def test_out_of_range_indices_name_the_limit():
    view = hand_view()
    with pytest.raises(IndexError, match="1 layers"):
        top_attended(view, 1, 0, 0)
    with pytest.raises(IndexError, match="2 heads"):
        top_attended(view, 0, 2, 0)
    with pytest.raises(IndexError, match="3 tokens"):
        top_attended(view, 0, 0, 3)


def test_view_is_read_only_plain_data_and_round_trips_json():
    view = attention_for_text(make_model("cls"), FakeEncoder(WORDS), "great actors", 8, ["neg", "pos"])
    with pytest.raises(ValueError):
        view.weights[0, 0, 0, 0] = 1.0
    record = json.loads(json.dumps(view.to_record()))
    back = AttentionView.from_record(record)
    assert back.tokens == view.tokens and back.prediction == view.prediction
    np.testing.assert_allclose(back.weights, view.weights, atol=1e-7)


def test_weights_that_do_not_fit_the_tokens_are_refused():
    with pytest.raises(ValueError, match="do not fit 2 tokens"):
        AttentionView(tokens=["a", "b"], weights=np.ones((1, 1, 3, 3), dtype=np.float32))
