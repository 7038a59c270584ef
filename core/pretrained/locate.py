"""Finding a backbone and checking, before anything trains, that it can classify.

``locate_backbone`` turns ``model.backbone`` (a folder, a cached or downloadable hub id, an
export, ``all-MiniLM-L6-v2``) into a model folder on disk, with the offline rules of
``core.pretrained.sources``, and refuses in one line what cannot be fine-tuned: a folder without
config, weights or tokenizer, remote code without ``model.trust_remote_code``, an architecture
with no sequence-classification head. It reads only JSON files and transformers' registry of
heads, never the weights.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UserError

# The model_type of a `twb export` of a classifier trained from scratch (core.hf.classifier).
SCRATCH_EXPORT_TYPE = "twb-classifier"

SCRATCH = "scratch"
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
# What a tokenizer is saved as; the workbench needs the fast (tokenizers) form or what converts to it.
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")
# A tokenizer's model_max_length above this is transformers' "no limit" placeholder.
_NO_LIMIT = 1_000_000


def is_scratch(backbone: str) -> bool:
    return backbone.strip() in ("", SCRATCH)


@dataclass(frozen=True)
class BackboneSource:
    name: str  # as the user wrote it
    folder: Path  # the model folder transformers loads (offline)
    model_type: str  # e.g. "bert"
    max_positions: int  # the longest input the backbone takes, special tokens included
    sizes: dict[str, int]  # the backbone's real emb_dim, n_heads, num_layers, ff_dim, vocab_size


def locate_backbone(name: str, trust_remote_code: bool = False) -> BackboneSource:
    """The backbone's folder and facts; UserError naming the problem and the fix."""
    folder = _folder_of(name.strip())
    config = read_json(folder / "config.json", name)
    _require_files(folder, name)
    if config.get("auto_map") and not trust_remote_code:
        raise UserError(f"backbone {name!r} needs remote code: it runs Python code shipped with the model",
                        "only if you trust its authors, set model.trust_remote_code=true")
    model_type = str(config.get("model_type", ""))
    if not (trust_remote_code and "AutoModelForSequenceClassification" in (config.get("auto_map") or {})):
        _require_classification_head(name, model_type)
    return BackboneSource(name=name, folder=folder, model_type=model_type,
                          max_positions=_position_limit(folder, config), sizes=sizes_of(config))


def _folder_of(name: str) -> Path:
    from core.pretrained.sources import resolve_model

    if not name:
        raise UserError("model.backbone is empty", "use 'scratch' or a Hugging Face model folder or id")
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(f"backbone {name!r} is a file, not a model folder", "give the folder that holds config.json")
    try:
        ref = resolve_model(name, name)
    except UserError as exc:
        raise UserError(exc.message.replace("model folder", "backbone folder", 1), exc.hint) from None
    if ref.is_local:
        return Path(ref.location)
    return _hub_folder(ref.location)


def _hub_folder(repo_id: str) -> Path:
    """A hub model's snapshot folder: from the cache, or downloaded once (resolve_model said we may)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json")
    if isinstance(found, str):
        return Path(found).parent
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id))
    except Exception as exc:
        raise UserError(f"could not download backbone {repo_id!r}: {str(exc).splitlines()[0] if str(exc) else exc}",
                        "check the id and the network, or give a local model folder") from None


def read_json(path: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"backbone {name!r} has no config.json", "give a folder written by save_pretrained") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}", "the model folder is damaged; save or download it again") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a model config (expected a JSON object)", "save or download the model again")
    return data


def _require_files(folder: Path, name: str) -> None:
    if not any((folder / f).is_file() for f in WEIGHT_FILES):
        raise UserError(f"backbone {name!r} has no weights (model.safetensors or pytorch_model.bin)",
                        "save the model into the folder too (model.save_pretrained(folder))")
    if not any((folder / f).is_file() for f in TOKENIZER_FILES):
        raise UserError(f"backbone {name!r} has no tokenizer (tokenizer.json, vocab.txt, ...)",
                        "save the tokenizer into the folder too (tokenizer.save_pretrained(folder))")


def _require_classification_head(name: str, model_type: str) -> None:
    from transformers import CONFIG_MAPPING
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    if model_type == SCRATCH_EXPORT_TYPE:
        raise UserError(f"backbone {name!r} is an export of a classifier trained from scratch, not a pretrained encoder",
                        "continue it from its checkpoint (twb train --resume CHECKPOINT), or choose a pretrained encoder")
    if model_type not in CONFIG_MAPPING:
        raise UserError(f"backbone {name!r} has architecture {model_type!r}, which this transformers version "
                        "does not know", "upgrade transformers, or choose another backbone")
    if model_type not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES:
        raise UserError(f"backbone {name!r} ({model_type}) has no sequence-classification head in transformers",
                        "choose an encoder such as BERT, DistilBERT, RoBERTa or MiniLM")


def _position_limit(folder: Path, config: dict[str, Any]) -> int:
    """The longest input: the tokenizer's model_max_length when it states one, else the config's
    position table (RoBERTa-style tables start after the padding id, so they hold fewer)."""
    limits = []
    positions = config.get("max_position_embeddings") or config.get("n_positions")
    if isinstance(positions, int) and positions > 0:
        if config.get("model_type") in ("roberta", "xlm-roberta", "camembert", "longformer"):
            positions -= int(config.get("pad_token_id") or 0) + 1
        limits.append(positions)
    try:
        tok = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        length = tok.get("model_max_length")
        if isinstance(length, (int, float)) and 0 < length < _NO_LIMIT:
            limits.append(int(length))
    except (OSError, ValueError, AttributeError):
        pass
    return min(limits) if limits else 512


def sizes_of(config: dict[str, Any]) -> dict[str, int]:
    """The backbone's counterparts of the scratch model's settings, for the form to show."""
    def first(*keys: str) -> int:
        for key in keys:
            if isinstance(config.get(key), int):
                return int(config[key])
        return 0

    return {"emb_dim": first("hidden_size", "dim", "d_model"),
            "n_heads": first("num_attention_heads", "n_heads"),
            "num_layers": first("num_hidden_layers", "n_layers", "num_layers"),
            "ff_dim": first("intermediate_size", "hidden_dim", "ffn_dim"),
            "vocab_size": first("vocab_size")}
