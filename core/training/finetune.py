"""The loss of one optimizer step: gradient accumulation, class weights, label smoothing.

Accumulating k micro-batches must give the loss (and gradient) of the one large batch they
form. Averaging each micro-batch's mean loss is not that when they differ in size (the last
batch of an epoch, length buckets), nor with class weights, which normalise by the summed
weights of the targets (HF Trainer got this wrong until transformers PR #34191). So every
micro-batch's summed loss is divided by the whole step's normaliser: the number of examples,
or with class weights the sum of their targets' weights, as ``F.cross_entropy``'s mean does.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch
import torch.nn.functional as F

from core.config import TrainConfig


@dataclass
class MicroBatches:
    """The batches one optimizer step accumulates over; ``labels`` and ``num_tokens`` are the whole step's."""

    parts: list

    @property
    def labels(self) -> torch.Tensor:  # (B,) over all parts
        return torch.cat([p.labels for p in self.parts])

    @property
    def num_tokens(self) -> int:
        return sum(p.num_tokens for p in self.parts)

    def to(self, device: torch.device | str) -> "MicroBatches":
        return MicroBatches([p.to(device) for p in self.parts])

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)


def accumulate(batches: Iterable, steps: int) -> Iterator:
    """Batches grouped ``steps`` at a time (the last group may be shorter); unchanged for 1."""
    if steps <= 1:
        yield from batches
        return
    group: list = []
    for batch in batches:
        group.append(batch)
        if len(group) == steps:
            yield MicroBatches(group)
            group = []
    if group:
        yield MicroBatches(group)


def optimizer_steps(batches: int, accumulation: int) -> int:
    """Optimizer steps in an epoch of ``batches`` batches (the last step may take fewer)."""
    return -(-batches // max(1, accumulation))


def class_weights(cfg: TrainConfig, labels: list[int], num_classes: int,
                  device: torch.device | str = "cpu") -> torch.Tensor | None:
    """'balanced': n / (classes * count) per class, from the training split (as scikit-learn's);
    a class absent from it gets weight 0 (nothing to weigh)."""
    if cfg.class_weights != "balanced":
        return None
    counts = Counter(labels)
    n = len(labels)
    return torch.tensor([n / (num_classes * counts[c]) if counts.get(c) else 0.0 for c in range(num_classes)],
                        dtype=torch.float32, device=device)


def step_normaliser(parts: list, weight: torch.Tensor | None) -> torch.Tensor | float:
    """What the summed loss of all parts is divided by: examples, or their targets' summed weights."""
    if weight is None:
        return float(sum(len(p) for p in parts))
    return sum(weight[p.labels].sum() for p in parts)


def summed_loss(logits: torch.Tensor, labels: torch.Tensor, cfg: TrainConfig,
                weight: torch.Tensor | None) -> torch.Tensor:
    """Summed (not averaged) cross-entropy of one micro-batch, with the run's weights and smoothing."""
    return F.cross_entropy(logits.float(), labels, weight=weight, label_smoothing=cfg.label_smoothing,
                           reduction="sum")
