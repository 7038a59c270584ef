"""Attention of one text, as plain numbers for the viewer: tokens and a (L, H, T, T) array.

``AttentionView`` is what the attention pane draws, whatever produced it (the workbench's own
classifier here, a Hugging Face model in ``core/hf/attention.py``). It holds no tensors, only
strings, floats and a read-only float32 numpy array, so it is safe to hand across threads and
to the UI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:  # torch loads with the model, not with the view: replay and the UI read views without it
    import torch

from core.errors import UserError

CLS_TOKEN = "[CLS]"
WORKBENCH_SOURCE = "workbench model"


class _Encoder(Protocol):
    def encode(self, text: str) -> list[int]: ...
    def id_to_token(self, i: int) -> str: ...


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == is elementwise
class AttentionView:
    tokens: list[str]  # real tokens only; "[CLS]" first with cls pooling
    weights: np.ndarray  # float32 (L, H, T, T): layer, head, query, key; rows sum to 1
    source: str = WORKBENCH_SOURCE  # "workbench model" or a Hugging Face model name
    causal: bool = False  # a decoder's maps: each token sees only those before it
    prediction: dict[str, float] | None = None  # label name -> probability
    truncated: int = 0  # tokens cut off the end of the text to fit max_seq_len

    def __post_init__(self) -> None:
        weights = np.array(self.weights, dtype=np.float32)  # a private copy, made read-only
        if weights.ndim != 4 or weights.shape[2] != weights.shape[3] or weights.shape[2] != len(self.tokens):
            raise ValueError(f"weights of shape {weights.shape} do not fit {len(self.tokens)} tokens; expected (L, H, T, T)")
        weights.setflags(write=False)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "tokens", list(self.tokens))

    @property
    def num_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def num_heads(self) -> int:
        return self.weights.shape[1]

    def to_record(self) -> dict[str, Any]:
        """Plain JSON data (for sessions and exports)."""
        return {
            "tokens": self.tokens, "weights": self.weights.tolist(), "source": self.source,
            "causal": self.causal, "prediction": self.prediction, "truncated": self.truncated,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "AttentionView":
        return cls(
            tokens=record["tokens"], weights=np.asarray(record["weights"], dtype=np.float32),
            source=record.get("source", WORKBENCH_SOURCE), causal=bool(record.get("causal", False)),
            prediction=record.get("prediction"), truncated=int(record.get("truncated", 0)),
        )


def attention_for_text(model: torch.nn.Module, encoder: _Encoder, text: str, max_seq_len: int,
                       label_names: Sequence[str] | None = None) -> AttentionView:
    """Tokenize ``text`` as in training, run the workbench classifier once, return its attention.

    Texts longer than ``max_seq_len`` tokens are truncated as in training (``truncated`` says
    how many tokens went). Labels default to "0", "1", ... when no names are given.
    """
    if not text.strip():
        raise UserError("the text is empty", "type a sentence to see how the model attends to it")
    ids = list(encoder.encode(text))
    if not ids:
        raise UserError(f"the tokenizer turned {text!r} into no tokens", "try a text with words in it")
    import torch

    limit = min(max_seq_len, getattr(getattr(model, "cfg", None), "max_seq_len", max_seq_len))
    truncated = max(0, len(ids) - limit)
    ids = ids[:limit]

    device = next(model.parameters()).device
    input_ids = torch.tensor([ids], dtype=torch.long, device=device)  # (1, T)
    mask = torch.ones_like(input_ids, dtype=torch.bool)  # (1, T): one text, no padding
    logits, maps = model.logits_and_attention(input_ids, mask)  # (1, C), (1, L, H, T', T')

    tokens = [encoder.id_to_token(i) for i in ids]
    if maps.shape[-1] == len(ids) + 1:  # cls pooling: the [CLS] position comes first
        tokens = [CLS_TOKEN, *tokens]
    probs = logits.float().softmax(dim=-1)[0].cpu().tolist()
    names = list(label_names) if label_names is not None else [str(i) for i in range(len(probs))]
    if len(names) != len(probs):
        raise ValueError(f"{len(names)} label names for a model with {len(probs)} classes")
    return AttentionView(
        tokens=tokens,
        weights=maps[0].float().cpu().numpy(),
        source=WORKBENCH_SOURCE,
        causal=False,
        prediction=dict(zip(names, probs)),
        truncated=truncated,
    )


def token_label(token: str) -> str:
    """A token as viewers show it (the terminal heatmap, saved images): as is, without quotes;
    one with no visible characters (an empty string, a lone space or newline) as a visible
    sign, never as ``''``."""
    if token and token.strip():
        return token
    return "␣" * max(1, len(token)) if token else "∅"


def _check_layer(view: AttentionView, layer: int) -> None:
    if not 0 <= layer < view.num_layers:
        raise IndexError(f"layer {layer} out of range: the model has {view.num_layers} layers (0..{view.num_layers - 1})")


def mean_over_heads(view: AttentionView, layer: int) -> np.ndarray:
    """(T, T) float32: one layer's attention averaged over its heads (rows still sum to 1)."""
    _check_layer(view, layer)
    return view.weights[layer].mean(axis=0)


def head_matrix(view: AttentionView, layer: int, head: int | None) -> np.ndarray:
    """(T, T) float32: one head's matrix, or the mean over heads when ``head`` is None."""
    if head is None:
        return mean_over_heads(view, layer)
    _check_layer(view, layer)
    if not 0 <= head < view.num_heads:
        raise IndexError(f"head {head} out of range: each layer has {view.num_heads} heads (0..{view.num_heads - 1})")
    return view.weights[layer, head]


def top_attended(view: AttentionView, layer: int, head: int | None, query: int, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` tokens ``query`` attends to most in that layer and head (None = mean over
    heads), highest first; ties keep sentence order."""
    matrix = head_matrix(view, layer, head)  # (T, T)
    if not 0 <= query < len(view.tokens):
        raise IndexError(f"token {query} out of range: the text has {len(view.tokens)} tokens")
    row = matrix[query]  # (T,)
    order = np.argsort(-row, kind="stable")[: max(0, k)]
    return [(view.tokens[j], float(row[j])) for j in order]
