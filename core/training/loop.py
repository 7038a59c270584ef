"""The pieces of the training loop that know nothing of threads or events.

Seeding, the optimizer, one training step (``train_step``), evaluation, the state of one run,
and the bookkeeping that turns a window of on-device losses into numbers with a single GPU
synchronisation.
"""
from __future__ import annotations

import contextlib
import copy
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from core.config import TrainConfig
from core.training.adam import FusedAdam, Optimizer


def set_seed(seed: int) -> None:
    """Seed every generator a run draws from: Python, numpy, torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)  # also seeds every CUDA device


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> Optimizer:
    """Adam (the tutorial's) or AdamW; weight decay skips biases, norms and embeddings' padding.

    Decaying LayerNorm gains and biases only hurts, so, as in nanoGPT, only matrices
    (dim >= 2: linear weights, embeddings) are decayed.
    """
    # A model may ask for learning-rate scales per group (a backbone's head and layers).
    scaled = model.parameter_groups(cfg) if hasattr(model, "parameter_groups") else [
        {"params": [p for p in model.parameters() if p.requires_grad], "lr_scale": 1.0}]
    groups = []
    for group in scaled:
        decay = [p for p in group["params"] if p.dim() >= 2]
        no_decay = [p for p in group["params"] if p.dim() < 2]
        groups += [{"params": decay, "weight_decay": cfg.weight_decay, "lr_scale": group["lr_scale"]},
                   {"params": no_decay, "weight_decay": 0.0, "lr_scale": group["lr_scale"]}]
    # fused: one kernel for the whole update, about 3x faster than foreach on a CPU.
    if FusedAdam.supports(p for group in groups for p in group["params"]):
        return FusedAdam(groups, lr=cfg.lr, decoupled=cfg.optimizer == "adamw")
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(groups, lr=cfg.lr, foreach=True)  # a device or dtype without a fused kernel


def train_step(model: torch.nn.Module, optimizer: Optimizer, batch: Any, lr: float,
               cfg: TrainConfig, device: torch.device,
               weights_lock: contextlib.AbstractContextManager | None = None,
               class_weight: torch.Tensor | None = None,
               gradients_ready: Callable[[], None] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on one batch (or the ``MicroBatches`` of an accumulated step) at
    learning rate ``lr``: the loss (0-d) of the whole step and its logits (B, C), left on the
    device (reading them would synchronise). ``weights_lock`` is held only while the weights
    change; ``gradients_ready`` runs once the gradients are in, before clipping and the update
    (the ``Parallel``'s, core.training.parallel)."""
    from core.training.finetune import step_normaliser, summed_loss

    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    parts = getattr(batch, "parts", None) or [batch]
    normaliser = step_normaliser(parts, class_weight)
    optimizer.zero_grad(set_to_none=True)
    losses, all_logits = [], []
    for part in parts:
        with autocast_context(device, cfg.bf16):
            logits = model(part.input_ids, part.attention_mask)  # (B, C)
        part_loss = summed_loss(logits, part.labels, cfg, class_weight) / normaliser
        part_loss.backward()  # frees this micro-batch's activations before the next one
        losses.append(part_loss.detach())
        all_logits.append(logits.detach())
    loss = losses[0] if len(losses) == 1 else torch.stack(losses).sum()
    logits = all_logits[0] if len(all_logits) == 1 else torch.cat(all_logits)
    if gradients_ready is not None:
        gradients_ready()
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    with weights_lock or contextlib.nullcontext():
        optimizer.step()
    return loss, logits


def checkpoint_bytes(model: torch.nn.Module) -> int:
    """About what one checkpoint of ``model`` takes on disk: weights and Adam's two moments,
    plus a margin for the tokenizer and state files."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return 3 * weights + (4 << 20)


def autocast_context(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager:
    """bfloat16 autocast on CUDA when asked (no loss scaling needed, unlike float16); nothing on CPU."""
    if device.type == "cuda" and bf16:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class LossWindow:
    """Per-step losses kept on the device until the next log point reads them all at once."""

    first_step: int = 1  # global step of the first entry
    losses: list[torch.Tensor] = field(default_factory=list)  # 0-d tensors, one per step
    correct: list[torch.Tensor] = field(default_factory=list)  # 0-d: right predictions per step
    sizes: list[int] = field(default_factory=list)  # examples per step (known on the CPU)
    tokens: int = 0

    def add(self, loss: torch.Tensor, correct: torch.Tensor, size: int, tokens: int) -> None:
        self.losses.append(loss.detach())
        self.correct.append(correct)
        self.sizes.append(size)
        self.tokens += tokens

    def __len__(self) -> int:
        return len(self.losses)

    def read(self) -> tuple[list[float], list[float]]:
        """Losses and correct counts as Python floats: the one synchronisation per log point."""
        if not self.losses:
            return [], []
        both = torch.stack([torch.stack(self.losses).float(), torch.stack(self.correct).float()]).cpu()
        return both[0].tolist(), both[1].tolist()


@dataclass(frozen=True)
class EvalResult:
    loss: float
    accuracy: float
    predictions: list[int]
    labels: list[int]


@dataclass(frozen=True)
class Validation:
    """One evaluation on the validation split, judged against the run's best so far."""

    result: EvalResult
    metric: float  # val loss or val accuracy, as train.early_stopping_metric says
    improved: bool  # a new best


def eval_batch_size(train_batch_size: int) -> int:
    # No gradients or activations kept for backward: larger batches fit and run faster.
    return max(256, min(1024, 4 * train_batch_size))


def evaluate(
    model: torch.nn.Module,
    batches,
    device: torch.device,
    bf16: bool,
    should_stop: Callable[[], bool] = lambda: False,
) -> EvalResult | None:
    """Mean loss and accuracy over ``batches``; None if ``should_stop`` became true midway."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    predictions: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    try:
        with torch.inference_mode(), autocast_context(device, bf16):
            for batch in batches:
                if should_stop():
                    return None
                batch = batch.to(device)
                logits = model(batch.input_ids, batch.attention_mask).float()  # (B, C)
                loss_sum += F.cross_entropy(logits, batch.labels, reduction="sum").double()
                predictions.append(logits.argmax(dim=-1))
                labels.append(batch.labels)
    finally:
        model.train(was_training)
    if not labels:
        return EvalResult(loss=float("nan"), accuracy=0.0, predictions=[], labels=[])
    preds = torch.cat(predictions).cpu()
    truth = torch.cat(labels).cpu()
    n = truth.numel()
    return EvalResult(
        loss=float(loss_sum.item()) / n,
        accuracy=float((preds == truth).sum().item()) / n,
        predictions=preds.tolist(),
        labels=truth.tolist(),
    )


def is_improvement(metric: str, value: float, best: float | None) -> bool:
    if best is None:
        return True
    return value < best if metric == "val_loss" else value > best


class PendingLog:
    """Training numbers gathered since the last StepLogged (log points may be throttled)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.loss_sum = 0.0
        self.steps = 0
        self.samples = 0
        self.tokens = 0


def absorb_window(window: LossWindow, progress: "Progress", pending: PendingLog) -> tuple[int, float] | None:
    """Add a window's losses (read with one synchronisation) to the epoch's sums and to the
    pending log; when one is NaN or infinite, add nothing and return its (step, value)."""
    losses, correct = window.read()
    for offset, value in enumerate(losses):
        if not math.isfinite(value):
            return window.first_step + offset, value
    for value, right, size in zip(losses, correct, window.sizes):
        progress.epoch_loss_sum += value * size
        progress.epoch_correct += int(right)
        progress.epoch_samples += size
        pending.loss_sum += value
        pending.steps += 1
        pending.samples += size
    pending.tokens += window.tokens
    return None


class Progress:
    """Where a run is: everything a checkpoint needs to resume it exactly (besides RNG and weights)."""

    def __init__(self) -> None:
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        self.batch_in_epoch = 0  # batches of epoch + 1 already trained (an interrupt mid-epoch)
        self.epoch_loss_sum = 0.0
        self.epoch_correct = 0
        self.epoch_samples = 0
        self.best_metric: float | None = None
        self.best_epoch: int | None = None
        self.epochs_without_improvement = 0
        self.improved_this_epoch = False  # by an evaluation inside the epoch (train.eval_every_steps)
        self.history: list[dict[str, float]] = []

    def end_epoch(self, train_loss: float, val_loss: float, val_accuracy: float) -> None:
        self.epoch += 1
        self.history.append({"epoch": self.epoch, "train_loss": train_loss, "val_loss": val_loss,
                             "val_accuracy": val_accuracy})
        self.batch_in_epoch = 0
        self.improved_this_epoch = False
        self.epoch_loss_sum, self.epoch_correct, self.epoch_samples = 0.0, 0, 0

    _FIELDS = ("epoch", "step", "batch_in_epoch", "epoch_loss_sum", "epoch_correct", "epoch_samples",
               "best_metric", "best_epoch", "epochs_without_improvement", "improved_this_epoch", "history")

    def to_state(self) -> dict[str, Any]:
        return {name: copy.deepcopy(getattr(self, name)) for name in self._FIELDS}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Progress":
        progress = cls()
        for name in cls._FIELDS:
            if name in state:
                setattr(progress, name, copy.deepcopy(state[name]))
        return progress


@dataclass
class RunState:
    """What one run builds and changes, made when its model exists (the trainer's settings stay
    on the Trainer)."""

    model: torch.nn.Module
    optimizer: Optimizer
    data: Any  # core.data.prepare.PreparedData, encoded with the checkpoint's tokenizer on resume
    device: torch.device
    progress: Progress
    steps_per_epoch: int
    total_steps: int
    epoch: int = 0  # the epoch in progress, 1-based once training started
    started: float = field(default_factory=time.perf_counter)  # for elapsed_s
    session_start_step: int = 0  # progress.step when this process started training
    best: tuple[EvalResult, int] | None = None  # (evaluation, epoch) of this session's best
    last_emit: float = float("-inf")  # when the last StepLogged went out; the first always reports
    pending: PendingLog = field(default_factory=PendingLog)
    class_weight: torch.Tensor | None = None  # train.class_weights, on the device
    step_model: torch.nn.Module | None = None  # what train steps call: DDP's wrapper of model, or model

    def __post_init__(self) -> None:
        if self.step_model is None:
            self.step_model = self.model
