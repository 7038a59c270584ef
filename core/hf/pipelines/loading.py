"""Loading models once and keeping them: a small cache keyed by (what, model, options).

Every failure to load becomes a one-line ``UserError`` naming the model: not downloadable
offline, not on the hub, needs trust_remote_code, unknown architecture, missing package.
transformers' own progress bars and load reports are silenced: they would scribble over the
terminal UI.
"""
from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from core.errors import UserError
from core.hf.pipelines.models import ModelRef, is_offline, offline_error

# Loaded models are large: keep the few most recently used (a console session flips between
# a handful of models; more would pin gigabytes).
MAX_CACHED = 4

_cache: OrderedDict[tuple, Any] = OrderedDict()
_cache_lock = threading.Lock()
_load_lock = threading.Lock()  # one load at a time: two threads never build the same model twice
_quieted = False


def quiet_transformers() -> None:
    """Silence progress bars and load reports (they write to the terminal the UI owns)."""
    global _quieted
    if _quieted:
        return
    import transformers
    from huggingface_hub.utils import disable_progress_bars
    from huggingface_hub.utils import logging as hub_logging

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    disable_progress_bars()
    hub_logging.set_verbosity_error()  # its retry warnings would scribble over the terminal UI
    # Exported workbench classifiers load through the Auto classes once registered.
    import core.hf.classifier  # noqa: F401

    _quieted = True


def cached(key: tuple, build: Callable[[], Any]) -> Any:
    """The object cached under key, built (once) on first use."""
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with _load_lock:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        value = build()
        with _cache_lock:
            _cache[key] = value
            while len(_cache) > MAX_CACHED:
                _cache.popitem(last=False)
        return value


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def device_for_pipelines() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_config(ref: ModelRef, trust_remote_code: bool):
    """The model's config; refuses models that ship their own code unless trusted."""
    quiet_transformers()
    from transformers import AutoConfig

    with translate_load_errors(ref, trust_remote_code):
        config = AutoConfig.from_pretrained(ref.location, trust_remote_code=trust_remote_code)
    if getattr(config, "auto_map", None) and not trust_remote_code:
        raise remote_code_error(ref)
    return config


def remote_code_error(ref: ModelRef) -> UserError:
    return UserError(
        f"model {ref.name!r} needs trust_remote_code: it runs Python code shipped with the model",
        "only if you trust its authors, ask for it explicitly: twb pipeline --trust-remote-code",
    )


class translate_load_errors:
    """Context manager: any exception while loading becomes a UserError naming the model
    (and known-harmless warnings stay off the terminal)."""

    def __init__(self, ref: ModelRef, trust_remote_code: bool = False, *, needs: str = "", task: str = ""):
        self.ref = ref
        self.trust = trust_remote_code
        self.needs = needs  # e.g. "a sequence-to-sequence model (T5, BART, Marian, ...)"
        self.task = task

    def __enter__(self):
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        # Marian's tokenizer suggests an optional package on every load; it translates fine without.
        warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
        return self

    def __exit__(self, exc_type, exc, tb):
        self._warnings.__exit__(None, None, None)
        if exc is None or isinstance(exc, UserError) or not isinstance(exc, Exception):
            return False
        raise load_error(self.ref, exc, self.needs, self.task) from exc


def load_error(ref: ModelRef, exc: Exception, needs: str = "", task: str = "") -> UserError:
    text = str(exc)
    lowered = text.lower()
    kind = type(exc).__name__
    if "trust_remote_code" in text:
        return remote_code_error(ref)
    if "unrecognized configuration class" in lowered and needs:
        # A known architecture without the task's head (a BERT for summarization, a workbench
        # classifier for feature extraction): not a version problem.
        return UserError(f"model {ref.name!r} is not {needs}, so it cannot run {task or 'this task'}",
                         "choose a model made for this task")
    if kind == "RepositoryNotFoundError" or "is not a valid model identifier" in lowered or "404" in text:
        if not ref.is_local and (is_offline() or "offline" in lowered):
            return offline_error(ref.name)
        return UserError(f"model {ref.name!r} was not found on the Hugging Face hub",
                         "check the id (owner/name), or give a local model folder")
    network_words = ("couldn't connect", "connection", "offline", "timed out", "resolve", "network",
                     "local_files_only", "cannot find the requested files", "localentrynotfound")
    if not ref.is_local and (kind in ("LocalEntryNotFoundError", "OfflineModeIsEnabled")
                             or any(word in lowered for word in network_words)):
        return offline_error(ref.name)
    if isinstance(exc, ImportError) or "requires the" in lowered and "library" in lowered:
        first = text.strip().splitlines()[0] if text.strip() else kind
        return UserError(f"model {ref.name!r} needs a package that is not installed: {first}",
                         "install it with pip, then try again")
    if "unrecognized" in lowered or "does not recognize this architecture" in lowered:
        return UserError(f"model {ref.name!r} has an architecture this transformers version does not know",
                         "upgrade transformers, or choose another model")
    first = text.strip().splitlines()[0] if text.strip() else kind
    return UserError(f"could not load model {ref.name!r}: {first}", "check that the folder or id is a complete model")


