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

import contextlib
import copy
import errno
import json
import os
import pickle
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from core.config import RunConfig, from_dict, save_toml, to_dict
from core.training.adam import Optimizer
from core.training.checkpoint_state import capture_rng_state, restore_rng_state, state_problem  # noqa: F401 (re-exported)
from core.errors import UserError

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.pt"
CONFIG_FILE = "config.toml"


# --- writing ------------------------------------------------------------------------------

# ``.<name>.tmp-<pid>-<hex>``: a folder being written by process <pid>.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-[0-9a-f]+$")


def is_checkpoint(folder: Path) -> bool:
    """A folder this workbench wrote: it holds a state.json."""
    return folder.is_dir() and (folder / STATE_FILE).is_file()


def new_temp_folder(final: Path) -> Path:
    """An empty folder next to ``final`` to write into before ``replace_folder`` moves it there.

    mkdir rather than mkdtemp: the folder gets the user's usual permissions (mkdtemp's are 0700).
    Temp folders that killed processes left behind in the same place are removed first.
    """
    remove_stale_temps(final.parent)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    return tmp


def remove_stale_temps(parent: Path) -> None:
    """Delete ``.<name>.tmp-<pid>-*`` folders whose writing process is gone (a kill mid-save)."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and entry.is_dir() and not _process_alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process writes one temp folder at a time; a second one is its own
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or not knowable: leave its folder alone
    return True


def replace_folder(tmp: Path, final: Path) -> None:
    """Move a fully written ``tmp`` folder to ``final``, keeping the old one until it is gone.

    A crash at any point leaves a whole copy: ``final``, or ``.<name>.old`` beside it (which
    ``resolve_checkpoint`` falls back to). An old ``.<name>.old`` is only deleted while
    ``final`` still exists.
    """
    backup = final.parent / f".{final.name}.old"
    if final.exists():
        if backup.exists():
            shutil.rmtree(backup)
        os.replace(final, backup)
    os.replace(tmp, final)
    if backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def written_folder(final: Path, error: Callable[[Path, OSError], Exception]) -> Iterator[Path]:
    """A temp folder to fill; on leaving the block it replaces ``final`` (``replace_folder``).

    Nothing half-written is ever left: on any failure the temp folder goes, ``final`` stays as
    it was, and an OSError (a full disk, a read-only folder) becomes ``error(final, exc)``.
    """
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = new_temp_folder(final)
    except OSError as exc:
        raise error(final, exc) from None
    try:
        yield tmp
        replace_folder(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise error(final, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_checkpoint(
    folder: str | os.PathLike,
    model: torch.nn.Module,
    encoder: Any,
    config: RunConfig,
    label_names: list[str],
    state: dict[str, Any],
    optimizer: Optimizer | None = None,
) -> Path:
    """Write a checkpoint folder atomically; ``state`` is the trainer's plain-data progress.

    UserError when the disk is full or the folder cannot be written; the checkpoint that was
    there before is then left as it was.
    """
    final = Path(folder)
    if final.exists() and not is_checkpoint(final):
        raise UserError(f"{str(final)!r} exists and is not a checkpoint (no {STATE_FILE}); it was not replaced",
                        "move that folder away or choose another run folder")
    with written_folder(final, _write_error) as tmp:
        # Contiguous CPU copies: safetensors refuses views, and the GPU copy stays untouched.
        weights = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        save_file(weights, str(tmp / WEIGHTS_FILE))
        if optimizer is not None:
            torch.save({"optimizer": optimizer.state_dict()}, tmp / OPTIMIZER_FILE)
        encoder.save(tmp)
        if hasattr(model, "write_architecture"):  # a backbone's config, to rebuild it without its folder
            model.write_architecture(tmp)
        save_toml(config, tmp / CONFIG_FILE)
        full_state = {
            "format": FORMAT_VERSION,
            "config": to_dict(config),
            "label_names": list(label_names),
            **state,
        }
        (tmp / STATE_FILE).write_text(json.dumps(full_state), encoding="utf-8")
        _fsync_folder(tmp)
    return final


def _write_error(final: Path, exc: OSError) -> UserError:
    reason = exc.strerror or str(exc)
    hint = "free some disk space" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "check the folder's permissions"
    kept = "; the previous checkpoint is kept" if final.exists() else ""
    return UserError(f"cannot write checkpoint {str(final)!r}: {reason}{kept}",
                     f"{hint}, then resume the run from its last checkpoint")


def _fsync_folder(folder: Path) -> None:
    # The files' data must be on disk before the rename makes them the checkpoint.
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


# --- reading ------------------------------------------------------------------------------

_DAMAGED = "the checkpoint is damaged; use another one (best/, last/ or interrupt/ of the run)"


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
    """In a run's out dir, the checkpoint furthest along: last/ or interrupt/ (or the ``.old``
    copy a save cut off between its renames kept of either)."""
    best_step, best_path = -1, None
    for name in ("last", "interrupt"):
        folder = run / name
        if not folder.exists():
            folder = run / f".{name}.old"
        try:
            step = json.loads((folder / STATE_FILE).read_text(encoding="utf-8")).get("step", 0)
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(step, int) and step > best_step:
            best_step, best_path = step, folder
    return best_path


def read_state(folder: str | os.PathLike, resumable: bool = False) -> dict[str, Any]:
    """The checkpoint's state.json, checked field by field: UserError naming the file when it is
    damaged. ``resumable``: it must also hold the RNG state a resume restores."""
    path = resolve_checkpoint(folder)
    file = path / STATE_FILE
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {file}: {exc}", _DAMAGED) from None
    if not isinstance(state, dict):
        raise UserError(f"{file} is not a checkpoint state (expected a JSON object)", _DAMAGED)
    if state.get("format") != FORMAT_VERSION:
        raise UserError(f"{path} has checkpoint format {state.get('format')!r}, expected {FORMAT_VERSION}",
                        "it was written by another version of the workbench")
    problem = state_problem(state, resumable)
    if problem:
        raise UserError(f"{file} is damaged: {problem}", _DAMAGED)
    return state


def read_config(folder: str | os.PathLike) -> RunConfig:
    return from_dict(read_state(folder)["config"])


def load_weights(folder: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """The weights; UserError naming the file when it is missing or damaged (e.g. cut short)."""
    file = resolve_checkpoint(folder) / WEIGHTS_FILE
    try:
        return load_file(str(file), device=str(device))
    except Exception as exc:  # safetensors' own error type, or an OSError
        raise UserError(f"cannot read {file}: {_first_line(exc)}", _DAMAGED) from None


def check_weights(folder: str | os.PathLike) -> None:
    """Read only the weights file's header (it checks the file is whole) and compare its tensors'
    names and shapes with the model the checkpoint's config describes, built on the meta device
    (no memory, no random numbers drawn)."""
    from core.training.model_factory import model_for_checkpoint

    path = resolve_checkpoint(folder)
    file = path / WEIGHTS_FILE
    try:
        with safe_open(str(file), framework="pt") as f:
            shapes = {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except Exception as exc:
        raise UserError(f"cannot read {file}: {_first_line(exc)}", _DAMAGED) from None
    state = read_state(path)
    model = model_for_checkpoint(path, from_dict(state["config"]), list(state["label_names"]), shapes, device="meta")
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    if shapes != expected:
        wrong = sorted(set(shapes) ^ set(expected)) or sorted(n for n in shapes if shapes[n] != expected[n])
        raise UserError(f"the weights in {file} do not fit the checkpoint's model (tensor {wrong[0]!r})", _DAMAGED)


def load_optimizer_state(folder: str | os.PathLike, device: torch.device) -> dict[str, Any] | None:
    """The saved optimizer state, or None when the checkpoint has no optimizer.pt."""
    path = resolve_checkpoint(folder) / OPTIMIZER_FILE
    if not path.is_file():
        return None
    try:
        # weights_only=True: tensors and plain containers only, no code from the file runs.
        data = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        # torch's message goes on to suggest weights_only=False, i.e. running the file's code.
        raise UserError(f"{path} holds objects other than tensors and plain data; it was not loaded",
                        "use a checkpoint written by the workbench") from None
    except Exception as exc:  # truncated, not a torch file at all
        raise UserError(f"cannot read {path}: {_first_line(exc)}", _DAMAGED) from None
    if not isinstance(data, dict) or not isinstance(data.get("optimizer"), dict) \
            or not {"state", "param_groups"} <= set(data["optimizer"]):
        raise UserError(f"{path} does not hold an optimizer state", _DAMAGED)
    return data["optimizer"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


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

    @classmethod
    def copy_of(cls, model: torch.nn.Module, encoder: Any, label_names: list[str], max_seq_len: int,
                lock: Any) -> "ClassifierSnapshot":
        """A snapshot of a model being trained; ``lock`` is held by the optimizer step."""
        with lock:
            # deepcopy, not a fresh model: building one would draw from the global RNG the
            # training thread is using for dropout and break reproducibility.
            clone = copy.deepcopy(model)
        clone = clone.to("cpu").eval()
        for p in clone.parameters():
            p.grad = None
            p.requires_grad_(False)
        return cls(clone, encoder, label_names, max_seq_len)


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
    from core.data.tokenization import load_encoder
    from core.training.model_factory import model_for_checkpoint

    path = resolve_checkpoint(folder)
    state = read_state(path)
    config = from_dict(state["config"])
    label_names = list(state["label_names"])
    weights = load_weights(path)
    try:
        # The embedding table's rows: a pretrained tokenizer's vocabulary may exceed model.vocab_size.
        model = model_for_checkpoint(path, config, label_names, {k: tuple(v.shape) for k, v in weights.items()})
        model.load_state_dict(weights)
    except Exception as exc:  # a missing tensor or a shape mismatch
        raise UserError(f"cannot load the weights in {path / WEIGHTS_FILE}: {_first_line(exc)}",
                        "the checkpoint is damaged or from another model shape") from None
    model.to(device).eval()
    return LoadedClassifier(model=model, encoder=load_encoder(path), label_names=label_names, config=config)

