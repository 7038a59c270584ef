"""The pieces of the training loop that know nothing of threads or events.

Seeding, the optimizer, one training step, evaluation, and the bookkeeping that turns a
window of on-device losses into numbers with a single GPU synchronisation.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from core.config import TrainConfig


def set_seed(seed: int) -> None:
    """Seed every generator a run draws from: Python, numpy, torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)  # also seeds every CUDA device


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam (the tutorial's) or AdamW; weight decay skips biases, norms and embeddings' padding.

    Decaying LayerNorm gains and biases only hurts, so, as in nanoGPT, only matrices
    (dim >= 2: linear weights, embeddings) are decayed.
    """
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    try:
        # fused: one kernel for the whole update, about 3x faster than foreach on a CPU.
        return cls(groups, lr=cfg.lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # a device or dtype without a fused kernel
        return cls(groups, lr=cfg.lr, foreach=True)


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


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    predictions: list[int]
    labels: list[int]


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


def encode_with_checkpoint_encoder(data: Any, folder: Path, max_seq_len: int) -> Any:
    """The data re-encoded with the tokenizer saved in the checkpoint.

    The weights were trained on that tokenizer's ids; one trained again on the same texts may
    number its tokens differently, which would silently scramble the embedding table.
    """
    from core.data.prepare import EncodedSplit, encode_texts
    from core.data.tokenization import load_encoder

    encoder = load_encoder(folder)

    def encode(split: Any) -> Any:
        return EncodedSplit(split.texts, encode_texts(encoder, split.texts, max_seq_len), split.labels)

    return dataclasses.replace(data, train=encode(data.train), val=encode(data.val), encoder=encoder)


class PendingLog:
    """Training numbers gathered since the last StepLogged (log points may be throttled)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.loss_sum = 0.0
        self.steps = 0
        self.samples = 0
        self.tokens = 0


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
