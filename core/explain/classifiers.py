"""One interface over the classifiers the workbench explains.

The attribution, rollout, faithfulness and Q/K/V code sees only ``Explainable``: token ids in,
logits out, the embedding layer to attribute at, attention maps for rollout and a layer's
query, key and value vectors (the Q/K/V panel). Two implementations: the workbench's ``TransformerClassifier``
(a snapshot of the model being trained, a checkpoint, or a folder exported to Hugging Face
format) and Hugging Face sequence classifiers (loaded with eager attention so they return
their weights).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import Tensor

from core.attention import CLS_TOKEN
from core.errors import UserError


@dataclass
class Encoded:
    """One text as the model takes it, with what is needed to perturb it."""

    tokens: list[str]  # one per position the scores cover
    input_ids: Tensor  # (1, T) long
    mask: Tensor  # (1, T)
    baseline_ids: Tensor  # (1, T): padding in place of every token but the special ones
    special: list[bool]  # (T,): kept in every baseline and every perturbation
    truncated: int = 0


def _check_text(text: str) -> None:
    if not text.strip():
        raise UserError("the text is empty", "type a sentence to explain the model's prediction for it")


class WorkbenchExplainable:
    """The workbench classifier. Its [CLS] vector (cls pooling) is a parameter, not a token, so
    the scores cover the text's tokens; rollout reads the [CLS] row when the model pools it."""

    def __init__(self, model: Any, encoder: Any, label_names: Sequence[str], max_seq_len: int,
                 source: str = "workbench model", token_of: Any = None) -> None:
        self.model = model
        self.encoder = encoder
        self.label_names = list(label_names)
        self.max_seq_len = min(max_seq_len, model.cfg.max_seq_len)
        self.source = source
        self._token_of = token_of or encoder.id_to_token

    @property
    def embedding_layer(self) -> torch.nn.Module:
        return self.model.embedding

    def encode(self, text: str) -> Encoded:
        _check_text(text)
        ids = list(self.encoder.encode(text))
        if not ids:
            raise UserError(f"the tokenizer turned {text!r} into no tokens", "try a text with words in it")
        truncated = max(0, len(ids) - self.max_seq_len)
        ids = ids[: self.max_seq_len]
        return self._encoded(ids, truncated)

    def _encoded(self, ids: list[int], truncated: int) -> Encoded:
        device = next(self.model.parameters()).device
        input_ids = torch.tensor([ids], dtype=torch.long, device=device)  # (1, T)
        return Encoded(tokens=[self._token_of(i) for i in ids], input_ids=input_ids,
                       mask=torch.ones_like(input_ids, dtype=torch.bool),
                       baseline_ids=torch.zeros_like(input_ids),  # PAD_ID: a zero embedding
                       special=[False] * len(ids), truncated=truncated)

    def logits(self, input_ids: Tensor, mask: Tensor) -> Tensor:
        return self.model(input_ids, mask)  # (B, C)

    def attention(self, input_ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, int]:
        """Logits (1, C), the weights (L, H, T', T') and how many leading positions are not tokens."""
        logits, maps = self.model.logits_and_attention(input_ids, mask)
        return logits, maps[0], maps.shape[-1] - input_ids.shape[1]

    @property
    def pooled_position(self) -> int | None:
        """The position the head reads ([CLS]: 0), or None for mean pooling."""
        return 0 if self.model.use_cls else None

    def head_projections(self, enc: Encoded, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """q, k, v (H, T', D) of ``layer`` (its own projection of the hidden states entering it)
        and the keys it may attend to (T',): all of them, one text has no padding."""
        from core.explain.qkv import check_layer

        layers = self.model.layers
        check_layer(layer, len(layers))
        entering: list[Tensor] = []
        handle = layers[layer].register_forward_pre_hook(lambda _m, args: entering.append(args[0].detach()))
        was = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                self.logits(enc.input_ids, enc.mask)
                q, k, v = layers[layer].self_attn.heads(entering[0])  # (1, H, T', D) each
        finally:
            handle.remove()
            self.model.train(was)
        return q[0], k[0], v[0], torch.ones(q.shape[2], dtype=torch.bool)

    def position_names(self, enc: Encoded) -> list[str]:
        """Names of every position the attention maps have ([CLS] first with cls pooling)."""
        return [CLS_TOKEN, *enc.tokens] if self.model.use_cls else list(enc.tokens)


class HFExplainable:
    """A Hugging Face sequence classifier; special tokens ([CLS], [SEP]) are kept in baselines."""

    def __init__(self, tokenizer: Any, model: Any, config: Any, source: str) -> None:
        from core.hf.pipelines.text_limits import model_limit

        self.tokenizer, self.model, self.source = tokenizer, model, source
        id2label = getattr(config, "id2label", None) or {}
        self.label_names = [str(id2label.get(i, i)) for i in range(model.config.num_labels)]
        self.limit = model_limit(tokenizer, config)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.pooled_position = 0  # BERT-style heads read the first token

    @property
    def embedding_layer(self) -> torch.nn.Module:
        return self.model.get_input_embeddings()

    def encode(self, text: str) -> Encoded:
        _check_text(text)
        full = self.tokenizer(text)["input_ids"]
        encoded = self.tokenizer(text, truncation=bool(self.limit), max_length=self.limit, return_tensors="pt")
        ids = encoded["input_ids"].to(self.model.device)  # (1, T)
        specials = set(self.tokenizer.all_special_ids)
        special = [i in specials for i in ids[0].tolist()]
        baseline = ids.clone()
        baseline[0, [i for i, s in enumerate(special) if not s]] = self.pad_id
        mask = encoded.get("attention_mask", torch.ones_like(encoded["input_ids"])).to(self.model.device)
        return Encoded(tokens=self.tokenizer.convert_ids_to_tokens(ids[0].tolist()), input_ids=ids, mask=mask,
                       baseline_ids=baseline, special=special, truncated=max(0, len(full) - ids.shape[1]))

    def logits(self, input_ids: Tensor, mask: Tensor) -> Tensor:
        return self.model(input_ids=input_ids, attention_mask=mask).logits  # (B, C)

    def attention(self, input_ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, int]:
        with torch.no_grad():
            out = self.model(input_ids=input_ids, attention_mask=mask, output_attentions=True)
        if not out.attentions:
            raise UserError(f"model {self.source!r} returns no attention weights",
                            "load it with attn_implementation='eager' (the workbench does for folders it loads)")
        return out.logits, torch.stack([a[0] for a in out.attentions]), 0  # (L, H, T, T)

    def head_projections(self, enc: Encoded, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """q, k, v (H, T, D) of ``layer`` and the keys the mask keeps (T,); BERT-family encoders
        only, anything else is refused with its model type."""
        from core.explain.hf_qkv import hf_head_projections

        return hf_head_projections(self.model, enc.input_ids, enc.mask, layer)

    def position_names(self, enc: Encoded) -> list[str]:
        return list(enc.tokens)


def workbench_explainable(target: Any, source: str = "workbench model") -> WorkbenchExplainable:
    """From a ClassifierSnapshot or a LoadedClassifier (anything with model, encoder, label_names,
    max_seq_len)."""
    return WorkbenchExplainable(target.model, target.encoder, target.label_names, target.max_seq_len, source)


def hf_explainable(model_ref: str, trust_remote_code: bool = False) -> WorkbenchExplainable | HFExplainable:
    """A local Hugging Face classifier folder (or a cached hub id), exported workbench models included."""
    from core.hf.attention import load_attention_model
    from core.hf.pipelines.models import resolve_model

    if not (model_ref or "").strip():
        raise UserError("no model given", "type a local Hugging Face classifier folder or a cached model id")
    ref = resolve_model(model_ref, "")
    loaded = load_attention_model(ref, trust_remote_code)
    if loaded.kind == "workbench":
        return _exported_workbench(loaded, ref.name)
    if loaded.kind != "classifier":
        raise UserError(f"model {ref.name!r} is not a sequence classifier, so it has no prediction to explain",
                        "choose a model fine-tuned for text classification (its architecture ends in ForSequenceClassification)")
    return HFExplainable(loaded.tokenizer, loaded.model, loaded.config, ref.name)


def _exported_workbench(loaded: Any, name: str) -> WorkbenchExplainable:
    """An exported workbench folder: its own tokenizer file, the inner TransformerClassifier."""
    tokenizer, wrapper = loaded.tokenizer, loaded.model
    cfg = wrapper.config

    class _Encoder:  # tokenizer ids -> the ids the workbench model saw in training (the pad swap)
        def encode(self, text: str) -> list[int]:
            full = tokenizer(text, add_special_tokens=False)["input_ids"]
            kept = wrapper.workbench_inputs(torch.tensor([full], dtype=torch.long))[0][0].tolist()
            # workbench_inputs cuts at max_seq_len; the raw tail only counts the tokens cut.
            return kept + full[len(kept):]

    def token_of(i: int) -> str:
        i = cfg.pad_swap if cfg.pad_swap and i == 0 else (0 if cfg.pad_swap and i == cfg.pad_swap else i)
        return tokenizer.convert_ids_to_tokens(i)

    id2label = getattr(cfg, "id2label", None) or {}
    labels = [str(id2label.get(i, i)) for i in range(cfg.num_labels)]
    # The wrapper truncates to max_seq_len too; the encoder is given the whole text to count the cut.
    return WorkbenchExplainable(wrapper.workbench, _Encoder(), labels, cfg.max_seq_len, name, token_of)


def explainable_at(model_ref: str, cache: dict[str, Any] | None = None) -> WorkbenchExplainable | HFExplainable:
    """A checkpoint (or run) folder or a Hugging Face classifier folder; checkpoints are kept in
    ``cache`` by reference (Hugging Face models have their own cache)."""
    from pathlib import Path

    path = Path(model_ref).expanduser()
    if (path / "config.json").is_file():
        return hf_explainable(model_ref)
    from core.training.checkpoint import load_classifier

    cache = {} if cache is None else cache
    loaded = cache.get(model_ref)
    if loaded is None:
        loaded = cache[model_ref] = load_classifier(path)
    return workbench_explainable(loaded, source=model_ref)
