"""TrainJob's reading of a job's events, without starting one (the torchrun runs are in
tests/tui/test_workbench_job.py)."""
from types import SimpleNamespace

from core import events as ev
from core.commands.train_job import TrainJob
from core.config import PRESETS


def test_the_snapshot_follows_each_new_save_even_into_the_same_folder(tmp_path, monkeypatch):
    import core.training.checkpoint as checkpoint

    loads = []

    def fake_load(path):
        loads.append(path)
        return SimpleNamespace(model=f"model {len(loads)}", encoder=None, label_names=["a", "b"], max_seq_len=8)

    monkeypatch.setattr(checkpoint, "load_classifier", fake_load)
    job = TrainJob(PRESETS["nano"], lambda event: None, sessions_root=tmp_path, session_name="s")
    assert job.snapshot() is None  # no checkpoint yet
    last = str(tmp_path / "last")
    job._event_of(ev.to_record(ev.CheckpointSaved(last, "last", epoch=1, step=10)))
    assert job.snapshot().model == "model 1"
    assert job.snapshot().model == "model 1" and len(loads) == 1  # not read again for nothing
    job._event_of(ev.to_record(ev.CheckpointSaved(last, "last", epoch=2, step=20)))  # last/ saved again
    assert job.snapshot().model == "model 2" and loads == [last, last]
