"""The trainer's event stream, stopping, failures and snapshots, on the tiny 'nano' preset."""
import json
import re
import threading

import pytest
import torch

import core.training.trainer as train_module
import core.training.loop as loop_module
from core import events as ev
from core.config import apply_overrides, preset
from core.data.prepare import prepare_data
from core.training.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


# These tests check the event stream's shape, not learning: a smaller run than the preset's
# (15 steps per epoch, 2 epochs) keeps them quick.
SMALL = ["data.num_samples=256", "data.val_fraction=0.1", "train.epochs=2"]


def nano(*overrides: str):
    return apply_overrides(preset("nano"), SMALL + list(overrides))


def run_trainer(config, out_dir=None, on_event=None, **kwargs):
    events: list = []

    def collect(event):
        events.append(event)
        if on_event is not None:
            on_event(trainer, event)

    trainer = Trainer(config, collect, out_dir=out_dir, **kwargs)
    trainer.run()
    return trainer, events


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def test_events_arrive_in_order_with_consistent_content(tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "MIN_LOG_INTERVAL_S", 0.0)  # every log point reports
    trainer, events = run_trainer(nano(), out_dir=tmp_path)

    kinds = [type(e).__name__ for e in events if not isinstance(e, ev.CheckpointSaved)]
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    assert collapsed == ["RunStarted", "StepLogged", "EpochCompleted", "StepLogged", "EpochCompleted",
                         "ClassReportComputed", "TrainingFinished"]

    started = events[0]
    assert started.label_names == ["negative", "positive"]
    assert started.num_train + started.num_val == 256 and started.total_epochs == 2
    steps = of(events, ev.StepLogged)
    # nano logs every 2 steps: the losses are read only then.
    assert [s.step for s in steps] == list(range(2, 2 * started.steps_per_epoch + 1, 2))
    assert all(s.total_steps == 2 * started.steps_per_epoch for s in steps)
    assert all(s.loss > 0 and s.samples_per_s > 0 and s.tokens_per_s > 0 for s in steps)
    assert all(s.memory_bytes and s.memory_bytes > 0 for s in steps)

    epochs = of(events, ev.EpochCompleted)
    assert [e.epoch for e in epochs] == [1, 2]
    report = of(events, ev.ClassReportComputed)[0]
    assert report.label_names == started.label_names
    assert sum(map(sum, report.confusion)) == started.num_val == sum(report.support)
    finished = events[-1]
    assert finished.epochs_completed == 2 and finished.reason == "completed"
    assert trainer.outcome is finished

    saved = of(events, ev.CheckpointSaved)
    assert [s.kind for s in saved].count("last") == 2
    assert saved[0].kind == "last" and saved[0].epoch == 1 and saved[1].kind == "best"
    assert finished.checkpoint_dir == str(tmp_path / "best")


def test_epoch_line_has_the_tutorial_format():
    _, events = run_trainer(nano("train.epochs=1"))
    line = of(events, ev.EpochCompleted)[0].seed_line()
    assert re.fullmatch(r"Epoch 1/1, Train Loss: \d+\.\d{4}, Val Loss: \d+\.\d{4}, Val Accuracy: [01]\.\d{4}", line)


def test_step_reports_are_throttled_but_the_first_always_comes(monkeypatch):
    monkeypatch.setattr(train_module, "MIN_LOG_INTERVAL_S", 3600.0)
    _, events = run_trainer(nano("train.log_every_steps=1"))
    steps = of(events, ev.StepLogged)
    assert [s.step for s in steps] == [1]


def test_learns_the_synthetic_task_well_above_chance():
    _, events = run_trainer(nano("data.num_samples=2000", "train.epochs=5", "train.lr=5e-3"))
    assert of(events, ev.EpochCompleted)[-1].val_accuracy >= 0.75


def test_cancel_stops_before_the_next_step(monkeypatch):
    monkeypatch.setattr(train_module, "MIN_LOG_INTERVAL_S", 0.0)

    def on_event(trainer, event):
        if isinstance(event, ev.StepLogged) and event.step == 4:
            trainer.cancel()

    trainer, events = run_trainer(nano("train.epochs=3"), on_event=on_event)
    final = events[-1]
    assert isinstance(final, ev.TrainingCancelled)
    assert final.step == 4 and final.checkpoint_dir is None
    assert not of(events, ev.EpochCompleted)
    assert trainer.done


