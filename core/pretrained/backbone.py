"""A pretrained Hugging Face encoder with a classification head, as a workbench model.

``BackboneClassifier`` wraps ``AutoModelForSequenceClassification`` behind the interface the
trainer, the checkpoints and the predictors use: ``forward(input_ids, attention_mask) -> logits``
(B, C) on the workbench encoder's ids (padding is 0; a tokenizer whose pad id is not 0 had its
pad id swapped with 0, which ``forward`` undoes). The checkpoint holds its config as
``backbone_config.json``, so it loads without the backbone folder it started from.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.config import ModelConfig, RunConfig, TrainConfig
from core.errors import UserError

CONFIG_FILE = "backbone_config.json"


class BackboneClassifier(nn.Module):
    def __init__(self, hf_model: nn.Module, pad_swap: int = 0):
        super().__init__()
        self.hf = hf_model
        self.pad_swap = int(pad_swap)

    def _tokenizer_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        if not self.pad_swap:
            return input_ids
        swap = self.pad_swap
        return torch.where(input_ids == 0, swap, torch.where(input_ids == swap, 0, input_ids))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.hf(input_ids=self._tokenizer_ids(input_ids), attention_mask=attention_mask.long()).logits  # (B, C)

    def logits_and_attention(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        """Logits (B, C) and attention weights (B, L, H, T, T), for the attention viewer.

        Switches this model to eager attention (SDPA returns no weights): call it on a snapshot
        or a loaded checkpoint, never on the model being trained."""
        model = self.plain_model()
        if getattr(model.config, "_attn_implementation", None) != "eager":
            model.set_attn_implementation("eager")
        out = self.hf(input_ids=self._tokenizer_ids(input_ids), attention_mask=attention_mask.long(),
                      output_attentions=True)
        return out.logits, torch.stack(out.attentions, dim=1)

    @property
    def hf_config(self) -> Any:
        return self.plain_model().config

    def plain_model(self) -> nn.Module:
        """The transformers model itself (under LoRA, the wrapped base model)."""
        model = self.hf
        return model.get_base_model() if hasattr(model, "get_base_model") else model

    def write_architecture(self, folder: Path) -> None:
        """Called by save_checkpoint: what rebuilds this model without the backbone folder."""
        (folder / CONFIG_FILE).write_text(self.hf_config.to_json_string(), encoding="utf-8")

    def parameter_groups(self, cfg: TrainConfig) -> list[dict[str, Any]]:
        """Trainable parameters by learning-rate scale: the head at train.head_lr, layer i of n at
        lr * layer_lr_decay ** (n - i), the embeddings as layer 0."""
        from core.pretrained.layers import layer_index

        head_scale = cfg.head_lr / cfg.lr if cfg.head_lr > 0 else 1.0
        num_layers = int(getattr(self.hf_config, "num_hidden_layers", 0) or 0)
        groups: dict[float, list[nn.Parameter]] = {}
        for name, param in self.named_parameters():
            if not param.requires_grad:
                continue
            index = layer_index(name, self.plain_model())
            if index is None:  # the head (and LoRA's copy of it)
                scale = head_scale
            else:
                scale = cfg.layer_lr_decay ** (num_layers - index) if cfg.layer_lr_decay != 1.0 else 1.0
            groups.setdefault(scale, []).append(param)
        return [{"params": params, "lr_scale": scale} for scale, params in sorted(groups.items())]


def _labels(label_names: list[str]) -> dict[str, Any]:
    id2label = dict(enumerate(label_names))
    return {"num_labels": len(label_names), "id2label": id2label, "label2id": {v: k for k, v in id2label.items()}}


def _quiet() -> None:
    import transformers

    transformers.logging.set_verbosity_error()  # its load report would scribble over the terminal UI
    transformers.logging.disable_progress_bar()


def build_backbone(cfg: RunConfig, label_names: list[str], pad_swap: int = 0) -> BackboneClassifier:
    """The backbone's pretrained body with a new head for ``label_names``, frozen and LoRA-wrapped
    as the config says."""
    from transformers import AutoModelForSequenceClassification

    from core.pretrained.locate import locate_backbone

    source = locate_backbone(cfg.model.backbone, cfg.model.trust_remote_code)
    _quiet()
    try:
        hf = AutoModelForSequenceClassification.from_pretrained(
            str(source.folder), **_labels(label_names), ignore_mismatched_sizes=True,
            trust_remote_code=cfg.model.trust_remote_code, local_files_only=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot load backbone {cfg.model.backbone!r}: {first}",
                        "check that the folder holds a complete model (config, weights, tokenizer)") from None
    return _finish(hf, cfg, pad_swap)


def _finish(hf: nn.Module, cfg: RunConfig, pad_swap: int) -> BackboneClassifier:
    from core.pretrained.layers import freeze

    freeze(hf, cfg.train)
    if cfg.model.lora_rank:
        from core.pretrained.lora import add_lora

        hf = add_lora(hf, cfg.model)
    return BackboneClassifier(hf, pad_swap)


def backbone_from_checkpoint(folder: Path, cfg: RunConfig, label_names: list[str], pad_swap: int = 0,
                             device: str | torch.device | None = None) -> BackboneClassifier:
    """The model a backbone checkpoint holds, built from its config (weights not loaded: the
    caller loads them, so a damaged file is reported in one place). ``device="meta"`` builds it
    without memory, to check a weights file's shapes."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    path = Path(folder) / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        model_type = data.pop("model_type")
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise UserError(f"cannot read {path}: {exc}", "the checkpoint is damaged; use another one") from None
    _quiet()
    config = AutoConfig.for_model(model_type, **data)
    config.update(_labels(label_names))
    with torch.device(device or "cpu"):
        hf = AutoModelForSequenceClassification.from_config(config, trust_remote_code=cfg.model.trust_remote_code)
    return _finish(hf, cfg, pad_swap)


def backbone_sizes(model_cfg: ModelConfig) -> dict[str, int]:
    """The backbone's real sizes for the scratch-only fields of the form (emb_dim, n_heads, ...)."""
    from core.pretrained.locate import locate_backbone

    return locate_backbone(model_cfg.backbone, model_cfg.trust_remote_code).sizes
