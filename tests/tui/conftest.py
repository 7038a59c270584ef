"""Fixtures for the workbench's Pilot tests."""
from __future__ import annotations

import pytest

from core.config import PRESETS
from tui_fakes import ScriptedTrainer


@pytest.fixture(autouse=True)
def sessions_dir(tmp_path, monkeypatch):
    """The workbench records sessions: into a temporary folder, never the repository's sessions/."""
    folder = tmp_path / "sessions"
    monkeypatch.setenv("TWB_SESSIONS_DIR", str(folder))
    monkeypatch.delenv("TWB_NO_SESSIONS", raising=False)
    return folder


@pytest.fixture
def scripted():
    ScriptedTrainer.instances.clear()
    return ScriptedTrainer


@pytest.fixture
def holding_factory():
    ScriptedTrainer.instances.clear()

    def factory(config, on_event, out_dir=None, resume_from=None):
        return ScriptedTrainer(config, on_event, out_dir, resume_from, hold=True)

    return factory


@pytest.fixture
def nano():
    return PRESETS["nano"]


