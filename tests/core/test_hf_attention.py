"""Attention of Hugging Face models for the viewer: encoders, decoders, classifiers, exports."""
import numpy as np
import pytest

from core.errors import UserError


def assert_valid_view(view, layers, heads):
    T = len(view.tokens)
    assert view.weights.dtype == np.float32
    assert view.weights.shape == (layers, heads, T, T)
    assert np.allclose(view.weights.sum(axis=-1), 1.0, atol=1e-4)


def test_encoder_attention_has_every_layer_and_head(tiny):
    from core.hf.attention import hf_attention

    view = hf_attention(str(tiny["bert-mlm"]), "paris is a beautiful city")
    assert view.tokens[0] == "[CLS]" and view.tokens[-1] == "[SEP]"
    assert_valid_view(view, layers=2, heads=2)
    assert view.causal is False
    assert view.source == str(tiny["bert-mlm"])


def test_decoder_attention_is_a_causal_triangle(tiny):
    from core.hf.attention import hf_attention

    view = hf_attention(str(tiny["gpt2"]), "Hello world , my name is Clara")
    assert_valid_view(view, layers=2, heads=2)
    assert view.causal is True
    T = len(view.tokens)
    assert np.all(view.weights[..., np.triu_indices(T, k=1)[0], np.triu_indices(T, k=1)[1]] == 0)


def test_encoder_decoder_shows_its_encoder(tiny):
    from core.hf.attention import hf_attention

    view = hf_attention(str(tiny["t5"]), "the house is blue")
    assert_valid_view(view, layers=2, heads=2)
    assert view.causal is False and view.tokens[-1] == "</s>"


def test_classifier_attention_comes_with_its_prediction(tiny):
    from core.hf.attention import hf_attention

    view = hf_attention(str(tiny["bert-cls"]), "I love this movie")
    assert set(view.prediction) == {"NEGATIVE", "POSITIVE"}
    assert sum(view.prediction.values()) == pytest.approx(1.0, abs=1e-5)


def test_long_text_is_cut_to_the_model_limit(tiny):
    from core.hf.attention import hf_attention

    view = hf_attention(str(tiny["bert-mlm"]), "paris " * 100)
    assert len(view.tokens) == 64 and view.truncated == 102 - 64


def test_exported_workbench_model_matches_the_workbench_view(tmp_path, monkeypatch):
    from core.attention import attention_for_text
    from core.training.checkpoint import load_classifier
    from core.hf.export import export_checkpoint
    from core.hf.attention import hf_attention
    from test_export import make_checkpoint

    monkeypatch.setenv("TWB_DATA_DIR", str(tmp_path / "data"))
    checkpoint = make_checkpoint(tmp_path / "ckpt", pooling="cls")
    out = export_checkpoint(checkpoint, tmp_path / "exported")
    loaded = load_classifier(checkpoint)
    text = "a wonderful , moving film"
    ours = attention_for_text(loaded.model, loaded.encoder, text, loaded.max_seq_len, loaded.label_names)
    theirs = hf_attention(str(out), text)
    assert theirs.tokens == ours.tokens
    np.testing.assert_allclose(theirs.weights, ours.weights, atol=1e-6)
    # The export predicts through the fused path, the view through the explicit one: float32 noise.
    assert theirs.prediction == pytest.approx(ours.prediction, abs=1e-5)


def test_empty_text_and_missing_model_are_user_errors(tiny, tmp_path):
    from core.hf.attention import hf_attention

    with pytest.raises(UserError, match="empty"):
        hf_attention(str(tiny["bert-mlm"]), "  ")
    with pytest.raises(UserError, match="does not exist"):
        hf_attention(str(tmp_path / "missing"), "hello")
