"""Classification metrics from predicted and true class ids: plain numpy, no torch.

Precision, recall and F1 per class, accuracy and the confusion matrix, in the shape of
``core.events.ClassReportComputed`` so the trainer can hand them straight to its consumers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class ClassificationReport:
    accuracy: float
    precision: list[float]  # per class, in class-id order
    recall: list[float]
    f1: list[float]
    support: list[int]  # true examples of each class
    confusion: list[list[int]]  # confusion[true][predicted]


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """Counts of (true, predicted) pairs: rows are true classes, columns predictions."""
    t = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if t.size and (t.min() < 0 or p.min() < 0 or t.max() >= num_classes or p.max() >= num_classes):
        raise ValueError(f"class ids must be in [0, {num_classes})")
    # One bincount over the flattened (true, pred) index is much faster than a Python loop.
    flat = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # A class never predicted (or never present) gets 0, the usual convention, not NaN.
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def classification_report(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> ClassificationReport:
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)  # column sums: how often each class was predicted
    support = cm.sum(axis=1)  # row sums: how often each class is the truth
    precision = _safe_divide(tp, predicted)
    recall = _safe_divide(tp, support.astype(np.float64))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    total = int(cm.sum())
    accuracy = float(tp.sum() / total) if total else 0.0
    return ClassificationReport(
        accuracy=accuracy,
        precision=[float(x) for x in precision],
        recall=[float(x) for x in recall],
        f1=[float(x) for x in f1],
        support=[int(x) for x in support],
        confusion=[[int(v) for v in row] for row in cm],
    )


def accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    return float((t == p).mean()) if t.size else 0.0
