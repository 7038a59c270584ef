"""Faithfulness of an attribution (DeYoung et al. 2020, ERASER) for one text.

comprehensiveness = p(x) - p(x without the top-k tokens): the prediction leans on them;
sufficiency       = p(x) - p(only the top-k tokens):    they carry it on their own (lower is better).
p is the probability of the explained class. Special tokens ([CLS], [SEP]) are never removed.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from core.explanation import Faithfulness


def probability(clf: Any, input_ids: torch.Tensor, mask: torch.Tensor, target: int) -> float:
    with torch.no_grad():
        return float(clf.logits(input_ids, mask).float().softmax(dim=-1)[0, target])


def _kept(clf: Any, enc: Any, positions: Sequence[int], target: int) -> float:
    index = torch.tensor(sorted(positions), dtype=torch.long, device=enc.input_ids.device)
    return probability(clf, enc.input_ids[:, index], enc.mask[:, index], target)


def top_positions(scores: Sequence[float], special: Sequence[bool], k: int) -> list[int]:
    """The ``k`` highest-scoring positions that are not special tokens (ties: sentence order)."""
    order = sorted((i for i in range(len(scores)) if not special[i]), key=lambda i: -scores[i])
    return order[:k]


def faithfulness(clf: Any, enc: Any, target: int, top: Sequence[int], p_full: float | None = None) -> Faithfulness:
    """The two figures for removing / keeping the token positions ``top``."""
    if p_full is None:
        p_full = probability(clf, enc.input_ids, enc.mask, target)
    chosen = set(top)
    specials = [i for i, s in enumerate(enc.special) if s]
    rest = [i for i in range(len(enc.special)) if i not in chosen]
    # Removing every token would leave nothing to classify: then the empty text's probability
    # is that of the baseline (padding), which is what "no evidence" means here.
    without = _kept(clf, enc, rest, target) if len(rest) > len(specials) else \
        probability(clf, enc.baseline_ids, enc.mask, target)
    only = _kept(clf, enc, sorted(chosen | set(specials)), target)
    return Faithfulness(k=len(chosen), comprehensiveness=p_full - without, sufficiency=p_full - only)
