"""The arithmetic of one attention weight, with the real numbers of a head of the model.

For the cell (query i, key j) of layer l, head h: the layer's own Q/K/V projection of the
hidden states entering layer l (the workbench model's ``SelfAttention.heads``, or a Hugging Face
encoder's Linear layers: core.explain.hf_qkv) gives
q_i (the question token i asks), k_j (the answer token j offers) and v_j (the information it
brings); the score is q_i . k_j / sqrt(d); softmax over the row turns the scores into weights;
the head's output for token i is the weights' mix of the values, sum_j w_ij v_j.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


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


def check_layer(layer: int, count: int) -> None:
    if not 0 <= layer < count:
        raise IndexError(f"layer {layer} out of range: the model has {count} layers")


def qkv_cell(clf: Any, enc: Any, layer: int, head: int, query: int, key: int) -> QKVCell:
    """The cell's numbers from ``clf.head_projections`` (an ``Explainable`` of core.explain.classifiers)."""
    q, k, v, keep = clf.head_projections(enc, layer)  # (H, T, D) each, (T,) keys the mask keeps
    if not 0 <= head < q.shape[0]:
        raise IndexError(f"head {head} out of range: each layer has {q.shape[0]} heads")
    q, k, v = q[head].double(), k[head].double(), v[head].double()  # (T, D)
    T, D = q.shape
    if not (0 <= query < T and 0 <= key < T):
        raise IndexError(f"cell ({query}, {key}) out of range: the map has {T} positions")
    scale = math.sqrt(D)
    # a masked key (padding) gets -inf: weight exactly 0, as the model's additive mask gives
    scores = ((k @ q[query]) / scale).masked_fill(~keep.to(q.device), float("-inf"))  # (T,)
    weights = scores.softmax(dim=-1)
    return QKVCell(layer=layer, head=head, query=query, key=key, tokens=clf.position_names(enc),
                   q=q[query].tolist(), k=k[key].tolist(), dot=float(q[query] @ k[key]), scale=scale,
                   scores=scores.tolist(), weights=weights.tolist(), values=v.tolist(),
                   output=(weights @ v).tolist())
