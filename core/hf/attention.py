"""Attention of any local Hugging Face model for one text, as an ``AttentionView``.

Models load with ``attn_implementation="eager"``: the fused SDPA kernels that transformers
prefers return no weights. Encoders, decoders (their maps are lower-triangular: ``causal``)
and the encoder of encoder-decoder models are supported, as are folders exported from the
workbench. Loaded models are cached like the console's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import UserError

# Upper-triangle weights below this are "zero": a decoder's causal mask gives exactly 0 after
# softmax, an encoder never gets that close everywhere.
_CAUSAL_EPS = 1e-6


@dataclass
class _AttentionModel:
    tokenizer: Any
    model: Any
    config: Any
    kind: str  # "workbench" | "classifier" | "encoder-decoder" | "base"


def attention_of_model(model_ref: str, text: str, classifiers: dict[str, Any] | None = None):
    """The ``AttentionView`` of ``text`` from a workbench checkpoint folder (or a run's folder)
    or, when the folder holds a config.json, a Hugging Face model folder.

    ``classifiers`` caches loaded checkpoints by reference (the attention pane keeps one);
    Hugging Face models are cached by ``hf_attention`` itself."""
    from pathlib import Path

    from core.attention import attention_for_text

    if not (model_ref or "").strip():
        raise UserError("no model given", "give a checkpoint folder or a local Hugging Face model folder")
    if (Path(model_ref).expanduser() / "config.json").is_file():
        return hf_attention(model_ref, text)
    cache = classifiers if classifiers is not None else {}
    loaded = cache.get(model_ref)
    if loaded is None:
        from core.training.checkpoint import load_classifier
        loaded = cache[model_ref] = load_classifier(Path(model_ref).expanduser())
    return attention_for_text(loaded.model, loaded.encoder, text, loaded.max_seq_len, loaded.label_names)


def hf_attention(model_ref: str, text: str, trust_remote_code: bool = False):
    """The attention weights (L, H, T, T) of the model at model_ref (folder or cached hub id) for text."""
    import numpy as np
    import torch

    from core.attention import AttentionView
    from core.hf.pipelines.models import resolve_model
    from core.hf.pipelines.text_limits import model_limit

    if not (model_ref or "").strip():
        raise UserError("no model given", "type a local Hugging Face model folder or a cached model id")
    if not text.strip():
        raise UserError("the text is empty", "type a sentence to see how the model attends to it")
    ref = resolve_model(model_ref, "")
    loaded = load_attention_model(ref, trust_remote_code)
    tokenizer, model = loaded.tokenizer, loaded.model

    limit = model_limit(tokenizer, loaded.config)
    full = tokenizer(text)["input_ids"]
    encoded = tokenizer(text, truncation=bool(limit), max_length=limit, return_tensors="pt")
    truncated = max(0, len(full) - encoded["input_ids"].shape[1])
    ids = encoded["input_ids"].to(model.device)  # (1, T)
    mask = encoded.get("attention_mask", torch.ones_like(encoded["input_ids"])).to(model.device)  # (1, T)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())
    prediction = None
    with torch.inference_mode():
        if loaded.kind == "workbench":
            wb_ids, wb_mask = model.workbench_inputs(ids, mask)
            logits = model.workbench(wb_ids, wb_mask)  # (1, C)
            maps = model.workbench.attention_maps(wb_ids, wb_mask)[0]  # (L, H, T', T')
            if maps.shape[-1] == wb_ids.shape[1] + 1:  # cls pooling: [CLS] comes first
                tokens = ["[CLS]", *tokens]
            tokens = tokens[: maps.shape[-1]]
            weights = maps.float().cpu().numpy()
        else:
            if loaded.kind == "encoder-decoder":
                output = model.get_encoder()(input_ids=ids, attention_mask=mask, output_attentions=True)
            else:
                output = model(input_ids=ids, attention_mask=mask, output_attentions=True)
            attentions = getattr(output, "attentions", None) or getattr(output, "encoder_attentions", None)
            if not attentions:
                raise UserError(f"model {ref.name!r} does not return attention weights",
                                "choose a Transformer model whose architecture supports output_attentions")
            weights = torch.stack([a[0] for a in attentions]).float().cpu().numpy()  # (L, H, T, T)
            logits = getattr(output, "logits", None) if loaded.kind == "classifier" else None
        if logits is not None:
            probs = logits.float().softmax(dim=-1)[0].cpu().tolist()
            id2label = getattr(loaded.config, "id2label", None) or {}
            prediction = {str(id2label.get(i, i)): float(p) for i, p in enumerate(probs)}
    weights = np.ascontiguousarray(weights, dtype=np.float32)
    return AttentionView(tokens=tokens, weights=weights, source=ref.name, causal=_is_causal(weights),
                         prediction=prediction, truncated=truncated)


def _is_causal(weights) -> bool:
    """True when every query attends only to itself and earlier tokens (a decoder's maps)."""
    import numpy as np

    T = weights.shape[-1]
    if T < 2:
        return False
    upper = np.triu(np.ones((T, T), dtype=bool), k=1)
    return bool(np.abs(weights[..., upper]).max() < _CAUSAL_EPS)


def load_attention_model(ref, trust_remote_code: bool) -> _AttentionModel:
    """The tokenizer and eager-attention model of a resolved model reference (cached)."""
    from core.hf.pipelines.loading import (cached, device_for_pipelines, load_config, quiet_transformers,
                                           require_tokenizer_files, translate_load_errors)

    def build() -> _AttentionModel:
        quiet_transformers()
        config = load_config(ref, trust_remote_code)
        require_tokenizer_files(ref)
        from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

        from core.hf.classifier import MODEL_TYPE

        archs = getattr(config, "architectures", None) or []
        with translate_load_errors(ref, trust_remote_code):
            tokenizer = AutoTokenizer.from_pretrained(ref.location, trust_remote_code=trust_remote_code)
            if config.model_type == MODEL_TYPE:
                kind, model = "workbench", AutoModelForSequenceClassification.from_pretrained(ref.location)
            elif any(a.endswith("ForSequenceClassification") for a in archs):
                kind = "classifier"
                model = AutoModelForSequenceClassification.from_pretrained(
                    ref.location, attn_implementation="eager", trust_remote_code=trust_remote_code)
            else:
                kind = "encoder-decoder" if getattr(config, "is_encoder_decoder", False) else "base"
                model = AutoModel.from_pretrained(ref.location, attn_implementation="eager",
                                                  trust_remote_code=trust_remote_code)
        model.to(device_for_pipelines()).eval()
        return _AttentionModel(tokenizer, model, config, kind)

    return cached(("attention", ref.location, trust_remote_code), build)
