import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SST2_DIR = ROOT.parent / "shared" / "data" / "sst2"


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path, monkeypatch):
    # Prepared data is cached under the user's cache folder; each test gets its own, so no
    # test reads what another wrote (and none writes into the home folder).
    monkeypatch.setenv("TWB_CACHE_DIR", str(tmp_path / "twb-cache"))


@pytest.fixture(scope="session")
def backbone(tmp_path_factory):
    """A tiny BERT encoder (no head) whose vocabulary fits the built-in synthetic task, built
    once for the core and the workbench tests."""
    from tests.core.backbone_fixtures import build_backbone

    return build_backbone(tmp_path_factory.mktemp("backbone") / "tiny-bert")


@pytest.fixture
def one_thread():
    # Small models run faster on one thread, and the test machine's cores are shared.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