def test_cancel_from_another_thread_ends_the_run():
    started = threading.Event()
    events = []

    def collect(event):
        events.append(event)
        if isinstance(event, ev.StepLogged):
            started.set()

    trainer = Trainer(nano("train.epochs=200"), collect)
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert started.wait(60)
    trainer.cancel()
    worker.join(60)
    assert not worker.is_alive()
    assert isinstance(events[-1], ev.TrainingCancelled)
    assert events[-1].step < 200 * 15


def test_nan_loss_fails_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    from core.model import TransformerClassifier

    forward = TransformerClassifier.forward
    poisoned = {"on": False}

    def maybe_nan(self, input_ids, attention_mask):
        logits = forward(self, input_ids, attention_mask)
        return logits * float("nan") if poisoned["on"] and self.training else logits

    monkeypatch.setattr(TransformerClassifier, "forward", maybe_nan)

    def on_event(trainer, event):
        if isinstance(event, ev.CheckpointSaved) and event.kind == "last":
            poisoned["on"] = True  # from the first step of epoch 2

    _, events = run_trainer(nano("train.epochs=3"), out_dir=tmp_path, on_event=on_event)
    failed = events[-1]
    assert isinstance(failed, ev.TrainingFailed)
    steps_per_epoch = events[0].steps_per_epoch
    assert failed.step == steps_per_epoch + 1 and failed.epoch == 2
    assert f"step {steps_per_epoch + 1}" in failed.message
    assert "train.lr" in failed.hint and "train.grad_clip" in failed.hint
    state = json.loads((tmp_path / "last" / "state.json").read_text())
    assert state["epoch"] == 1 and state["step"] == steps_per_epoch
    weights = __import__("safetensors.torch", fromlist=["load_file"]).load_file(str(tmp_path / "last" / "model.safetensors"))
    assert all(torch.isfinite(t).all() for t in weights.values())


def test_a_huge_learning_rate_is_caught_as_a_non_finite_loss():
    _, events = run_trainer(nano("train.lr=1e30", "train.epochs=3"))
    failed = events[-1]
    assert isinstance(failed, ev.TrainingFailed), failed
    assert failed.step is not None and f"step {failed.step}" in failed.message
    assert "train.lr" in failed.hint


def test_invalid_config_fails_listing_every_problem_before_anything_runs():
    _, events = run_trainer(nano("model.emb_dim=30", "model.n_heads=4", "train.lr=-1", "train.epochs=0"))
    assert len(events) == 1
    failed = events[0]
    assert isinstance(failed, ev.TrainingFailed)
    for name in ("model.emb_dim", "train.lr", "train.epochs"):
        assert name in failed.message


def test_batch_larger_than_the_training_set_is_a_config_error():
    _, events = run_trainer(nano("train.batch_size=5000"))
    assert isinstance(events[-1], ev.TrainingFailed)
    assert "train.batch_size" in events[-1].message and not of(events, ev.RunStarted)


def test_early_stopping_ends_after_patience_epochs_without_improvement(tmp_path, monkeypatch):
    from core.training.loop import EvalResult

    real_evaluate = loop_module.evaluate
    calls = {"n": 0}

    def flat_after_first(*args, **kwargs):
        result = real_evaluate(*args, **kwargs)
        calls["n"] += 1
        # Accuracy peaks at epoch 1 and never improves afterwards.
        return EvalResult(loss=result.loss, accuracy=0.9 if calls["n"] == 1 else 0.5,
                          predictions=result.predictions, labels=result.labels)

    monkeypatch.setattr(loop_module, "evaluate", flat_after_first)
    config = nano("train.epochs=10", "train.early_stopping_patience=2", "train.early_stopping_metric=val_accuracy")
    _, events = run_trainer(config, out_dir=tmp_path)
    finished = events[-1]
    assert isinstance(finished, ev.TrainingFinished)
    assert finished.reason == "early_stopped" and finished.epochs_completed == 3
    assert finished.best_epoch == 1 and finished.best_metric == 0.9
    assert of(events, ev.ClassReportComputed)[0].epoch == 1  # the report is the best epoch's
    best = json.loads((tmp_path / "best" / "state.json").read_text())
    assert best["epoch"] == 1


