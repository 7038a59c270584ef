"""One loader for "a classifier": a twb checkpoint or run folder, a twb export, or any Hugging
Face sequence-classification folder.

Whatever it came from, a ``Classifier`` offers the same two steps to the predictor: ``tokenize``
(texts to id lists, already truncated the way the model was trained) and ``forward`` (padded ids
and mask to logits). Nothing is downloaded and no code shipped with a model runs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import torch

from core.errors import UserError

Kind = Literal["checkpoint", "export", "hf"]
ScoreFunction = Literal["softmax", "sigmoid", "none"]

# Files a saved model's weights live in (save_pretrained's single or sharded files).
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_NEEDS = "a sequence classification model"


@dataclass
class Classifier:
    """A text classifier in eval mode on ``device``, ready for ``core.inference.predict_proba``."""

    name: str  # the folder, as the user gave it
    kind: Kind
    label_names: list[str]  # by class id
    device: torch.device
    tokenize: Callable[[list[str]], list[list[int]]]  # texts -> ids, truncated, never empty
    forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # ids (B, T), mask (B, T) -> logits (B, C)
    pad_id: int = 0
    score: ScoreFunction = "softmax"  # what turns logits into scores (pipeline()'s choice for HF models)
    model: Any = None  # the torch module, for whoever needs more than predictions


def load_model(path: str | os.PathLike, device: str | torch.device = "auto") -> Classifier:
    """The classifier in ``path``; a one-line UserError when it is not one (or is damaged)."""
    from core.training.checkpoint import STATE_FILE
    from core.training.devices import resolve_device

    folder = Path(path).expanduser()
    target = resolve_device(str(device))
    if (folder / "config.json").is_file() and not (folder / STATE_FILE).is_file():
        return _from_hf_folder(folder, target)
    if not folder.exists() and not (folder.parent / f".{folder.name}.old").exists():
        raise UserError(f"model folder {str(folder)!r} not found",
                        "give a checkpoint (runs/<run>/best), a run folder, a `twb export` folder or a "
                        "Hugging Face model folder")
    # The dispatch point for twb checkpoints: every kind the workbench trains comes back from
    # core.training.checkpoint.load_classifier (fine-tuned backbones included, once it reads them)
    # with a model, an encoder and its label names.
    return _from_checkpoint(folder, target)


def _from_checkpoint(folder: Path, device: torch.device) -> Classifier:
    from core.training.checkpoint import load_classifier, resolve_checkpoint

    try:
        path = resolve_checkpoint(folder)
    except UserError:
        if not folder.is_dir():
            raise
        raise UserError(f"{str(folder)!r} is neither a twb checkpoint (no state.json) nor a Hugging Face model "
                        "folder (no config.json)",
                        "point at runs/<run>/best, a run folder, a `twb export` folder or a save_pretrained folder"
                        ) from None
    loaded = load_classifier(path, device=device)
    encoder, model, max_len = loaded.encoder, loaded.model, loaded.max_seq_len
    unk = [int(encoder.unk_id)]

    def tokenize(texts: list[str]) -> list[list[int]]:
        # What training saw: no special tokens, cut at max_seq_len, an empty text is one [unk].
        return [row[:max_len] or unk for row in encoder.encode_batch(list(texts))]

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return model(ids, mask)

    return Classifier(str(folder), "checkpoint", list(loaded.label_names), device, tokenize, forward,
                      pad_id=int(encoder.pad_id), model=model)


def _from_hf_folder(folder: Path, device: torch.device) -> Classifier:
    from core.hf.export import EXPORT_MARKER
    from core.hf.pipelines.loading import load_config, random_head_notice, require_tokenizer_files, \
        translate_load_errors
    from core.hf.pipelines.models import ModelRef

    ref = ModelRef(str(folder), os.path.abspath(folder), True)
    config = load_config(ref, trust_remote_code=False)  # quiets transformers; refuses models that ship code
    _require_classifier(folder, config)
    require_tokenizer_files(ref)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    with translate_load_errors(ref, needs=_NEEDS, task="text classification"):
        tokenizer = AutoTokenizer.from_pretrained(ref.location, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(ref.location, local_files_only=True)
    notice = random_head_notice(model, ref, "text-classification")
    if notice:
        raise UserError(f"model folder {str(folder)!r} has no trained classification head",
                        "fine-tune it first (its head would be random), or give a classifier folder")
    model.to(device).eval()
    kind: Kind = "export" if getattr(config, "model_type", "") == EXPORT_MARKER else "hf"
    max_len = _max_length(tokenizer, config)
    empty = _empty_text_ids(tokenizer, config) if kind == "export" else None

    def tokenize(texts: list[str]) -> list[list[int]]:
        ids = tokenizer(list(texts), truncation=max_len is not None, max_length=max_len)["input_ids"]
        return [row or empty for row in ids] if empty else ids

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return model(input_ids=ids, attention_mask=mask.long()).logits

    labels = [str(config.id2label.get(i, f"LABEL_{i}")) for i in range(config.num_labels)]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return Classifier(str(folder), kind, labels, device, tokenize, forward, pad_id=int(pad),
                      score=_score_function(config), model=model)


def _require_classifier(folder: Path, config: Any) -> None:
    architectures = list(getattr(config, "architectures", None) or [])
    if architectures and not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise UserError(f"model folder {str(folder)!r} holds a {architectures[0]}, which has no classification head",
                        "give a folder saved from a *ForSequenceClassification model or a `twb export`")
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise UserError(f"model folder {str(folder)!r} has no weights (model.safetensors or pytorch_model.bin)",
                        "save the model into the folder too (model.save_pretrained(folder))")


def _max_length(tokenizer: Any, config: Any) -> int | None:
    """Where to cut long texts: the tokenizer's limit, else the model's positions (None: no limit)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 1_000_000:  # transformers' "no limit" is a huge int
        return limit
    positions = getattr(config, "max_position_embeddings", None)
    return int(positions) if isinstance(positions, int) and positions > 0 else None


def _empty_text_ids(tokenizer: Any, config: Any) -> list[int] | None:
    """A twb export reads an empty text as one unknown token (as the workbench encodes it); in a
    batch beside longer texts the model would otherwise see a row of padding only."""
    swap = int(getattr(config, "pad_swap", 0))
    unk = int(getattr(config, "unk_id", 1))
    if swap:
        unk = 0 if unk == swap else (swap if unk == 0 else unk)  # back to the tokenizer's ids
    return [unk]


def _score_function(config: Any) -> ScoreFunction:
    """pipeline("text-classification")'s default: sigmoid for one label or multi-label, else softmax."""
    problem = getattr(config, "problem_type", None)
    if problem == "regression":
        return "none"
    if problem == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    return "softmax"
