"""Settings that would hang, abort or leave a split empty are refused at once, one line each."""
import time

import pytest

from core import config as C
from core import config_check
from core.cli import main
from core.config import RunConfig
from core.data.prepare import prepare_data
from core.errors import UserError

GIB = 1024**3


def errors_of(*overrides: str, base: RunConfig | None = None):
    cfg = C.apply_overrides(base or RunConfig(), list(overrides))
    return {e.field: e.message for e in C.validate(cfg, check_device=False)}


def test_more_classes_than_the_built_in_data_can_split_is_refused():
    # The reported case: 200 examples, 300 classes left the validation split empty (NaN loss).
    errors = errors_of("data.num_samples=200", "data.num_classes=300")
    assert set(errors) == {"data.num_classes"}
    assert "600 examples" in errors["data.num_classes"] and "lower it to 100" in errors["data.num_classes"]
    assert "data.num_classes" in errors_of("data.source=random", "data.num_samples=5", "data.num_classes=3")
    with pytest.raises(UserError, match="data.num_classes"):
        cfg = C.apply_overrides(RunConfig(), ["data.num_samples=200", "data.num_classes=300"])
        prepare_data(cfg.data, cfg.model, seed=0)


@pytest.mark.parametrize("source", ["synthetic", "random"])
@pytest.mark.parametrize("classes", [2, 7])
def test_at_the_smallest_allowed_size_both_splits_hold_examples(source, classes):
    cfg = C.apply_overrides(RunConfig(), [f"data.source={source}", f"data.num_classes={classes}",
                                          f"data.num_samples={2 * classes}", "model.max_seq_len=8", "train.batch_size=1"])
    assert C.validate(cfg, check_device=False) == []
    data = prepare_data(cfg.data, cfg.model, seed=3)
    assert len(data.val) >= 1 and len(data.train) >= 1
    if source == "synthetic":  # balanced classes: every class is in both splits
        assert set(data.train.labels) == set(data.val.labels) == set(range(classes))


@pytest.mark.parametrize("setting,field", [
    ("model.vocab_size=1e12", "model.vocab_size"),  # aborted inside the tokenizers library
    ("model.num_layers=1e9", "model.num_layers"),
    ("data.num_samples=1e12", "data.num_samples"),
    ("data.num_classes=1e12", "data.num_classes"),  # generated topics until killed
    ("model.max_seq_len=1e9", "model.max_seq_len"),
    ("train.seed=9223372036854775808", "train.seed"),  # 2**63
    ("train.seed=-1", "train.seed"),
    ("train.weight_decay=inf", "train.weight_decay"),
])
def test_huge_values_are_refused_at_once(setting, field):
    started = time.perf_counter()
    errors = errors_of(setting)
    assert time.perf_counter() - started < 0.5
    assert set(errors) == {field}
    assert "\n" not in errors[field]


def test_the_largest_seed_is_accepted():
    assert errors_of(f"train.seed={2**63 - 1}") == {}


def test_a_run_that_cannot_fit_in_memory_names_the_setting_and_the_machines_memory(monkeypatch):
    monkeypatch.setattr(config_check, "machine_memory_bytes", lambda: 8 * GIB)
    # 2 layers of width 16384 hold 2.1e9 parameters: 34 GB with gradients and Adam state.
    errors = errors_of("model.emb_dim=16384", "model.ff_dim=256")
    assert set(errors) == {"model.emb_dim"}
    assert "8.0 GiB" in errors["model.emb_dim"] and "lower model.emb_dim" in errors["model.emb_dim"]
    # The WordPiece trainer alone reserves ~71 bytes per vocabulary entry.
    assert set(errors_of("model.vocab_size=200000000")) == {"model.vocab_size"}
    # The tutorial's random data at 1e4 tokens per text: 5e4 texts are ~64 GB of Python strings.
    assert set(errors_of("data.source=random", "model.max_seq_len=10000", "data.num_samples=50000")) & {
        "data.num_samples", "model.max_seq_len"}
    assert errors_of() == {}
    # Nothing is refused when the machine's memory cannot be read.
    monkeypatch.setattr(config_check, "machine_memory_bytes", lambda: None)
    assert errors_of("model.emb_dim=16384", "model.ff_dim=256") == {}


def test_machine_memory_is_read():
    total = config_check.machine_memory_bytes()
    assert total is None or total > 64 * 1024**2


@pytest.mark.parametrize("overrides", [
    [],
    ["model.positional=sinusoidal"],
    ["model.pooling=cls", "model.num_layers=3", "model.ff_dim=48", "model.max_seq_len=20"],
])
def test_parameter_count_matches_the_model(overrides):
    from core.model import TransformerClassifier

    model_cfg = C.apply_overrides(C.preset("nano"), overrides).model
    assert config_check.parameter_count(model_cfg, 5) == TransformerClassifier(model_cfg, 5).num_parameters()


@pytest.mark.parametrize("setting", ["model.vocab_size=1e12", "data.num_classes=1e12", "model.max_seq_len=1e9"])
def test_twb_train_refuses_huge_values_with_one_line(setting, capsys, tmp_path):
    code = main(["train", "--preset", "nano", "--set", setting, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"twb: error: {setting.partition('=')[0]}: ")
