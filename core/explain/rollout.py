"""Attention rollout (Abnar & Zuidema 2020): how much each input token reaches each position.

Each layer's head-averaged attention is mixed with the identity for the residual connection,
A_hat = 0.5 * A + 0.5 * I, its rows renormalised, and the layers multiplied from the first up:
R = A_hat_L ... A_hat_1. Every row of R is a distribution over input tokens (it sums to 1).
"""
from __future__ import annotations

import numpy as np


def rollout(weights: np.ndarray) -> np.ndarray:
    """(L, H, T, T) attention weights -> (T, T) float64 rollout; row i: what position i holds
    of each input token after the last layer."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 4 or weights.shape[2] != weights.shape[3]:
        raise ValueError(f"attention of shape {weights.shape}; expected (L, H, T, T)")
    T = weights.shape[-1]
    result = np.eye(T)
    for layer in weights.mean(axis=1):  # (T, T) per layer, first to last
        mixed = 0.5 * layer + 0.5 * np.eye(T)
        mixed /= mixed.sum(axis=-1, keepdims=True)
        result = mixed @ result
    return result


def token_scores(rolled: np.ndarray, pooled: int | None, skip: int = 0) -> list[float]:
    """What the pooled vector holds of each token: the row of the position the head reads, or
    the mean of the rows when it averages them; the first ``skip`` columns (a [CLS] vector
    that is not a token) are left out."""
    row = rolled[pooled] if pooled is not None else rolled.mean(axis=0)
    return row[skip:].tolist()
