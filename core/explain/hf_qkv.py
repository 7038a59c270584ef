"""The query, key and value vectors of one layer of a Hugging Face encoder, for the Q/K/V panel.

Recomputed from the layer's own Linear projections applied to the hidden states entering it
(``output_hidden_states``: entry i is the input of layer i), so the panel's arithmetic is the
model's. Only architectures whose eager attention is exactly softmax(q.k / sqrt(d) + mask) are
listed: anything else (relative positions, disentangled attention, ...) would show numbers
that do not add up to the heatmap's weight.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from core.errors import UserError
from core.explain.qkv import check_layer


def _bert_style(block: Any) -> tuple[Any, Any, Any]:
    attention = block.attention.self
    return attention.query, attention.key, attention.value


def _distilbert(block: Any) -> tuple[Any, Any, Any]:
    return block.attention.q_lin, block.attention.k_lin, block.attention.v_lin


# model_type -> a layer block's query, key and value Linear layers
_PROJECTIONS = {"bert": _bert_style, "roberta": _bert_style, "xlm-roberta": _bert_style,
               "distilbert": _distilbert}


def hf_head_projections(model: Any, input_ids: Tensor, mask: Tensor, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """q, k, v (H, T, D) of ``layer`` for one text, and which keys the mask lets it attend to (T,)."""
    model_type = model.config.model_type
    projections = _PROJECTIONS.get(model_type)
    if projections is None:
        raise UserError(f"the Q/K/V panel is not supported for {model_type} models",
                        "it reads BERT, MiniLM, RoBERTa, XLM-R and DistilBERT encoders and the workbench's own "
                        "model; the heatmap itself works for this model")
    base = model.base_model
    blocks = base.transformer.layer if model_type == "distilbert" else base.encoder.layer
    check_layer(layer, len(blocks))
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
        entering = out.hidden_states[layer][0]  # (T, E): the input of this layer
        heads = model.config.num_attention_heads
        q, k, v = (proj(entering).view(entering.shape[0], heads, -1).transpose(0, 1)
                   for proj in projections(blocks[layer]))  # (H, T, D) each
    return q, k, v, mask[0].bool()
