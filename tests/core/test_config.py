import dataclasses
import math

import pytest

from core import config as C
from core import config_check
from core.config import ConfigError, RunConfig


def fields_in_error(errors):
    return {e.field for e in errors}


def test_seed_preset_has_the_tutorials_values():
    cfg = C.preset("seed")
    m, t = cfg.model, cfg.train
    assert (m.vocab_size, m.emb_dim, m.n_heads, m.num_layers, m.ff_dim, m.max_seq_len) == (1000, 128, 4, 2, 256, 10)
    assert (t.lr, t.batch_size, t.epochs, t.seed, t.optimizer) == (0.001, 32, 10, 42, "adam")
    assert cfg.data.source == "random" and cfg.data.num_classes == 2
    assert C.validate(cfg, check_device=False) == []


def test_every_preset_is_valid():
    for name, cfg in C.PRESETS.items():
        assert C.validate(cfg, check_device=False) == [], name


def test_unknown_preset_names_the_choices():
    with pytest.raises(ConfigError) as exc:
        C.preset("sede")
    assert "seed" in str(exc.value)


def test_validation_reports_every_problem_at_once():
    cfg = C.apply_overrides(RunConfig(), [
        "model.emb_dim=130", "model.n_heads=4", "train.lr=0", "model.dropout=1.0",
        "model.max_seq_len=0", "train.device=tpu", "model.num_layers=-1",
    ])
    errors = C.validate(cfg, check_device=False)
    assert {"model.emb_dim", "train.lr", "model.dropout", "model.max_seq_len", "train.device", "model.num_layers"} <= fields_in_error(errors)
    emb = next(e for e in errors if e.field == "model.emb_dim")
    assert "divisible" in emb.message and "n_heads" in emb.message


def test_nan_learning_rate_is_rejected():
    cfg = C.with_field(RunConfig(), "train.lr", "nan")
    assert math.isnan(cfg.train.lr)
    assert "train.lr" in fields_in_error(C.validate(cfg, check_device=False))


def test_batch_larger_than_training_set():
    errors = C.validate(RunConfig(), train_size=10, check_device=False)
    assert "train.batch_size" in fields_in_error(errors)
    assert C.validate(RunConfig(), train_size=1000, check_device=False) == []


def test_cuda_asked_for_but_absent(monkeypatch):
    monkeypatch.setattr(config_check, "_cuda_available", lambda: False)
    cfg = C.with_field(RunConfig(), "train.device", "cuda")
    [error] = C.validate(cfg)
    assert error.field == "train.device" and "no CUDA" in error.message


def test_overrides_parse_by_field_type():
    cfg = C.apply_overrides(RunConfig(), ["train.lr=3e-4", "model.emb_dim=64", "data.lowercase=false", "data.source=file"])
    assert cfg.train.lr == 3e-4 and cfg.model.emb_dim == 64 and cfg.data.lowercase is False
    assert cfg.data.source == "file"


def test_bad_overrides_are_all_reported():
    with pytest.raises(ConfigError) as exc:
        C.apply_overrides(RunConfig(), ["train.lr=fast", "model.nope=1", "nosection", "train.epochs=2.5"])
    assert fields_in_error(exc.value.errors) == {"train.lr", "model.nope", "nosection", "train.epochs"}


def test_toml_round_trip(tmp_path):
    cfg = C.apply_overrides(C.preset("seed"), ["train.lr=0.0003", 'data.train_path=a "quoted" path.tsv'])
    path = tmp_path / "run.toml"
    C.save_toml(cfg, path)
    assert C.load_toml(path) == cfg


def test_toml_errors_name_the_file_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nemb_dim = 'wide'\n[extra]\nx = 1\n")
    with pytest.raises(ConfigError) as exc:
        C.load_toml(bad)
    assert fields_in_error(exc.value.errors) == {"model.emb_dim", "extra"}
    with pytest.raises(ConfigError) as exc:
        C.load_toml(tmp_path / "missing.toml")
    assert "not found" in str(exc.value)
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\n")
    with pytest.raises(ConfigError) as exc:
        C.load_toml(broken)
    assert "not valid TOML" in str(exc.value)


def test_every_field_explains_itself():
    for section in C.SECTIONS.values():
        for f in dataclasses.fields(section):
            assert f.metadata.get("help"), f"{section.__name__}.{f.name} has no help text"
