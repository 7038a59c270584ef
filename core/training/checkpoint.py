"""Checkpoints: a folder that holds everything needed to predict with, or resume, a run.

    model.safetensors   the weights (no pickle: opening a checkpoint never runs code)
    state.json          config, label names, epoch, step, best metric, RNG state (plain lists)
    optimizer.pt        optimizer state, read back only with torch.load(weights_only=True)
    config.toml         the run's config, to read or to start a new run from
    (tokenizer files)   whatever the encoder's ``save`` writes

A checkpoint is written into a temp folder next to its final place and then renamed over the
old one, so a run killed while saving leaves the previous checkpoint whole: while the two renames
happen, the old folder waits as ``.<name>.old`` and ``resolve_checkpoint`` falls back to it.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from core.config import RunConfig, from_dict, save_toml, to_dict
from core.errors import UserError

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.pt"
CONFIG_FILE = "config.toml"


# --- RNG state as plain data ------------------------------------------------------------

def capture_rng_state() -> dict[str, Any]:
    """Every random generator training touches, as JSON-friendly lists."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state().tolist(),
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": _python_state_to_list(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if state.get("cuda") and torch.cuda.is_available():
        saved = [torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]]
        torch.cuda.set_rng_state_all(saved[: torch.cuda.device_count()])


