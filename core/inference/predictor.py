"""Batched, length-bucketed prediction: texts in, class probabilities out, in input order.

All texts are tokenized in one call (the fast tokenizers batch in Rust), sorted by length and
cut into batches by a token budget, so a batch of short texts holds many rows and no row pays
for a much longer neighbour's padding. The forward passes run under ``torch.inference_mode``
with the thread count training uses.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from core.data.batching import pad, token_budget_batches
from core.inference.loading import Classifier

# Tokens (rows x padded width) per forward pass: large enough that a CPU's matrix kernels run
# at full speed on short texts, small enough that attention over long ones stays in cache.
DEFAULT_MAX_TOKENS = 8192
DEFAULT_BATCH_SIZE = 256  # rows per forward pass at most, however short the texts

Progress = Callable[[int, int], None]  # (rows done, rows in all)


def _scores(logits: torch.Tensor, function: str) -> torch.Tensor:
    logits = logits.float()  # (B, C); fp16/bf16 models score in float32, as pipeline() does
    if function == "softmax":
        return logits.softmax(dim=-1)
    if function == "sigmoid":
        return logits.sigmoid()
    return logits


def iter_batches(classifier: Classifier, texts: list[str], max_tokens: int = DEFAULT_MAX_TOKENS,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[tuple[list[int], np.ndarray]]:
    """(row indices, scores (B, C)) per forward pass, in length order rather than input order."""
    from core.training.devices import configure_threads

    configure_threads()
    ids = classifier.tokenize(list(texts))
    device = classifier.device
    non_blocking = device.type == "cuda"
    with torch.inference_mode():
        for batch in token_budget_batches([len(r) for r in ids], max_tokens, batch_size):
            input_ids, mask = pad([ids[i] for i in batch], classifier.pad_id)
            logits = classifier.forward(input_ids.to(device, non_blocking=non_blocking),
                                        mask.to(device, non_blocking=non_blocking))
            yield batch, _scores(logits, classifier.score).cpu().numpy()


def predict_proba(classifier: Classifier, texts: Sequence[str], *, max_tokens: int = DEFAULT_MAX_TOKENS,
                  batch_size: int = DEFAULT_BATCH_SIZE, progress: Progress | None = None) -> np.ndarray:
    """Scores (N, C) float32, row i for ``texts[i]``; columns follow ``classifier.label_names``.

    Softmax probabilities for a usual classifier (sigmoid or raw logits where pipeline() would
    use them). ``progress(done, total)`` is called after every batch.
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    out = np.zeros((len(texts), len(classifier.label_names)), dtype=np.float32)
    done = 0
    for batch, scores in iter_batches(classifier, texts, max_tokens, batch_size):
        out[batch] = scores
        done += len(batch)
        if progress is not None:
            progress(done, len(texts))
    return out


def top_labels(classifier: Classifier, scores: np.ndarray) -> tuple[list[str], list[float]]:
    """The best label and its score for every row of ``predict_proba``'s result."""
    best = scores.argmax(axis=1) if len(scores) else np.zeros(0, dtype=np.int64)
    names = classifier.label_names
    return [names[i] for i in best], [float(s) for s in scores[np.arange(len(scores)), best]]
