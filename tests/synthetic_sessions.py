"""A made-up but well-formed session, written through the real recorder.

Used by tests, the replay benchmark and the TUI's snapshot tests: no torch, no data, instant.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from core import config as cfg
from core.attention import AttentionView
from core.events import (CheckpointSaved, EpochCompleted, ClassReportComputed, RunStarted, StepLogged,
                         TrainingCancelled, TrainingFailed, TrainingFinished, ValidationReported)
from core.sessions.recorder import SessionRecorder


def attention_view(tokens: list[str], layers: int = 2, heads: int = 2, seed: int = 0) -> AttentionView:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(layers, heads, len(tokens), len(tokens)))
    weights = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)  # (L, H, T, T), rows sum to 1
    return AttentionView(tokens, weights.astype(np.float32), prediction={"negative": 0.3, "positive": 0.7})


def write_synthetic_session(root: str | os.PathLike, name: str = "synthetic", epochs: int = 3,
                            steps_per_epoch: int = 10, end: str = "finished", attention_every: int = 0,
                            console_every: int = 0, close: bool = True, config: cfg.RunConfig | None = None,
                            start_epoch: int = 0, eval_every: int = 0,
                            recorder: SessionRecorder | None = None,
                            label_names: tuple[str, ...] = ("negative", "positive")) -> SessionRecorder:
    """Record a fake run of ``epochs`` epochs, each with ``steps_per_epoch`` StepLogged records.

    ``end``: "finished", "failed", "cancelled", or "none" (no terminal event: a crash when not
    closed). ``eval_every``: a mid-epoch ValidationReported every that many steps. ``recorder``:
    append to that session (a resume, with ``start_epoch``) instead of creating one.
    ``label_names``: the run's classes (the class reports keep two). Returns the
    recorder (closed when ``close``).
    """
    config = config or cfg.preset("nano")
    recorder = recorder or SessionRecorder.create(name, root, config=config)
    recorder.record_action("resume" if start_epoch else "start")
    total_steps = epochs * steps_per_epoch
    recorder.on_event(RunStarted(config=cfg.to_dict(config), device="cpu", label_names=list(label_names),
                                 num_train=1000, num_val=100, total_epochs=epochs, steps_per_epoch=steps_per_epoch,
                                 num_parameters=12345, start_epoch=start_epoch,
                                 data_summary={"source": "synthetic", "train": 1000, "val": 100}))
    step = start_epoch * steps_per_epoch
    for epoch in range(start_epoch + 1, epochs + 1):
        for k in range(1, steps_per_epoch + 1):
            step += 1
            recorder.on_event(StepLogged(epoch=epoch, step=step, total_steps=total_steps,
                                         epoch_progress=k / steps_per_epoch, loss=1.0 / math.sqrt(step), lr=1e-3,
                                         samples_per_s=500.0, tokens_per_s=8000.0, elapsed_s=step * 0.1,
                                         eta_s=(total_steps - step) * 0.1))
            if eval_every and step % eval_every == 0 and k < steps_per_epoch:
                recorder.on_event(ValidationReported(epoch=epoch, step=step, val_loss=1.2 / step,
                                                     val_accuracy=0.5 + 0.45 * step / total_steps,
                                                     elapsed_s=step * 0.1))
            if attention_every and step % attention_every == 0:
                recorder.record_attention(attention_view(["[CLS]", "a", "fine", "film"], seed=step),
                                          text="a fine film", layer=0, head=None)
            if console_every and step % console_every == 0:
                recorder.record_console("sentiment-analysis", "workbench", f"text {step}", {},
                                        [{"label": "positive", "score": 0.9}], latency_s=0.01)
        accuracy = 0.5 + 0.4 * epoch / epochs
        recorder.on_event(EpochCompleted(epoch=epoch, total_epochs=epochs, train_loss=1.0 / epoch,
                                         val_loss=1.1 / epoch, val_accuracy=accuracy, elapsed_s=step * 0.1))
        recorder.on_event(ClassReportComputed(label_names=["negative", "positive"], accuracy=accuracy,
                                             precision=[accuracy, accuracy], recall=[accuracy, accuracy],
                                             f1=[accuracy, accuracy], support=[50, 50],
                                             confusion=[[40, 10], [10, 40]], epoch=epoch))
        checkpoint = Path(recorder.checkpoints_dir) / "last"
        recorder.on_event(CheckpointSaved(path=str(checkpoint), kind="last", epoch=epoch, step=step))
    if end == "finished":
        recorder.on_event(TrainingFinished(epochs_completed=epochs, elapsed_s=step * 0.1, best_metric=0.9,
                                           best_epoch=epochs))
    elif end == "failed":
        recorder.on_event(TrainingFailed(message="loss became NaN at step 3", hint="lower train.lr", step=3, epoch=1))
    elif end == "cancelled":
        recorder.record_action("cancel")
        recorder.on_event(TrainingCancelled(epoch=epochs, step=step))
    if close:
        recorder.close()
    return recorder
