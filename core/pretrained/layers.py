"""Which part of a transformers encoder a parameter belongs to, for freezing and layer-wise rates.

Names follow transformers' conventions: ``<base>.embeddings.*`` (position 0), then
``<base>.encoder.layer.<i>.*`` (BERT, RoBERTa, MiniLM), ``.transformer.layer.<i>.`` (DistilBERT),
``.layers.<i>.``, ``.h.<i>.`` or ``.block.<i>.`` (position i + 1); everything else (pooler,
classifier, LoRA's copy of the head) is the head.
"""
from __future__ import annotations

import re

from torch import nn

from core.config import TrainConfig
from core.errors import UserError

_LAYER = re.compile(r"\.(?:layer|layers|h|block)\.(\d+)\.")


def layer_index(name: str, model: nn.Module | None = None) -> int | None:
    """0 for the embeddings, i + 1 for encoder layer i, None for the head."""
    match = _LAYER.search(name)
    if match:
        return int(match.group(1)) + 1
    if ".embeddings." in f".{name}" or name.startswith("embeddings."):
        return 0
    return None


def num_layers(model: nn.Module) -> int:
    config = getattr(model, "config", None)
    return int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layers", 0) or 0)


def freeze(model: nn.Module, cfg: TrainConfig) -> None:
    """train.freeze_embeddings and train.freeze_layers: those parameters stop learning."""
    total = num_layers(model)
    if cfg.freeze_layers > total:
        raise UserError(f"train.freeze_layers is {cfg.freeze_layers} but the backbone has {total} layers",
                        f"set it to at most {total}")
    if not cfg.freeze_embeddings and not cfg.freeze_layers:
        return
    for name, param in model.named_parameters():
        index = layer_index(name)
        if index is None:
            continue
        if (index == 0 and cfg.freeze_embeddings) or 1 <= index <= cfg.freeze_layers:
            param.requires_grad_(False)
