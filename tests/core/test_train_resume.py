"""Resuming continues a run exactly: same weights, same epoch losses as an uninterrupted run."""
import json

import pytest
import torch

from core import events as ev
from core.config import apply_overrides, preset
from core.data.prepare import prepare_data
from core.training.trainer import Trainer


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Module scope: the module-scoped runs below must use the same thread count as the tests
    # (float sums in another order differ in the last bits).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Dropout > 0 so that matching results prove the RNG state was restored; warm-up and cosine
# decay so that they prove the step count and optimizer state were.
CONFIG = apply_overrides(preset("nano"), [
    "model.dropout=0.3", "train.epochs=3", "train.warmup_steps=5", "train.schedule=cosine",
    "train.optimizer=adamw", "train.weight_decay=0.01", "train.grad_clip=1.0",
])


@pytest.fixture(scope="module")
def data():
    return prepare_data(CONFIG.data, CONFIG.model, CONFIG.train.seed)


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    events = []
    trainer = Trainer(CONFIG, events.append, out_dir=tmp_path_factory.mktemp("full"), data=data)
    trainer.run()
    assert isinstance(events[-1], ev.TrainingFinished)
    return trainer, [e for e in events if isinstance(e, ev.EpochCompleted)]


def interrupted_at(data, out_dir, when):
    def on_event(event):
        if when(event):
            trainer.interrupt()

    events = []
    trainer = Trainer(CONFIG, lambda e: (events.append(e), on_event(e)), out_dir=out_dir, data=data)
    trainer.run()
    return events


@pytest.mark.parametrize("where", ["epoch_boundary", "mid_epoch"])
def test_interrupt_then_resume_matches_an_uninterrupted_run(data, uninterrupted, tmp_path, where, monkeypatch):
    import core.training.trainer as train_module

    monkeypatch.setattr(train_module, "MIN_LOG_INTERVAL_S", 0.0)
    if where == "epoch_boundary":
        when = lambda e: isinstance(e, ev.EpochCompleted) and e.epoch == 1  # noqa: E731
    else:
        when = lambda e: isinstance(e, ev.StepLogged) and e.step == 20  # noqa: E731 (epoch 2 of 15-step epochs)
    first = interrupted_at(data, tmp_path, when)
    cancelled = first[-1]
    assert isinstance(cancelled, ev.TrainingCancelled)
    assert cancelled.checkpoint_dir == str(tmp_path / "interrupt")
    state = json.loads((tmp_path / "interrupt" / "state.json").read_text())
    assert state["kind"] == "interrupt" and state["step"] == cancelled.step

    events = []
    resumed = Trainer(CONFIG, events.append, out_dir=tmp_path, resume_from=cancelled.checkpoint_dir, data=data)
    resumed.run()
    assert isinstance(events[-1], ev.TrainingFinished), events[-1]
    assert events[0].start_epoch == state["epoch"]

    full_trainer, full_epochs = uninterrupted
    before = [e for e in first if isinstance(e, ev.EpochCompleted)]
    after = [e for e in events if isinstance(e, ev.EpochCompleted)]
    assert [e.epoch for e in before + after] == [1, 2, 3]
    for got, want in zip(before + after, full_epochs):
        assert got.train_loss == pytest.approx(want.train_loss, abs=1e-6)
        assert got.val_loss == pytest.approx(want.val_loss, abs=1e-6)
        assert got.val_accuracy == want.val_accuracy
    full_weights = full_trainer.snapshot().model.state_dict()
    for name, tensor in resumed.snapshot().model.state_dict().items():
        torch.testing.assert_close(tensor, full_weights[name], rtol=0, atol=1e-6)


def test_resume_from_a_run_folder_uses_its_latest_checkpoint(data, uninterrupted, tmp_path):
    short = apply_overrides(CONFIG, ["train.epochs=1"])
    Trainer(short, lambda e: None, out_dir=tmp_path, data=data).run()
    events = []
    Trainer(apply_overrides(CONFIG, ["train.epochs=2"]), events.append, out_dir=tmp_path,
            resume_from=tmp_path, data=data).run()
    assert events[0].start_epoch == 1
    assert [e.epoch for e in events if isinstance(e, ev.EpochCompleted)] == [2]


def test_resume_refuses_a_different_model_shape(data, tmp_path):
    Trainer(apply_overrides(CONFIG, ["train.epochs=1"]), lambda e: None, out_dir=tmp_path, data=data).run()
    events = []
    Trainer(apply_overrides(CONFIG, ["model.emb_dim=32"]), events.append, resume_from=tmp_path / "last").run()
    assert isinstance(events[-1], ev.TrainingFailed)
    assert "model settings differ" in events[-1].message


def test_resume_from_a_missing_folder_is_a_clear_failure(tmp_path):
    events = []
    Trainer(CONFIG, events.append, resume_from=tmp_path / "nope").run()
    assert isinstance(events[-1], ev.TrainingFailed) and "not found" in events[-1].message