def _python_state_to_list(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


# --- writing ------------------------------------------------------------------------------

def replace_folder(tmp: Path, final: Path) -> None:
    """Move a fully written ``tmp`` folder to ``final``, keeping the old one until it is gone."""
    backup = final.parent / f".{final.name}.old"
    if backup.exists():
        shutil.rmtree(backup)
    if final.exists():
        os.replace(final, backup)
    os.replace(tmp, final)
    if backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


def save_checkpoint(
    folder: str | os.PathLike,
    model: torch.nn.Module,
    encoder: Any,
    config: RunConfig,
    label_names: list[str],
    state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """Write a checkpoint folder atomically; ``state`` is the trainer's plain-data progress."""
    final = Path(folder)
    final.parent.mkdir(parents=True, exist_ok=True)
    # mkdir rather than mkdtemp: the folder gets the user's usual permissions (mkdtemp's are 0700).
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        # Contiguous CPU copies: safetensors refuses views, and the GPU copy stays untouched.
        weights = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        save_file(weights, str(tmp / WEIGHTS_FILE))
        if optimizer is not None:
            torch.save({"optimizer": optimizer.state_dict()}, tmp / OPTIMIZER_FILE)
        encoder.save(tmp)
        save_toml(config, tmp / CONFIG_FILE)
        full_state = {
            "format": FORMAT_VERSION,
            "config": to_dict(config),
            "label_names": list(label_names),
            **state,
        }
        (tmp / STATE_FILE).write_text(json.dumps(full_state), encoding="utf-8")
        _fsync_folder(tmp)
        replace_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _fsync_folder(folder: Path) -> None:
    # The files' data must be on disk before the rename makes them the checkpoint.
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


# --- reading ------------------------------------------------------------------------------

def resolve_checkpoint(folder: str | os.PathLike) -> Path:
    """The checkpoint folder to read; a save cut off between its two renames left ``.<name>.old``."""
    path = Path(folder)
    if (path / STATE_FILE).is_file():
        return path
    backup = path.parent / f".{path.name}.old"
    if not path.exists() and (backup / STATE_FILE).is_file():
        return backup
    if not path.exists():
        raise UserError(f"checkpoint folder {str(path)!r} not found", "check the path (a run's out dir holds best/ and last/)")
    latest = _latest_in_run_folder(path)
    if latest is not None:
        return latest
    raise UserError(f"{str(path)!r} is not a checkpoint: it has no {STATE_FILE}",
                    "point at a checkpoint folder such as runs/<run>/best or runs/<run>/last")


def _latest_in_run_folder(run: Path) -> Path | None:
    """In a run's out dir, the checkpoint furthest along: last/ or interrupt/."""
    best_step, best_path = -1, None
    for name in ("last", "interrupt"):
        folder = run / name
        try:
            step = int(json.loads((folder / STATE_FILE).read_text(encoding="utf-8")).get("step", 0))
        except (OSError, ValueError, TypeError):
            continue
        if step > best_step:
            best_step, best_path = step, folder
    return best_path


def read_state(folder: str | os.PathLike) -> dict[str, Any]:
    path = resolve_checkpoint(folder)
    try:
        state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path / STATE_FILE}: {exc}", "the checkpoint is damaged; use another one") from None
    if state.get("format") != FORMAT_VERSION:
        raise UserError(f"{path} has checkpoint format {state.get('format')!r}, expected {FORMAT_VERSION}",
                        "it was written by another version of the workbench")
    return state


def read_config(folder: str | os.PathLike) -> RunConfig:
    return from_dict(read_state(folder)["config"])


def load_weights(folder: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    return load_file(str(resolve_checkpoint(folder) / WEIGHTS_FILE), device=str(device))


def load_optimizer_state(folder: str | os.PathLike, device: torch.device) -> dict[str, Any] | None:
    path = resolve_checkpoint(folder) / OPTIMIZER_FILE
    if not path.is_file():
        return None
    # weights_only=True: tensors and plain containers only, no code from the file runs.
    data = torch.load(path, map_location=device, weights_only=True)
    return data["optimizer"]


# --- predicting with a saved model -----------------------------------------------------------

def encode_for_model(encoder: Any, texts: list[str], max_seq_len: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids (B, T) padded with 0 and the mask (B, T), True on real tokens; empty texts get [unk]."""
    ids = [(row[:max_seq_len] or [encoder.unk_id]) for row in encoder.encode_batch(list(texts))]
    width = max(len(row) for row in ids)
    input_ids = torch.zeros(len(ids), width, dtype=torch.long)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return input_ids.to(device), (input_ids != 0).to(device)


@torch.inference_mode()
def predict_texts(model: torch.nn.Module, encoder: Any, label_names: list[str], max_seq_len: int,
                  texts: list[str], batch_size: int = 256) -> list[dict[str, Any]]:
    """``[{"label": name, "score": p, "scores": {name: p, ...}}]`` per text, in order."""
    if isinstance(texts, str):
        texts = [texts]
    model.eval()
    device = next(model.parameters()).device
    results: list[dict[str, Any]] = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start: start + batch_size]
        input_ids, mask = encode_for_model(encoder, chunk, max_seq_len, device)
        probs = model(input_ids, mask).float().softmax(dim=-1).cpu().tolist()  # (B, C)
        for row in probs:
            best = max(range(len(row)), key=row.__getitem__)
            results.append({"label": label_names[best], "score": row[best],
                            "scores": dict(zip(label_names, row))})
    return results


@dataclass
class ClassifierSnapshot:
    """A CPU copy of the model in eval mode, with what is needed to encode text for it."""

    model: torch.nn.Module
    encoder: Any
    label_names: list[str]
    max_seq_len: int

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        return predict_texts(self.model, self.encoder, self.label_names, self.max_seq_len, texts)


@dataclass
class LoadedClassifier:
    """A trained classifier read back from a checkpoint folder (CPU, eval mode)."""

    model: torch.nn.Module
    encoder: Any
    label_names: list[str]
    config: RunConfig

    @property
    def max_seq_len(self) -> int:
        return self.config.model.max_seq_len

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        return predict_texts(self.model, self.encoder, self.label_names, self.max_seq_len, texts)


def load_classifier(folder: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedClassifier:
    """Model, encoder, label names and config of a checkpoint; UserError when it cannot be read."""
    from core.model import TransformerClassifier
    from core.data.tokenization import load_encoder

    path = resolve_checkpoint(folder)
    state = read_state(path)
    config = from_dict(state["config"])
    label_names = list(state["label_names"])
    try:
        weights = load_weights(path)
        # The embedding table's rows: a pretrained tokenizer's vocabulary may exceed model.vocab_size.
        vocab_size = int(weights["embedding.weight"].shape[0]) if "embedding.weight" in weights else None
        model = TransformerClassifier(config.model, len(label_names), vocab_size=vocab_size)
        model.load_state_dict(weights)
    except Exception as exc:  # safetensors' own error type, a shape mismatch, a truncated file
        raise UserError(f"cannot load the weights in {path}: {exc}", "the checkpoint is damaged or from another model shape") from None
    model.to(device).eval()
    return LoadedClassifier(model=model, encoder=load_encoder(path), label_names=label_names, config=config)
