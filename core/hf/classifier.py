"""The workbench classifier as a Hugging Face architecture ("twb-classifier").

Importing this module registers the config and model with transformers' Auto classes, so an
exported folder loads with ``transformers.pipeline("text-classification", model=folder)`` or
``AutoModelForSequenceClassification.from_pretrained(folder)``. It imports torch and
transformers, so ``import core`` does not import it: ``import core.hf.classifier`` (or anything
in core.hf.pipelines / core.hf.export that loads models) registers the architecture.
"""
from __future__ import annotations

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from core.config import ModelConfig
from core.model import TransformerClassifier, sinusoidal_table
from core.pretrained.locate import SCRATCH_EXPORT_TYPE

MODEL_TYPE = SCRATCH_EXPORT_TYPE
# ModelConfig fields stored in config.json (the rest of config.json is transformers' own).
_ARCH_FIELDS = ("emb_dim", "n_heads", "num_layers", "ff_dim", "max_seq_len", "dropout", "positional", "pooling")


class WorkbenchClassifierConfig(PretrainedConfig):
    model_type = MODEL_TYPE

    def __init__(self, vocab_size: int = 8000, emb_dim: int = 128, n_heads: int = 4, num_layers: int = 2,
                 ff_dim: int = 256, max_seq_len: int = 64, dropout: float = 0.1, positional: str = "learned",
                 pooling: str = "mean", pad_swap: int = 0, unk_id: int = 1, **kwargs):
        self.vocab_size = vocab_size
        # The workbench encoder reads tokenizer id pad_swap as 0 (padding) and 0 as pad_swap;
        # the model applies that swap so the tokenizer file stays the original one.
        self.pad_swap = pad_swap
        # What an empty text becomes (the workbench encodes it as one unknown token).
        self.unk_id = unk_id
        self.emb_dim = emb_dim
        self.n_heads = n_heads
        self.num_layers = num_layers
        self.ff_dim = ff_dim
        self.max_seq_len = max_seq_len
        self.dropout = dropout
        self.positional = positional
        self.pooling = pooling
        kwargs.setdefault("pad_token_id", 0)
        super().__init__(**kwargs)

    @classmethod
    def from_model_config(cls, cfg: ModelConfig, vocab_size: int, label_names: list[str],
                          pad_swap: int = 0, unk_id: int = 1) -> "WorkbenchClassifierConfig":
        id2label = dict(enumerate(label_names))
        return cls(vocab_size=vocab_size, **{name: getattr(cfg, name) for name in _ARCH_FIELDS},
                   pad_swap=pad_swap, unk_id=unk_id,
                   id2label=id2label, label2id={v: k for k, v in id2label.items()})

    def model_config(self) -> ModelConfig:
        return ModelConfig(vocab_size=self.vocab_size, **{name: getattr(self, name) for name in _ARCH_FIELDS})


class WorkbenchForSequenceClassification(PreTrainedModel):
    config_class = WorkbenchClassifierConfig
    base_model_prefix = "workbench"
    main_input_name = "input_ids"

    def __init__(self, config: WorkbenchClassifierConfig):
        super().__init__(config)
        self.workbench = TransformerClassifier(config.model_config(), config.num_labels, vocab_size=config.vocab_size)
        self.post_init()

    def _init_weights(self, module):
        # Weights come from the exported file; only the fixed sinusoidal table, which is not
        # stored, must be rebuilt (transformers may create the model on the meta device).
        if module is self.workbench and self.config.positional == "sinusoidal":
            table = sinusoidal_table(module.num_positions, self.config.emb_dim)
            module.positional_encoding = table.to(module.embedding.weight.device)

    def forward(self, input_ids=None, attention_mask=None, labels=None, token_type_ids=None,
                output_attentions=None, return_dict=None, **kwargs):
        ids, mask = self.workbench_inputs(input_ids, attention_mask)
        logits = self.workbench(ids, mask)  # (B, C)
        loss = None
        if labels is not None:
            loss = torch.nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


    def workbench_inputs(self, input_ids, attention_mask=None):
        """Tokenizer ids (B, T) -> the ids and mask the workbench model saw in training."""
        cfg = self.config
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        mask = attention_mask.bool()[:, : cfg.max_seq_len]  # (B, T), the encoder's truncation
        ids = input_ids[:, : cfg.max_seq_len]
        if cfg.pad_swap:
            swapped = torch.where(ids == cfg.pad_swap, 0, torch.where(ids == 0, cfg.pad_swap, ids))
            ids = torch.where(mask, swapped, 0)
        if ids.shape[1] == 0:  # an empty text: one unknown token, as the workbench encodes it
            ids = torch.full((ids.shape[0], 1), cfg.unk_id, dtype=ids.dtype, device=ids.device)
            mask = torch.ones_like(ids, dtype=torch.bool)
        return ids, mask


def register() -> None:
    """Make the Auto classes know the architecture (idempotent)."""
    try:
        AutoConfig.register(MODEL_TYPE, WorkbenchClassifierConfig)
    except ValueError:  # already registered
        pass
    try:
        AutoModelForSequenceClassification.register(WorkbenchClassifierConfig, WorkbenchForSequenceClassification)
    except ValueError:
        pass


register()
