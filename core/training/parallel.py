"""How the trainer shares a run with other processes: the one-process case, and the interface.

The trainer never imports ``torch.distributed``. It asks a ``Parallel`` object for its device,
its batches, its evaluation, whether to stop, and what a checkpoint must hold; ``SingleProcess``
(the default) does what one process always did, and ``core.distributed.ddp.DistributedRun``
(handed in by ``twb train`` under torchrun) does the same across a process group. Every method
is called on every rank at the same point of the run, so the collective ones line up.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import torch


class SingleProcess:
    """One process: the plain path, with no collectives."""

    rank = 0
    world_size = 1
    is_main = True

    def setup_device(self, device: torch.device) -> torch.device:
        from core.training.devices import configure_threads

        if device.type == "cpu":
            configure_threads()
        return device

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module train steps call (DDP wraps it to average gradients)."""
        return model

    def gradients_ready(self) -> None:
        """Called after each step's backward, before clipping and the optimizer (nothing here)."""

    def steps_per_epoch(self, split: Any, batch_size: int) -> int:
        from core.data.batching import num_batches

        return num_batches(split, batch_size)

    def epoch_batches(self, split: Any, batch_size: int, seed: int) -> Iterator[Any]:
        from core.data.batching import iterate_batches

        return iterate_batches(split, batch_size, shuffle=True, seed=seed)

    def evaluate(self, model: torch.nn.Module, split: Any, batch_size: int, device: torch.device, bf16: bool,
                 should_stop: Callable[[], bool]):
        from core.data.batching import iterate_batches
        from core.training.loop import evaluate

        return evaluate(model, iterate_batches(split, batch_size, shuffle=False, seed=0), device, bf16, should_stop)

    def should_stop(self, asked: bool) -> bool:
        """Whether the run stops before this step; across ranks, all stop at the same step or
        none does (it may look only every few steps)."""
        return asked

    def stop_now(self, asked: bool) -> bool:
        """The same, asked of every rank at this point."""
        return asked

    def liveness(self, step: int, samples: int) -> list[dict[str, float]]:
        """Every other rank's last step and samples/s, for StepLogged (none here)."""
        return []

    def sum_epoch(self, progress: Any) -> tuple[float, int, int]:
        """The epoch's training (loss sum, correct, samples) over every rank."""
        return progress.epoch_loss_sum, progress.epoch_correct, progress.epoch_samples

    def checkpoint_state(self, progress: Any) -> dict[str, Any]:
        """What a checkpoint holds beyond rank 0's progress and RNG (every rank calls it, then
        only ``is_main`` writes)."""
        return {"world_size": 1}

    def resume(self, state: dict[str, Any], progress: Any, steps_per_epoch: int) -> None:
        """Adapt a resumed ``progress`` to this job's world size (the trainer restored rank 0's RNG)."""
        adapt_progress(progress, saved_world_size(state), self.world_size, steps_per_epoch)
        ranks = state.get("ranks")
        if saved_world_size(state) > 1 and isinstance(ranks, list) and ranks:
            try:  # the epoch's sums so far, over every rank that trained it
                sums = [sum(r["epoch_sums"][k] for r in ranks) for k in range(3)]
            except (KeyError, TypeError, IndexError):
                return  # damaged: the epoch's training loss then counts this session's batches only
            progress.epoch_loss_sum, progress.epoch_correct, progress.epoch_samples = \
                float(sums[0]), int(sums[1]), int(sums[2])

    def failure(self, exc: BaseException) -> str | None:
        """A one-line message when ``exc`` means another rank went away; None for a bug."""
        return None

    def close(self) -> None:
        pass


def saved_world_size(state: dict[str, Any]) -> int:
    """The world size a checkpoint was written by (1 for checkpoints older than the field)."""
    value = state.get("world_size", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else 1


def adapt_progress(progress: Any, saved_world: int, world: int, steps_per_epoch: int) -> None:
    """Map a position saved by ``saved_world`` processes onto ``world`` processes.

    With the world size unchanged nothing changes and the resume is exact. Otherwise an epoch
    has a different number of steps: a run stopped inside an epoch continues at the same share
    of that epoch (its batches are a new sharding, so some examples of that one epoch may be
    seen twice or not at all), and the step count restarts from the epochs done, so the
    learning-rate schedule stays at the same point of the run.
    """
    if saved_world == world:
        return
    done = progress.batch_in_epoch * saved_world  # batches of the epoch trained, all ranks together
    progress.batch_in_epoch = min(steps_per_epoch - 1, round(done / world)) if done else 0
    progress.step = progress.epoch * steps_per_epoch + progress.batch_in_epoch
