"""Fixtures several core test modules share; each module opts in by name."""
import pytest

from hf_fixtures import shared_tiny_models


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """Tiny Hugging Face models built offline, once per test session."""
    return shared_tiny_models(tmp_path_factory)


@pytest.fixture
def private_data_dir(tmp_path, monkeypatch):
    # The list of exported models lives in the user's data folder: keep tests out of it.
    monkeypatch.setenv("TWB_DATA_DIR", str(tmp_path / "twb-data"))

