"""The arithmetic of one attention weight, with the real numbers of a head of the model.

For the cell (query i, key j) of layer l, head h: the layer's own Q/K/V projection
(``SelfAttention.heads``) of the hidden states entering layer l gives
q_i (the question token i asks), k_j (the answer token j offers) and v_j (the information it
brings); the score is q_i . k_j / sqrt(d); softmax over the row turns the scores into weights;
the head's output for token i is the weights' mix of the values, sum_j w_ij v_j.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from core.errors import UserError


@dataclass(frozen=True)
class QKVCell:
    layer: int
    head: int
    query: int  # position in the attention map ([CLS] first with cls pooling)
    key: int
    tokens: list[str]  # every position's name
    q: list[float]  # (D,) the query vector of token ``query``
    k: list[float]  # (D,) the key vector of token ``key``
    dot: float  # q . k
    scale: float  # sqrt(D)
    scores: list[float]  # (T,) the row's scaled scores q . k_j / sqrt(D)
    weights: list[float]  # (T,) softmax of the scores: the row of the attention map
    values: list[list[float]]  # (T, D) every token's value vector
    output: list[float]  # (D,) sum_j weights[j] * values[j]

    @property
    def weight(self) -> float:
        return self.weights[self.key]

    @property
    def scaled(self) -> float:
        return self.scores[self.key]


def qkv_cell(clf: Any, enc: Any, layer: int, head: int, query: int, key: int) -> QKVCell:
    layers = clf.attention_layers()
    if not layers:
        raise UserError(f"the Q/K/V panel reads the workbench model's own projections; {clf.source!r} is not one",
                        "open it with the workbench's model: the one being trained, a checkpoint or an exported folder")
    if not 0 <= layer < len(layers):
        raise IndexError(f"layer {layer} out of range: the model has {len(layers)} layers")
    attn = layers[layer].self_attn
    if not 0 <= head < attn.n_heads:
        raise IndexError(f"head {head} out of range: each layer has {attn.n_heads} heads")
    entering: list[torch.Tensor] = []
    handle = layers[layer].register_forward_pre_hook(lambda _m, args: entering.append(args[0].detach()))
    was = clf.model.training
    clf.model.eval()
    try:
        with torch.no_grad():
            clf.logits(enc.input_ids, enc.mask)
            q, k, v = attn.heads(entering[0])  # (1, H, T, D) each: the layer's real projections
    finally:
        handle.remove()
        clf.model.train(was)
    q, k, v = q[0, head].double(), k[0, head].double(), v[0, head].double()  # (T, D)
    T, D = q.shape
    if not (0 <= query < T and 0 <= key < T):
        raise IndexError(f"cell ({query}, {key}) out of range: the map has {T} positions")
    scale = math.sqrt(D)
    scores = (k @ q[query]) / scale  # (T,): one text, no padding, so no key is masked
    weights = scores.softmax(dim=-1)
    return QKVCell(layer=layer, head=head, query=query, key=key, tokens=clf.position_names(enc),
                   q=q[query].tolist(), k=k[key].tolist(), dot=float(q[query] @ k[key]), scale=scale,
                   scores=scores.tolist(), weights=weights.tolist(), values=v.tolist(),
                   output=(weights @ v).tolist())
