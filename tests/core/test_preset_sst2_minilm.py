"""The sst2-minilm preset is a valid fine-tuning setup whose files are found (it trains: test_finetune_minilm)."""
import pytest

from core.config import PRESETS, validate
from core.data.paths import check_data_paths
from tests.conftest import ROOT, SST2_DIR


def test_the_preset_is_a_valid_fine_tuning_config():
    config = PRESETS["sst2-minilm"]
    assert validate(config, check_device=False) == []
    assert config.model.backbone == "all-MiniLM-L6-v2"


@pytest.mark.skipif(not (SST2_DIR / "train.tsv").is_file(), reason="SST-2 not present")
def test_the_presets_data_files_resolve_from_the_project_folder(monkeypatch):
    monkeypatch.chdir(ROOT)  # where twb is run from; the paths are relative to it
    assert check_data_paths(PRESETS["sst2-minilm"]) == []
