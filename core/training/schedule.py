"""Learning-rate schedule: linear warm-up, then constant, linear or cosine decay to 0.

A pure function of the global step, so resuming a run needs only the step number (no
scheduler object to pickle) and the TUI can plot the whole curve before training starts.
"""
from __future__ import annotations

import math

from core.config import TrainConfig


def lr_at(step: int, cfg: TrainConfig, total_steps: int) -> float:
    """Learning rate for optimizer step ``step`` (0-based: the rate used by the step about to run)."""
    base = cfg.lr
    warmup = warmup_steps(cfg, total_steps)
    if warmup and step < warmup:
        # (step + 1) so the very first step already moves: a rate of exactly 0 wastes a step.
        return base * (step + 1) / warmup
    if cfg.schedule == "constant":
        return base
    decay_steps = max(1, total_steps - warmup)
    progress = min(1.0, max(0.0, (step - warmup) / decay_steps))
    if cfg.schedule == "linear":
        return base * (1.0 - progress)
    if cfg.schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


def warmup_steps(cfg: TrainConfig, total_steps: int) -> int:
    """train.warmup_steps, or when it is 0, train.warmup_ratio of all steps (rounded up)."""
    if cfg.warmup_steps > 0:
        return cfg.warmup_steps
    return math.ceil(cfg.warmup_ratio * total_steps) if cfg.warmup_ratio > 0 else 0


def lr_curve(cfg: TrainConfig, total_steps: int) -> list[float]:
    """The rate of every step of a run, for plotting."""
    return [lr_at(s, cfg, total_steps) for s in range(total_steps)]
