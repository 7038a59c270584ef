"""Data paths are checked before a run starts (core.data.paths)."""
import os

from core.config import PRESETS, with_field
from core.data.paths import check_data_paths


def file_config(train, val=""):
    config = with_field(PRESETS["sst2"], "data.train_path", str(train))
    return with_field(config, "data.val_path", str(val))


def test_the_sst2_presets_relative_paths_are_checked_from_the_current_folder(tmp_path):
    errors = check_data_paths(PRESETS["sst2"], cwd=tmp_path)
    assert [e.field for e in errors] == ["data.train_path", "data.val_path"]
    assert "does not exist" in errors[0].message and str(tmp_path) in errors[0].message


def test_readable_files_pass(tmp_path):
    (tmp_path / "train.tsv").write_text("sentence\tlabel\nok\t1\n")
    (tmp_path / "dev.tsv").write_text("sentence\tlabel\nok\t1\n")
    assert check_data_paths(file_config("train.tsv", "dev.tsv"), cwd=tmp_path) == []
    assert check_data_paths(file_config(tmp_path / "train.tsv"), cwd="/") == []


def test_folders_and_pipes_are_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    errors = check_data_paths(file_config(tmp_path, tmp_path / "pipe"))
    assert "is a folder" in errors[0].message
    assert "not a regular file" in errors[1].message


def test_synthetic_data_has_no_paths_to_check(tmp_path):
    assert check_data_paths(PRESETS["default"], cwd=tmp_path) == []
