"""A cache of prepared data: the trained tokenizer and both encoded splits, keyed by content.

Preparing SST-2 (read, train the tokenizer, encode 68k texts) takes seconds; reading it back
takes a fraction of one. An entry's key is a hash of everything that decides the result: the
bytes of the data files (and of a pretrained tokenizer's files), every data setting, the model
settings the encoding uses, the split's seed when the validation set is drawn from the training
file, the ``tokenizers`` version and this format's version. So a changed file or setting never
reads a stale entry: it looks for another key, misses and builds.

Entries live in ``$TWB_CACHE_DIR`` (or ``$XDG_CACHE_HOME/twb``, default ``~/.cache/twb``) under
``data/<key>``. An entry is written whole into a temp folder and renamed into place once; it is
never changed afterwards (the same key always means the same content), so a second writer of the
same key just drops its copy. An entry that cannot be read back (damaged, cut short, from a bug)
is ignored and rebuilt; nothing here ever makes a run fail.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
import numpy as np

from core.config import DataConfig, ModelConfig
from core.data.prepare import EncodedSplit, PreparedData
from core.data.readers import require_regular_file
from core.data.tokenization import load_encoder

# 2: WordPiece vocabularies are trained deterministically; entries of 1 hold one of many.
FORMAT_VERSION = 2
META_FILE = "entry.json"
TEXTS_FILE = "texts.json"
# A temp folder older than this was left by a killed process (writing one takes seconds).
STALE_TEMP_S = 3600
# A pretrained tokenizer's behaviour is in its small text files, not in the model's weights.
_TOKENIZER_SUFFIXES = (".json", ".txt", ".model")


def cache_root() -> Path:
    explicit = os.environ.get("TWB_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "twb"


def _file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tokenizer_hash(name: str) -> str | None:
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return None  # 'wordpiece' / 'word': trained here, decided by the other parts of the key
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _TOKENIZER_SUFFIXES)
    return hashlib.blake2b("".join(f"{p.name}:{_file_hash(p)};" for p in files).encode(), digest_size=20).hexdigest()


def cache_key(data_cfg: DataConfig, model_cfg: ModelConfig, seed: int) -> str | None:
    """The entry's name for these settings, or None when the data is not cached (built-in data
    is generated in milliseconds). Raises UserError for a path that is not a regular file."""
    if data_cfg.source != "file" or not data_cfg.train_path:
        return None
    import tokenizers

    paths = [data_cfg.train_path] + ([data_cfg.val_path] if data_cfg.val_path else [])
    for path, setting in zip(paths, ("data.train_path", "data.val_path")):
        require_regular_file(path, setting)  # before opening it: a FIFO would block the hash
    parts = {
        "format": FORMAT_VERSION,
        "tokenizers": tokenizers.__version__,
        "data": dataclasses.asdict(data_cfg),
        "resolved": [str(Path(p).expanduser().resolve()) for p in paths],  # the summary names them
        "files": [_file_hash(Path(p).expanduser()) for p in paths],
        "tokenizer_files": _tokenizer_hash(data_cfg.tokenizer.strip()),
        "vocab_size": model_cfg.vocab_size,
        "max_seq_len": model_cfg.max_seq_len,
        # The seed only draws the validation split; with a validation file it changes nothing.
        "split_seed": None if data_cfg.val_path else seed,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


# --- reading ------------------------------------------------------------------------------

class _Damaged(Exception):
    pass


def _read_split(folder: Path, name: str, texts: list[str], vocab_size: int, num_classes: int) -> EncodedSplit:
    flat = np.load(folder / f"{name}_ids.npy", allow_pickle=False)
    offsets = np.load(folder / f"{name}_offsets.npy", allow_pickle=False)
    labels = np.load(folder / f"{name}_labels.npy", allow_pickle=False)
    n = len(labels)
    if len(texts) != n or offsets.shape != (n + 1,) or offsets[0] != 0 or offsets[-1] != len(flat):
        raise _Damaged(f"{name} split: sizes do not match")
    if n and (np.any(np.diff(offsets) < 1) or labels.min() < 0 or labels.max() >= num_classes):
        raise _Damaged(f"{name} split: bad lengths or labels")
    if len(flat) and (flat.min() < 0 or flat.max() >= vocab_size):
        raise _Damaged(f"{name} split: token ids outside the vocabulary")
    ids, bounds = flat.tolist(), offsets.tolist()
    return EncodedSplit(texts, [ids[a:b] for a, b in zip(bounds[:-1], bounds[1:])], labels.tolist())


def _read_entry(folder: Path) -> PreparedData:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise _Damaged(f"format {meta.get('format')!r}, expected {FORMAT_VERSION}")
        texts = json.loads((folder / TEXTS_FILE).read_text(encoding="utf-8"))
        encoder = load_encoder(folder)
        names = [str(n) for n in meta["label_names"]]
        train = _read_split(folder, "train", texts["train"], encoder.vocab_size, len(names))
        val = _read_split(folder, "val", texts["val"], encoder.vocab_size, len(names))
        return PreparedData(train, val, names, encoder, dict(meta["summary"]))
    except _Damaged:
        raise
    except Exception as exc:  # OSError, bad JSON or npy, a missing key: all mean a damaged entry
        raise _Damaged(f"{type(exc).__name__}: {exc}") from None


def load(key: str) -> tuple[PreparedData | None, str]:
    """(the cached data or None, a note for the log when an entry was there but unreadable)."""
    folder = cache_root() / "data" / key
    if not folder.is_dir():
        return None, ""
    try:
        return _read_entry(folder), ""
    except _Damaged as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"the cache entry {folder} was unreadable ({exc}) and was rebuilt"


# --- writing ------------------------------------------------------------------------------

def _write_split(folder: Path, name: str, split: EncodedSplit) -> None:
    lengths = np.fromiter((len(s) for s in split.ids), dtype=np.int64, count=len(split.ids))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter((i for s in split.ids for i in s), dtype=np.int32, count=int(offsets[-1]))
    np.save(folder / f"{name}_ids.npy", flat, allow_pickle=False)
    np.save(folder / f"{name}_offsets.npy", offsets, allow_pickle=False)
    np.save(folder / f"{name}_labels.npy", np.asarray(split.labels, dtype=np.int64), allow_pickle=False)


def _remove_stale_temps(parent: Path) -> None:
    now = time.time()
    for entry in parent.glob(".*.tmp-*"):
        try:
            if now - entry.stat().st_mtime > STALE_TEMP_S:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def store(key: str, data: PreparedData) -> str:
    """Write the entry; '' when written (or already there), else why not (for the log)."""
    parent = cache_root() / "data"
    final = parent / key
    tmp = parent / f".{key}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(parent)
        tmp.mkdir()
        data.encoder.save(tmp)
        _write_split(tmp, "train", data.train)
        _write_split(tmp, "val", data.val)
        (tmp / TEXTS_FILE).write_text(json.dumps({"train": data.train.texts, "val": data.val.texts}),
                                      encoding="utf-8")
        meta = {"format": FORMAT_VERSION, "label_names": list(data.label_names), "summary": data.summary}
        (tmp / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        try:
            os.rename(tmp, final)  # atomic; fails when another process has just published the key
        except OSError:
            if not final.is_dir():
                raise
        return ""
    except OSError as exc:
        return f"not cached ({exc.strerror or exc}: {exc.filename or parent})"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def describe_hit(key: str, read_s: float, built_s: float | None) -> str:
    built = f", {built_s:.1f}s to build" if built_s is not None else ""
    return f"cached ({read_s:.2f}s to read{built}; {cache_root() / 'data' / key})"
