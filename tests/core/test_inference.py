"""The inference package: one loader for every kind of classifier folder, and a length-bucketed
predictor whose scores are transformers.pipeline("text-classification")'s, in input order."""
import json
import shutil

import numpy as np
import pytest

from core.errors import UserError
from test_export import make_checkpoint

pytestmark = pytest.mark.usefixtures("private_data_dir", "one_thread")

TEXTS = [
    "I love this movie , it is great",
    "boring and far too long",
    "",  # an empty text
    "Paris is a beautiful city in France . " * 3,
    "a",
    "terrible , terrible film",
    "an UNSEEN word : zyxwv !",
] * 6  # more rows than one pipeline batch, so batches differ between the two


def pipeline_scores(folder, label_names, texts, batch_size=32):
    from transformers import pipeline

    import core.hf.classifier  # noqa: F401  (registers exported workbench classifiers)

    pipe = pipeline("text-classification", model=str(folder), device="cpu")
    rows = pipe(list(texts), top_k=None, batch_size=batch_size)
    return np.array([[{r["label"]: r["score"] for r in row}[name] for name in label_names] for row in rows])


def test_hf_classifier_scores_are_the_pipelines(tmp_path):
    from core.inference import load_model, predict_proba, top_labels
    from hf_fixtures import build_bert_classifier

    folder = build_bert_classifier(tmp_path / "bert")
    classifier = load_model(folder)
    assert classifier.kind == "hf" and classifier.label_names == ["NEGATIVE", "POSITIVE"]
    ours = predict_proba(classifier, TEXTS, max_tokens=64, batch_size=8)
    theirs = pipeline_scores(folder, classifier.label_names, TEXTS)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    labels, _ = top_labels(classifier, ours)
    assert labels == [classifier.label_names[i] for i in theirs.argmax(axis=1)]


def test_export_scores_are_the_pipelines_and_the_checkpoints(tmp_path):
    from core.hf.export import export_checkpoint
    from core.inference import load_model, predict_proba
    from core.training.checkpoint import load_classifier

    checkpoint = make_checkpoint(tmp_path / "ckpt")
    exported = export_checkpoint(checkpoint, tmp_path / "exported")
    from_export = load_model(exported)
    from_checkpoint = load_model(checkpoint)
    assert (from_export.kind, from_checkpoint.kind) == ("export", "checkpoint")
    texts = [t for t in TEXTS if t]  # the pipeline batches an empty text beside padding-only rows
    ours = predict_proba(from_export, texts, max_tokens=40)
    np.testing.assert_allclose(ours, pipeline_scores(exported, from_export.label_names, texts), atol=1e-5)
    native = predict_proba(from_checkpoint, TEXTS, max_tokens=40)
    reference = load_classifier(checkpoint).predict(TEXTS)
    np.testing.assert_allclose(native, [[r["scores"][n] for n in from_checkpoint.label_names] for r in reference],
                               atol=1e-5)
    np.testing.assert_allclose(predict_proba(from_export, TEXTS), native, atol=1e-5)  # empty text included
    assert len(set(native.argmax(axis=1))) > 1  # the comparison covers more than one label


def test_a_run_folder_loads_its_latest_checkpoint(tmp_path):
    from core.inference import load_model

    make_checkpoint(tmp_path / "run" / "last")
    assert load_model(tmp_path / "run").label_names == ["negative", "neutral", "positive"]


def test_folders_that_are_not_classifiers_are_one_line_errors(tmp_path):
    from core.inference import load_model
    from hf_fixtures import build_bert_classifier, build_bert_mlm

    def error(folder) -> str:
        with pytest.raises(UserError) as caught:
            load_model(folder)
        assert "\n" not in str(caught.value)
        return str(caught.value)

    assert "not found" in error(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    assert "neither a twb checkpoint" in error(tmp_path / "empty")
    assert "no classification head" in error(build_bert_mlm(tmp_path / "mlm"))
    bert = build_bert_classifier(tmp_path / "bert")
    no_weights = shutil.copytree(bert, tmp_path / "no-weights")
    (no_weights / "model.safetensors").unlink()
    assert "has no weights" in error(no_weights)
    no_tokenizer = shutil.copytree(bert, tmp_path / "no-tokenizer")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (no_tokenizer / name).unlink(missing_ok=True)
    assert "no tokenizer files" in error(no_tokenizer)
    damaged = shutil.copytree(bert, tmp_path / "damaged")
    (damaged / "config.json").write_text("{ not json")
    assert str(damaged) in error(damaged)
    remote = shutil.copytree(bert, tmp_path / "remote")
    config = json.loads((remote / "config.json").read_text())
    (remote / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoConfig": "x.Config"}}))
    assert "trust_remote_code" in error(remote)


def test_a_classifier_saved_without_its_head_is_refused(tmp_path):
    from transformers import AutoModelForSequenceClassification

    from core.inference import load_model
    from hf_fixtures import build_bert_mlm

    # A BERT body saved under a classification architecture: its head would be random.
    mlm = build_bert_mlm(tmp_path / "mlm")
    model = AutoModelForSequenceClassification.from_pretrained(mlm)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("classifier.")}
    model.save_pretrained(tmp_path / "headless", state_dict=state)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(mlm / name, tmp_path / "headless" / name)
    with pytest.raises(UserError, match="no trained classification head"):
        load_model(tmp_path / "headless")


def test_evaluation_names_the_labels_the_model_does_not_know(tmp_path):
    from core.data.readers import Table
    from core.inference import load_model
    from core.inference.evaluation import evaluate

    classifier = load_model(make_checkpoint(tmp_path / "ckpt"))
    table = Table("data.csv", ["text", "label"], "text", "label", ["good", "bad", "meh"],
                  ["positive", "awful", "so-so"], [2, 3, 4])
    with pytest.raises(UserError, match=r"data.csv has labels the model .* does not know: 'awful', 'so-so'"):
        evaluate(classifier, table)
