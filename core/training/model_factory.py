"""The model a run trains and a checkpoint holds: the scratch classifier or a pretrained backbone.

The trainer only calls ``build_model``; what it gets back is any ``nn.Module`` with
``forward(input_ids, attention_mask) -> logits`` (B, C). Optional hooks the loop and the
checkpoints use when a model has them: ``parameter_groups(train_cfg)`` (learning-rate scales)
and ``write_architecture(folder)`` (files besides the weights that rebuild it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from core.config import RunConfig
from core.pretrained.locate import is_scratch

# (config, prepared data) -> model; the Trainer takes another one for tests and experiments.
ModelFactory = Callable[[RunConfig, Any], nn.Module]


def build_model(cfg: RunConfig, data: Any) -> nn.Module:
    """A new model for ``data``'s classes and encoder."""
    if not is_scratch(cfg.model.backbone):
        from core.pretrained.backbone import build_backbone

        return build_backbone(cfg, list(data.label_names), pad_swap=_pad_swap(data.encoder))
    from core.model import TransformerClassifier

    # A pretrained tokenizer brings its own vocabulary, which may exceed model.vocab_size.
    vocab_size = max(cfg.model.vocab_size, data.encoder.vocab_size)
    return TransformerClassifier(cfg.model, len(data.label_names), vocab_size=vocab_size)


def model_for_checkpoint(folder: Path, cfg: RunConfig, label_names: list[str], shapes: dict[str, tuple] | None = None,
                         device: str | torch.device | None = None) -> nn.Module:
    """An untrained model of the shape a checkpoint's weights have (``shapes``: name -> shape of
    the saved tensors, for the embedding table's size); ``device="meta"`` takes no memory."""
    if not is_scratch(cfg.model.backbone):
        from core.data.tokenization import load_encoder
        from core.pretrained.backbone import backbone_from_checkpoint

        return backbone_from_checkpoint(folder, cfg, label_names, _pad_swap(load_encoder(folder)), device=device)
    from core.model import TransformerClassifier

    shape = (shapes or {}).get("embedding.weight", ())
    vocab_size = int(shape[0]) if len(shape) == 2 else None
    with torch.device(device or "cpu"):
        return TransformerClassifier(cfg.model, len(label_names), vocab_size=vocab_size)


def _pad_swap(encoder: Any) -> int:
    return int(getattr(encoder, "_swap", 0))
