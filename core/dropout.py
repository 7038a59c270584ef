"""Dropout with a cheaper random mask on the CPU: the same layer as ``nn.Dropout``, drawn faster.

On a CPU, ``nn.Dropout`` draws one Mersenne-Twister number per element (``bernoulli_``), and
for the tutorial's model on SST-2 that made up about half of a training step. Here one 64-bit
draw gives four 16-bit numbers, and an element is dropped when its number falls below
``p * 65536`` of the 65,536 values: the probability of dropping is ``p`` rounded to 1/65536
(0.1 becomes 0.100006), and what is kept is scaled by ``1 / (1 - p)``, as ``nn.Dropout`` does.
The draws come from torch's default generator, so ``torch.manual_seed`` and a checkpoint's saved
RNG state repeat them exactly. On CUDA, whose own dropout is fast, ``F.dropout`` is used.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

_LEVELS = 1 << 16  # values of one 16-bit draw
_INT64_MIN = -(1 << 63)  # random_(from=this, to=None) draws all 64 bits


def keep_mask(shape: torch.Size, p: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """0 where dropped, 1 / (1 - p) where kept; ``shape``, ``dtype``. Each element is dropped
    with probability round(p * 65536) / 65536, independently."""
    n = shape.numel()
    draws = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_(_INT64_MIN, None)
    numbers = draws.view(torch.int16)[:n].view(shape)  # uniform over -32768..32767
    # The comparison writes 1.0 / 0.0 straight into the mask's dtype: a bool mask and a cast
    # would be one more pass over it (about a tenth of the mask's cost, measured in a step).
    keep = torch.empty(shape, dtype=dtype, device=device)
    torch.ge(numbers, round(p * _LEVELS) - _LEVELS // 2, out=keep)
    return keep.mul_(1.0 / (1.0 - p))


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """``F.dropout(x, p, training)``, with the cheaper mask on the CPU."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0:
        return F.dropout(x, p, training=True)
    return x * keep_mask(x.shape, p, x.dtype, x.device)


class Dropout(nn.Module):
    """``nn.Dropout`` (no parameters, so checkpoints are unchanged), with the cheaper mask."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
