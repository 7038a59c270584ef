"""Backbone runs: checkpoints load back, resume exactly, and export as a stock Hugging Face folder."""
import json
import os
import subprocess
import sys

import pytest
import torch

from core.config import apply_overrides, preset
from core.events import TrainingFailed, TrainingFinished
from core.training.checkpoint import load_classifier, load_weights
from core.training.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread", "private_data_dir")
TEXTS = ["the acting was charming .", "the script is never clever and the hero felt so long .", "fresh !"]


def config_for(backbone, *overrides):
    return apply_overrides(preset("nano"), [f"model.backbone={backbone}", "data.num_samples=300", "train.lr=1e-3",
                                            "train.epochs=2", "train.grad_accum_steps=2", *overrides])


def train(config, out, resume_from=None):
    events = []
    trainer = Trainer(config, events.append, out_dir=out, resume_from=resume_from)
    trainer.run()
    assert isinstance(events[-1], TrainingFinished), events[-1]
    return trainer


@pytest.fixture(scope="module")
def trained(backbone, tmp_path_factory):
    # One thread, as the tests that compare with it (module fixtures start before one_thread).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("run")
        trainer = train(config_for(backbone), out)
    finally:
        torch.set_num_threads(before)
    return trainer, out


def test_a_resumed_backbone_run_ends_with_the_same_weights(backbone, trained, tmp_path):
    _, straight = trained
    first = train(config_for(backbone, "train.epochs=1"), tmp_path)
    assert first.outcome.epochs_completed == 1
    train(config_for(backbone), tmp_path, resume_from=tmp_path / "last")
    expected, resumed = load_weights(straight / "last"), load_weights(tmp_path / "last")
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)


def test_a_backbone_checkpoint_loads_without_its_backbone_folder(trained, tmp_path):
    trainer, out = trained
    expected = trainer.snapshot().predict(TEXTS)
    moved = tmp_path / "elsewhere"
    os.rename(out / "last", moved)  # the checkpoint carries the backbone's config itself
    try:
        loaded = load_classifier(moved)
    finally:
        os.rename(moved, out / "last")
    assert loaded.label_names == ["negative", "positive"]
    for ours, theirs in zip(loaded.predict(TEXTS), expected):
        assert ours["label"] == theirs["label"] and ours["score"] == pytest.approx(theirs["score"], abs=1e-6)


def test_the_export_is_a_stock_folder_that_plain_transformers_pipeline_loads(trained, tmp_path):
    from core.hf.export import export_checkpoint

    _, out = trained
    folder = export_checkpoint(out / "best", tmp_path / "export")
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"] and "auto_map" not in config
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    # A fresh interpreter that never imports the workbench.
    script = ("import json, sys; from transformers import pipeline; "
              "p = pipeline('text-classification', model=sys.argv[1], top_k=None); "
              "print(json.dumps(p(json.loads(sys.argv[2])))); "
              "assert not any(m == 'core' or m.startswith('core.') for m in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", script, str(folder), json.dumps(TEXTS)], capture_output=True,
                          text=True, cwd=tmp_path, env={**env, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    ours = load_classifier(out / "best").predict(TEXTS)
    for mine, scores in zip(ours, theirs):
        by_label = {s["label"]: s["score"] for s in scores}
        assert by_label.keys() == mine["scores"].keys()
        for label, score in mine["scores"].items():
            assert by_label[label] == pytest.approx(score, abs=1e-5)
    # Exporting again replaces the earlier export.
    assert export_checkpoint(out / "best", folder) == folder


def test_resuming_on_data_with_other_labels_is_refused(backbone, trained, tmp_path):
    _, out = trained
    data = tmp_path / "spam.csv"
    data.write_text("text,label\n" + "".join(f"message {i},{'spam' if i % 2 else 'ham'}\n" for i in range(40)))
    config = apply_overrides(config_for(backbone), ["data.source=file", f"data.train_path={data}"])
    events = []
    Trainer(config, events.append, out_dir=tmp_path / "run", resume_from=out / "last").run()
    assert isinstance(events[-1], TrainingFailed)
    assert "classes" in events[-1].message and "differ" in events[-1].message


def test_the_attention_viewer_shows_the_model_being_fine_tuned(trained, tmp_path):
    import numpy as np

    from core.attention import attention_for_text
    from core.hf.attention import hf_attention
    from core.hf.export import export_checkpoint

    trainer, out = trained
    snap = trainer.snapshot()
    view = attention_for_text(snap.model, snap.encoder, TEXTS[1], snap.max_seq_len, snap.label_names)
    assert view.tokens[0] == "[CLS]" and view.tokens[-1] == "[SEP]" and "script" in view.tokens
    assert view.weights.shape == (2, 2, len(view.tokens), len(view.tokens))
    assert np.allclose(view.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert set(view.prediction) == {"negative", "positive"}
    # The snapshot switched to eager attention; the model in training keeps its fast kernels.
    assert trainer.snapshot().model.hf_config._attn_implementation != "eager"
    # The same maps transformers' own eager attention gives on the exported model.
    theirs = hf_attention(str(export_checkpoint(out / "last", tmp_path / "export")), TEXTS[1])
    assert theirs.tokens == view.tokens
    np.testing.assert_allclose(view.weights, theirs.weights, atol=1e-5)
