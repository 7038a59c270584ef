"""Scripted trainer and hand-made attention views for the workbench tests."""
from __future__ import annotations

import threading
import time

import numpy as np

from core import events as ev
from core.config import to_dict


def scripted_run(config, epochs: int = 2, steps: int = 4) -> list:
    """The events of a small, successful run, as the engine would emit them."""
    out = [ev.RunStarted(config=to_dict(config), device="cpu", label_names=["negative", "positive"],
                         num_train=64, num_val=16, total_epochs=epochs, steps_per_epoch=steps, num_parameters=1234)]
    step = 0
    for epoch in range(1, epochs + 1):
        for i in range(1, steps + 1):
            step += 1
            out.append(ev.StepLogged(epoch=epoch, step=step, total_steps=epochs * steps, epoch_progress=i / steps,
                                     loss=0.7 - 0.01 * step, lr=1e-3, samples_per_s=100.0, tokens_per_s=900.0,
                                     elapsed_s=float(step), eta_s=float(epochs * steps - step), memory_bytes=50 << 20))
        out.append(ev.EpochCompleted(epoch=epoch, total_epochs=epochs, train_loss=0.7 - 0.05 * epoch,
                                     val_loss=0.72 - 0.05 * epoch, val_accuracy=0.5 + 0.1 * epoch, elapsed_s=float(step),
                                     train_accuracy=0.55 + 0.1 * epoch))
    out.append(ev.ClassReportComputed(label_names=["negative", "positive"], accuracy=0.7, precision=[0.7, 0.7],
                                     recall=[0.7, 0.7], f1=[0.7, 0.7], support=[8, 8], confusion=[[6, 2], [3, 5]], epoch=epochs))
    out.append(ev.TrainingFinished(epochs_completed=epochs, elapsed_s=float(step), best_metric=0.62, best_epoch=epochs))
    return out


class ScriptedTrainer:
    """Trainer-shaped: emits a scripted run. With ``hold``, it stops after the first epoch and
    waits to be cancelled or interrupted, like a long run would."""

    instances: list["ScriptedTrainer"] = []

    def __init__(self, config, on_event, out_dir=None, resume_from=None, hold: bool = False):
        self.config, self.on_event, self.resume_from, self.hold = config, on_event, resume_from, hold
        self.out_dir = out_dir
        self.started = threading.Event()
        self.stop = threading.Event()
        self.cancelled = self.interrupted = False
        ScriptedTrainer.instances.append(self)

    def cancel(self) -> None:
        self.cancelled = True
        self.stop.set()

    def interrupt(self) -> None:
        self.interrupted = True
        self.stop.set()

    def snapshot(self):
        return None

    def run(self) -> None:
        events = scripted_run(self.config)
        first_epoch_end = next(i for i, e in enumerate(events) if isinstance(e, ev.EpochCompleted))
        for i, event in enumerate(events):
            self.on_event(event)
            if i == 0:
                self.started.set()
            if self.hold and i == first_epoch_end:
                self.stop.wait(30)
                path = "/tmp/run/interrupt" if self.interrupted else None
                self.on_event(ev.TrainingCancelled(epoch=1, step=4, checkpoint_dir=path))
                return


def make_view(tokens: list[str], layers: int = 2, heads: int = 2, causal: bool = False):
    """A real AttentionView with seeded random weights (rows sum to 1; causal: lower triangle)."""
    from core.attention import AttentionView

    rng = np.random.default_rng(0)
    t = len(tokens)
    logits = rng.normal(size=(layers, heads, t, t)).astype(np.float32)
    if causal:
        logits = np.where(np.tril(np.ones((t, t), dtype=bool)), logits, -np.inf)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights = (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)
    return AttentionView(tokens=tokens, weights=weights, source="test model", causal=causal,
                         prediction={"negative": 0.2, "positive": 0.8})


def last_trainer() -> ScriptedTrainer:
    return ScriptedTrainer.instances[-1]


def wait_started(timeout: float = 10) -> bool:
    """Block (in a thread: ``await asyncio.to_thread(wait_started)``) until the scripted run emitted RunStarted."""
    deadline = time.monotonic() + timeout
    while not ScriptedTrainer.instances and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(ScriptedTrainer.instances) and ScriptedTrainer.instances[-1].started.wait(max(0.0, deadline - time.monotonic()))


async def type_into_backbone_field(app, pilot, typed: str):
    """Type ``typed`` into the form's emptied model.backbone field and wait for its suggestion
    (the suggester reads the local models in a worker on the first keystroke)."""
    from textual.widgets import Input

    field = app.query_one("#f-model-backbone", Input)
    field.focus()
    field.value = ""
    await pilot.press(*typed)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return field