def random_head_notice(model, ref: ModelRef, task: str) -> str | None:
    """A notice when the checkpoint lacks the task's head (e.g. fill-mask on a bare BertModel):
    transformers then initialises it randomly and the scores mean nothing."""
    file_keys = _checkpoint_keys(ref)
    if not file_keys:
        return None  # not a safetensors checkpoint we can read cheaply: say nothing
    prefix = getattr(model, "base_model_prefix", "") or ""

    def strip(key: str) -> str:
        return key[len(prefix) + 1:] if prefix and key.startswith(prefix + ".") else key

    saved = {strip(k) for k in file_keys}
    tied = set(getattr(model, "all_tied_weights_keys", None) or ())
    # Only keys outside the base model: the head. Renamed body weights are not our business.
    missing = sorted(k for k in model.state_dict()
                     if not (prefix and k.startswith(prefix + ".")) and k not in tied and strip(k) not in saved)
    if not missing:
        return None
    head = missing[0].split(".")[0]
    return (f"{ref.name} has no trained weights for the {task} head ({head}...): transformers "
            f"initialised them randomly, so the scores carry no meaning")


def _checkpoint_keys(ref: ModelRef) -> set[str]:
    import json
    from pathlib import Path

    if ref.is_local:
        folder = Path(ref.location)
    else:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(ref.location, "config.json")
        if not isinstance(found, str):
            return set()
        folder = Path(found).parent
    try:
        index = folder / "model.safetensors.index.json"
        if index.is_file():
            return set(json.loads(index.read_text())["weight_map"])
        single = folder / "model.safetensors"
        if single.is_file():
            from safetensors import safe_open

            with safe_open(str(single), framework="pt") as f:
                return set(f.keys())
    except (OSError, ValueError, KeyError):
        return set()
    return set()


# The files a tokenizer is saved as (fast, BERT/GPT-2 vocabularies, sentencepiece models).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "spiece.model",
                   "sentencepiece.bpe.model", "source.spm", "tokenizer.model")


def require_tokenizer_files(ref: ModelRef) -> None:
    """Refuse a local folder without a tokenizer: transformers would run it on an empty vocabulary."""
    from pathlib import Path

    if ref.is_local and not any((Path(ref.location) / name).is_file() for name in TOKENIZER_FILES):
        raise UserError(f"model folder {ref.name!r} has no tokenizer files (tokenizer.json, vocab.txt, ...)",
                        "save the tokenizer into the folder too (tokenizer.save_pretrained(folder))")


@dataclass
class HeadModel:
    """A tokenizer and a model with a task head, for the tasks the workbench runs itself."""
    tokenizer: Any
    model: Any
    config: Any
    notices: tuple[str, ...] = ()  # said on every run (e.g. a randomly initialised head)


def load_head_model(ref: ModelRef, trust_remote_code: bool, auto_class: str, head_task: str,
                    needs: str = "") -> HeadModel:
    """Load (once, then from the cache) ``transformers.<auto_class>`` with its tokenizer."""
    def build() -> HeadModel:
        quiet_transformers()
        config = load_config(ref, trust_remote_code)
        require_tokenizer_files(ref)
        import transformers

        with translate_load_errors(ref, trust_remote_code, needs=needs, task=head_task):
            tokenizer = transformers.AutoTokenizer.from_pretrained(ref.location, trust_remote_code=trust_remote_code)
            model = getattr(transformers, auto_class).from_pretrained(ref.location, trust_remote_code=trust_remote_code)
        model.to(device_for_pipelines()).eval()
        notice = random_head_notice(model, ref, head_task)
        return HeadModel(tokenizer, model, config, (notice,) if notice else ())

    return cached((auto_class, ref.location, trust_remote_code), build)
