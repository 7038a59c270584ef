"""A checkpoint's state.json as plain data: the RNG state in JSON-friendly lists, and the
checks that tell a damaged or foreign state.json apart before anything is restored from it."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from core.config import ConfigError, from_dict


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


# --- checking a saved state ------------------------------------------------------------------

# What state.json must hold, beyond format/config/label_names: (field, accepted types).
_PROGRESS_FIELDS = (
    ("epoch", int), ("step", int), ("batch_in_epoch", int), ("epoch_correct", int), ("epoch_samples", int),
    ("epochs_without_improvement", int), ("epoch_loss_sum", (int, float)), ("best_metric", (int, float, type(None))),
    ("best_epoch", (int, type(None))), ("improved_this_epoch", bool), ("history", list), ("rng", dict),
)


def state_problem(state: dict[str, Any], resumable: bool = False) -> str | None:
    """What is wrong with a state.json's content, in a few words; None when it can be used."""
    if not isinstance(state.get("config"), dict):
        return "'config' is missing or not a table of settings"
    try:
        from_dict(state["config"])
    except ConfigError as exc:
        return "its config is invalid: " + "; ".join(map(str, exc.errors))
    names = state.get("label_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return "'label_names' is missing or not a list of names"
    for name, kinds in _PROGRESS_FIELDS:
        if name in state:
            value = state[name]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
                return f"{name!r} is {value!r}, which is not a {_type_names(kinds)}"
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                return f"{name!r} is {value}, which is negative"
    if resumable and "rng" not in state:
        return "it has no random generator state ('rng'), so the run cannot be resumed exactly"
    if "rng" in state:
        return rng_problem(state["rng"])
    return None


def _as_tuple(kinds: Any) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _type_names(kinds: Any) -> str:
    names = {"int": "whole number", "float": "number", "NoneType": "null", "bool": "true/false",
             "list": "list", "dict": "table"}
    return " or ".join(dict.fromkeys(names[k.__name__] for k in _as_tuple(kinds)))


def rng_problem(rng: dict[str, Any]) -> str | None:
    """Whether the saved generator states can be restored, tried on fresh generators (the global
    ones are untouched)."""
    try:
        torch.Generator().set_state(torch.tensor(rng["torch"], dtype=torch.uint8))
        kind, keys, pos, has_gauss, cached = rng["numpy"]
        np.random.RandomState().set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
        version, internal, gauss = rng["python"]
        random.Random().setstate((version, tuple(internal), gauss))
        for cuda_state in rng.get("cuda") or []:
            torch.tensor(cuda_state, dtype=torch.uint8)
    except Exception as exc:  # KeyError, a wrong length, values out of range, wrong types
        return f"its random generator state cannot be restored ({type(exc).__name__}: {exc})".replace("\n", " ")
    return None
