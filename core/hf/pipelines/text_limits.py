"""Fitting inputs to a model's length limit, and turning results into plain Python."""
from __future__ import annotations

from typing import Any

# Tokenizers without a known limit report a huge sentinel (int(1e30)); such values mean "unknown".
_SANE_LIMIT = 1_000_000


def model_limit(tokenizer, config) -> int | None:
    """The most tokens the model takes in one input, or None when neither file says."""
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _SANE_LIMIT:
        return limit
    for name in ("max_position_embeddings", "n_positions", "max_seq_len"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def token_ids(tokenizer, text: str) -> list[int]:
    """The ids the model gets for text (special tokens included), without truncation.

    Uses the Rust tokenizer directly when it carries no truncation or padding of its own: the
    transformers wrapper costs a few hundred microseconds a call, which the console pays on
    every run.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.truncation is None and backend.padding is None:
        return backend.encode(text, add_special_tokens=True).ids
    return tokenizer(text)["input_ids"]


def fit_text(tokenizer, text: str, max_tokens: int, keep: str = "start") -> tuple[str, int]:
    """Cut text so it tokenizes to at most max_tokens (special tokens included).

    Returns the text (unchanged when it fits) and its original token count. keep="end" keeps the
    last tokens (a generation prompt continues from its end).
    """
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoded["input_ids"]
    special = tokenizer.num_special_tokens_to_add(pair=False)
    total = len(ids) + special
    room = max(1, max_tokens - special)
    if total <= max_tokens:
        return text, total
    offsets = encoded["offset_mapping"]
    if keep == "end":
        return text[offsets[len(ids) - room][0]:], total
    return text[: offsets[room - 1][1]], total


def truncation_notice(original: int, limit: int, model: str) -> str:
    return f"input truncated: {original} tokens, {model} takes at most {limit}"


def to_plain(value: Any) -> Any:
    """Recursively turn tensors, numpy arrays and numpy scalars into lists, floats and ints."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    if hasattr(value, "tolist"):  # numpy array or scalar
        return value.tolist()
    return str(value)
