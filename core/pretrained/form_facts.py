"""What the hyperparameter form shows of a backbone: its real sizes, and which models to suggest.

The form asks on every edit of ``model.backbone``, so this is cheap on purpose: it reads only
``config.json`` (never the weights, never transformers' registry) and never touches the
network (``locate_backbone`` at the start of a run does the full check, and the download).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.errors import UserError
from core.pretrained.locate import SCRATCH_EXPORT_TYPE, is_scratch, read_json, sizes_of

# The settings of the scratch classifier that a backbone replaces with its own.
SCRATCH_ONLY = ("vocab_size", "emb_dim", "n_heads", "num_layers", "ff_dim", "dropout", "positional", "pooling")


def backbone_values(name: str) -> dict[str, Any] | None:
    """The backbone's counterparts of SCRATCH_ONLY; None for a hub id not on this machine yet
    (downloaded when a run starts). UserError for a folder that is not a model, or an id that
    cannot come offline."""
    from core.pretrained.sources import is_offline, offline_error

    folder = _local_folder(name.strip())
    if folder is None:
        if is_offline():
            raise offline_error(name.strip())
        return None
    config = read_json(folder / "config.json", name)
    values: dict[str, Any] = {k: v for k, v in sizes_of(config).items() if v}
    dropout = config.get("hidden_dropout_prob", config.get("dropout"))
    if isinstance(dropout, (int, float)):
        values["dropout"] = float(dropout)
    if config.get("sinusoidal_pos_embds"):  # DistilBERT's option
        values["positional"] = "sinusoidal"
    elif config.get("position_embedding_type", "absolute") == "absolute":
        values["positional"] = "learned"
    # transformers' sequence classifiers read the first token ([CLS] or <s>), as cls pooling does.
    values["pooling"] = "cls"
    return values


def _local_folder(name: str) -> Path | None:
    from core.pretrained.sources import list_local_models, resolve_model

    if not name:
        raise UserError("model.backbone is empty", "use 'scratch' or a Hugging Face model folder or id")
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(f"backbone {name!r} is a file, not a model folder", "give the folder that holds config.json")
    if path.is_dir() or name.startswith((".", "/", "~")) or name.count("/") > 1:
        return Path(resolve_model(name, name).location)  # a path: only the file system is asked
    listed = next((m for m in list_local_models() if m.name == name), None)
    return Path(listed.path) if listed else None


def backbone_candidates(cwd: str | os.PathLike = ".") -> list[str]:
    """Names ``model.backbone`` accepts for the models on this machine: the packaged MiniLM,
    exports, ./models and ./exports, the HF cache, and model folders at most two levels under
    ``cwd`` (as paths)."""
    from core.pretrained.sources import _describe, _folders_under, list_local_models

    # A classifier trained from scratch and exported is not a backbone (locate_backbone says so).
    found = [m.name for m in list_local_models() if m.model_type != SCRATCH_EXPORT_TYPE]
    root = Path(cwd)
    for folder in _folders_under(root):
        described = _describe(folder)
        if folder != root and described and described[1] != SCRATCH_EXPORT_TYPE:
            found.append(os.path.join(".", os.path.relpath(folder, root)))
    return [name for i, name in enumerate(found) if name not in found[:i] and not is_scratch(name)]
