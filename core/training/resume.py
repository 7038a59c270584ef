"""Resuming a run from a checkpoint: what is checked before anything trains, and restoring
the optimizer. The weights and RNG state are restored by the trainer, in its order."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from core.config import RunConfig, from_dict
from core.errors import UserError
from core.training.adam import Optimizer
from core.training.checkpoint import (
    OPTIMIZER_FILE, WEIGHTS_FILE, check_weights, load_optimizer_state, load_weights, read_state, resolve_checkpoint,
)


def check_resumable(folder: str | os.PathLike, fresh_optimizer: bool = False) -> Path:
    """The checkpoint folder a resume reads, checked before anything trains: its state, the
    weights file's header and the optimizer state. UserError naming the damaged file.

    A checkpoint without optimizer.pt resumes only with ``fresh_optimizer``: Adam's moments
    would silently start again from zero, which is not the run that was saved.
    """
    path = resolve_checkpoint(folder)
    read_state(path, resumable=True)
    check_weights(path)
    if (path / OPTIMIZER_FILE).is_file():
        load_optimizer_state(path, torch.device("cpu"))
    elif not fresh_optimizer:
        raise UserError(f"{path} has no {OPTIMIZER_FILE}, so the optimizer state cannot be resumed",
                        "resume with `twb train --resume ... --fresh-optimizer` to continue with a new optimizer state")
    return path


def read_resume_state(folder: str | os.PathLike, config: RunConfig, fresh_optimizer: bool = False) -> tuple[Path, dict[str, Any]]:
    """The checkpoint folder and its state, once it is known that ``config`` can resume it."""
    path = check_resumable(folder, fresh_optimizer)
    state = read_state(path, resumable=True)
    saved = from_dict(state["config"])
    if saved.model != config.model:
        raise UserError(f"the model settings differ from the checkpoint's in {path}",
                        "resume with the checkpoint's model settings (only train.* may change)")
    if state.get("batch_in_epoch") and saved.train.batch_size != config.train.batch_size:
        raise UserError(f"{path} stopped inside an epoch with train.batch_size {saved.train.batch_size}",
                        "resume it with the same batch size")
    return path, state


def restore_weights(model: torch.nn.Module, folder: Path, device: torch.device) -> None:
    """Load the checkpoint's weights into ``model``; UserError when they do not fit it."""
    weights = load_weights(folder, device)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError) as exc:  # missing, unexpected or wrongly shaped tensors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"the weights in {folder / WEIGHTS_FILE} do not fit the model ({first})",
                        "resume from a checkpoint of this run") from None


def restore_optimizer(optimizer: Optimizer, folder: Path, device: torch.device) -> bool:
    """Load the checkpoint's optimizer state into ``optimizer``; False when it has none."""
    saved = load_optimizer_state(folder, device)
    if saved is None:
        return False
    try:
        optimizer.load_state_dict(saved)
    except (ValueError, KeyError, TypeError, RuntimeError, AttributeError) as exc:
        raise UserError(f"{folder / OPTIMIZER_FILE} does not fit this model's optimizer ({exc})",
                        "resume from a checkpoint of this run") from None
    return True


def encode_with_checkpoint_encoder(data: Any, folder: Path, max_seq_len: int) -> Any:
    """The data re-encoded with the tokenizer saved in the checkpoint.

    The weights were trained on that tokenizer's ids; one trained again on the same texts may
    number its tokens differently, which would silently scramble the embedding table.
    """
    from core.data.prepare import reencoded
    from core.data.tokenization import load_encoder

    return reencoded(data, load_encoder(folder), max_seq_len)
