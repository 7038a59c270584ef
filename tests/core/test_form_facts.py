"""What the form reads of a backbone: real sizes from config.json, one-line errors, offline."""
import json

import pytest

from core.errors import UserError
from core.pretrained.form_facts import backbone_candidates, backbone_values


def model_folder(folder, **config):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_sizes_dropout_and_positions_come_from_the_config(tmp_path):
    bert = model_folder(tmp_path / "bert", model_type="bert", hidden_size=48, num_attention_heads=3,
                        num_hidden_layers=4, intermediate_size=96, vocab_size=500, hidden_dropout_prob=0.2)
    assert backbone_values(str(bert)) == {"emb_dim": 48, "n_heads": 3, "num_layers": 4, "ff_dim": 96,
                                          "vocab_size": 500, "dropout": 0.2, "positional": "learned", "pooling": "cls"}
    distil = model_folder(tmp_path / "distil", model_type="distilbert", dim=64, n_heads=4, n_layers=2,
                          hidden_dim=128, vocab_size=700, dropout=0.1, sinusoidal_pos_embds=True)
    values = backbone_values(str(distil))
    assert (values["emb_dim"], values["num_layers"], values["positional"]) == (64, 2, "sinusoidal")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("x"), "is a file, not a model folder"),
    (lambda p: p.mkdir(), "has no config.json"),
    (lambda p: model_folder(p) and (p / "config.json").write_text("{oops"), "cannot read"),
    (lambda p: None, "does not exist"),
])
def test_a_wrong_backbone_is_one_line_naming_it(tmp_path, make, message):
    target = tmp_path / "model"
    make(target)
    with pytest.raises(UserError) as caught:
        backbone_values(str(target))
    assert message in caught.value.message and caught.value.hint


def test_a_hub_id_not_on_this_machine_is_an_error_offline_and_unknown_online(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="not available offline"):
        backbone_values("someone/some-encoder")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    assert backbone_values("someone/some-encoder") is None  # downloaded when the run starts


def test_candidates_offer_model_folders_under_the_working_folder_as_paths(tmp_path, monkeypatch):
    model_folder(tmp_path / "runs" / "bert", model_type="bert")
    model_folder(tmp_path / "scratch-export", model_type="twb-classifier")  # refused as a backbone
    monkeypatch.chdir(tmp_path)
    found = backbone_candidates()
    assert "./runs/bert" in found and "./scratch-export" not in found
