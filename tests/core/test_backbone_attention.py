"""The attention of a fine-tuned backbone: read from an eager copy, training's model untouched."""
import numpy as np
import pytest
import torch

from core.attention import attention_for_text
from core.config import apply_overrides, preset
from core.training.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trained(backbone):
    config = apply_overrides(preset("nano"), [f"model.backbone={backbone}", "data.num_samples=200", "train.epochs=1",
                                              "train.lr=1e-3"])
    trainer = Trainer(config, lambda event: None)
    trainer.run()
    return trainer


def test_a_snapshot_shows_the_backbones_tokens_weights_and_named_labels(trained):
    snap = trained.snapshot()
    view = attention_for_text(snap.model, snap.encoder, "the acting was charming", snap.max_seq_len, snap.label_names)
    assert view.tokens == ["[CLS]", "the", "acting", "was", "charming", "[SEP]"]
    assert view.weights.shape == (2, 2, 6, 6)  # the tiny BERT's 2 layers of 2 heads
    assert np.allclose(view.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert set(view.prediction) == {"negative", "positive"}
    # The same prediction as the model's own (SDPA) forward pass: eager attention changed nothing else.
    ids = torch.tensor([snap.encoder.encode("the acting was charming")])
    with torch.inference_mode():
        probs = trained.snapshot().model(ids, torch.ones_like(ids, dtype=torch.bool)).softmax(-1)[0].tolist()
    assert [view.prediction[name] for name in snap.label_names] == pytest.approx(probs, abs=1e-5)


def test_the_eager_switch_stays_on_the_copy(trained):
    snap = trained.snapshot()
    attention_for_text(snap.model, snap.encoder, "a dull film", snap.max_seq_len, snap.label_names)
    assert snap.model.hf_config._attn_implementation == "eager"
    assert trained._state.model.hf_config._attn_implementation != "eager"  # training keeps its fast kernels
