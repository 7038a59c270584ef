"""The model and batches ddp_step_worker (under torchrun) and its test (one process) share."""
import dataclasses
import random

from core.config import preset
from core.model import TransformerClassifier

# No dropout, so one process and two ranks draw nothing at random; clipping on, so it is
# applied to the gradients made dense again.
_BASE = preset("nano")
CONFIG = dataclasses.replace(_BASE, model=dataclasses.replace(_BASE.model, dropout=0.0, vocab_size=500),
                             train=dataclasses.replace(_BASE.train, grad_clip=0.5, optimizer="adamw",
                                                       weight_decay=0.01))


def new_model() -> TransformerClassifier:
    return TransformerClassifier(CONFIG.model, 2)


def global_batches() -> list[tuple[list[list[int]], list[int]]]:
    """Three global batches of 32 texts of 3 to 12 token ids (an even split over 2 ranks)."""
    rng = random.Random(7)
    return [([[rng.randrange(1, 500) for _ in range(rng.randrange(3, 13))] for _ in range(32)],
             [rng.randrange(2) for _ in range(32)]) for _ in range(3)]