def test_unexpected_errors_become_training_failed_with_the_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(train_module, "lr_at", broken)
    trainer, events = run_trainer(nano())
    failed = events[-1]
    assert isinstance(failed, ev.TrainingFailed)
    assert "RuntimeError: boom" in failed.message and "Traceback" in failed.hint
    assert trainer.done


def test_out_of_memory_is_reported_with_a_batch_size_hint(monkeypatch):
    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(train_module, "lr_at", oom)
    trainer, events = run_trainer(nano())
    failed = events[-1]
    assert isinstance(failed, ev.TrainingFailed)
    assert "out of memory" in failed.message and "train.batch_size" in failed.hint
    assert trainer.snapshot() is None  # the model was let go to free the memory


def test_a_failing_consumer_does_not_stop_training():
    seen = []

    def flaky(event):
        seen.append(event)
        if isinstance(event, ev.StepLogged):
            raise ValueError("consumer bug")

    trainer = Trainer(nano(), flaky)
    trainer.run()
    assert isinstance(seen[-1], ev.TrainingFinished)


def test_snapshot_is_a_cpu_eval_copy_that_predicts_and_leaves_training_unchanged():
    snapshots = []

    def take(trainer, event):
        if isinstance(event, ev.StepLogged) and not snapshots:
            snapshots.append(trainer.snapshot())

    config = nano("model.dropout=0.2")
    data = prepare_data(config.data, config.model, config.train.seed)
    plain, _ = run_trainer(config, data=data)
    watched, _ = run_trainer(config, on_event=take, data=data)
    assert Trainer(config, lambda e: None).snapshot() is None

    snap = snapshots[0]
    assert not snap.model.training
    assert all(p.device.type == "cpu" for p in snap.model.parameters())
    assert snap.label_names == ["negative", "positive"] and snap.max_seq_len == config.model.max_seq_len
    prediction = snap.predict(["some text", ""])
    assert len(prediction) == 2 and prediction[0]["label"] in snap.label_names
    assert sum(prediction[0]["scores"].values()) == pytest.approx(1.0)
    # Taking a snapshot draws no random numbers: the run is identical to one without it.
    for a, b in zip(plain.snapshot().model.state_dict().values(), watched.snapshot().model.state_dict().values()):
        assert torch.equal(a, b)


def test_evaluations_inside_epochs_report_and_save_the_best_without_changing_training(tmp_path):
    config = nano("model.dropout=0.2", "train.eval_every_steps=5")
    data = prepare_data(config.data, config.model, config.train.seed)
    plain, _ = run_trainer(nano("model.dropout=0.2"), data=data)
    trainer, events = run_trainer(config, out_dir=tmp_path, data=data)
    steps_per_epoch = events[0].steps_per_epoch  # 15: evaluations at 5 and 10 of each epoch
    midway = of(events, ev.ValidationReported)
    assert [v.step for v in midway] == [5, 10, 20, 25]
    assert [v.epoch for v in midway] == [1, 1, 2, 2]
    assert all(0.0 <= v.val_accuracy <= 1.0 and v.val_loss > 0 for v in midway)
    assert midway[0].improved  # the first evaluation is always the best so far
    saved_best = [s for s in of(events, ev.CheckpointSaved) if s.kind == "best"]
    assert saved_best[0].step == 5
    # The best is chosen among every evaluation, inside epochs and at their ends (val_loss here).
    losses = [v.val_loss for v in midway] + [e.val_loss for e in of(events, ev.EpochCompleted)]
    assert events[-1].best_metric == min(losses)
    best_state = json.loads((tmp_path / "best" / "state.json").read_text())
    assert best_state["step"] == saved_best[-1].step and best_state["best_metric"] == min(losses)
    # Evaluating draws no random numbers and changes no weights.
    for a, b in zip(plain.snapshot().model.state_dict().values(), trainer.snapshot().model.state_dict().values()):
        assert torch.equal(a, b)
