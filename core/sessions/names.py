"""Session folder names and where sessions live.

A session folder is ``<YYYYmmdd-HHMMSS>-<name>`` under the sessions root. The user-given part
is sanitised to letters and digits of any script plus '.', '_' and '-', so that no name, however
odd, writes outside the root, and "Résumé-日本" stays readable.
"""
from __future__ import annotations

import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Callable

from core.errors import UserError

LOG_NAME = "session.jsonl"
CONFIG_NAME = "config.toml"
LOCK_NAME = ".lock"
CHECKPOINTS_DIR = "checkpoints"
EXPORTS_DIR = "exports"
ROOT_ENV = "TWB_SESSIONS_DIR"
DEFAULT_ROOT = "sessions"
MAX_NAME_LEN = 64

_STAMP = re.compile(r"^\d{8}-\d{6}(?:-\d+)?-")


def sessions_root(explicit: str | os.PathLike | None = None) -> Path:
    """``explicit``, else $TWB_SESSIONS_DIR, else ./sessions."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def sanitize_name(name: str) -> str:
    """A name made only of letters, digits (any script), '.', '_' and '-', never starting with '.' or '-'.

    Separators, '..', control and format characters and other symbols become '-', so the result
    is always a single path component inside the sessions root. NFKC first, so that look-alikes
    such as a full-width solidus become the plain character and are replaced like it.
    """
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(c if c in "._-" or unicodedata.category(c)[0] in "LNM" else "-" for c in text)
    text = re.sub(r"(?:^|(?<=-))\.+(?=-|$)", "", text)  # "..", "." left as a whole segment
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r"-{2,}", "-", text).strip(".-_")
    return text[:MAX_NAME_LEN].strip(".-_") or "run"


def folder_name(name: str, when: datetime | None = None) -> str:
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{sanitize_name(name)}"


def user_name(folder: str) -> str:
    """The user-given part of a session folder's name."""
    return _STAMP.sub("", folder, count=1) or folder


def new_session_dir(root: str | os.PathLike, name: str, when: datetime | None = None) -> Path:
    """Create and return a fresh, empty session folder inside ``root``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    base = folder_name(name, when)
    for n in range(1000):
        candidate = root / (base if n == 0 else _with_counter(base, n))
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        # Belt and braces: the sanitised name is one component, so this always holds.
        if candidate.resolve().parent != root.resolve():
            raise UserError(f"session name {name!r} leads outside {root}", "use letters, digits, '-' and '_'")
        return candidate
    raise UserError(f"too many sessions named {name!r} in the same second under {root}", "pick another name")


def _with_counter(base: str, n: int) -> str:
    stamp, rest = base[:15], base[16:]
    return f"{stamp}-{n}-{rest}"


def is_session_dir(path: Path) -> bool:
    return path.is_dir() and (path / LOG_NAME).is_file()


def session_of_checkpoint(checkpoint: str | os.PathLike) -> Path | None:
    """The session folder holding ``checkpoint`` (``<session>/checkpoints/...``), or None."""
    path = Path(checkpoint).expanduser().resolve()
    for folder in (path, *path.parents):
        if folder.name == CHECKPOINTS_DIR and is_session_dir(folder.parent):
            return folder.parent
    return None


def list_session_dirs(root: str | os.PathLike) -> list[Path]:
    """Session folders under ``root``, oldest first (by the header's time, to the millisecond)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if is_session_dir(p)), key=lambda p: (_created(p), p.name))


_TS = re.compile(rb'"ts":(\d+(?:\.\d+)?)')


def _created(folder: Path) -> float:
    """The header's timestamp (one short read); the folder name's second when unreadable."""
    try:
        with open(folder / LOG_NAME, "rb") as f:
            m = _TS.search(f.readline(4096))
        if m:
            return float(m.group(1))
    except OSError:
        pass
    try:
        return datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S").timestamp()
    except ValueError:
        return 0.0


def sessions_named(ref: str, root: str | os.PathLike | None = None) -> list[Path]:
    """Sessions whose folder name is ``ref``, else whose user-given name is ``ref`` (oldest first)."""
    sessions = list_session_dirs(sessions_root(root))
    by_folder = [p for p in sessions if p.name == ref]
    if by_folder:
        return by_folder
    wanted = sanitize_name(ref)
    return [p for p in sessions if user_name(p.name) == wanted]


def choice_note(ref: str, matches: list[Path]) -> str | None:
    """When several sessions answer to ``ref``: which one is used (the newest) and how to pick another."""
    if len(matches) < 2:
        return None
    others = ", ".join(p.name for p in reversed(matches[:-1][-3:]))
    return (f"{len(matches)} sessions are named {ref!r}; using {matches[-1].name}, the newest "
            f"(pass a folder name to choose another: {others})")


def resolve_session(ref: str, root: str | os.PathLike | None = None,
                    note: Callable[[str], None] | None = None) -> Path:
    """Find a session by folder path, folder name, or user-given name (the newest wins).

    When several sessions answer to the name, ``note`` is told which one was chosen.
    Raises UserError naming what was looked for and what exists.
    """
    root_path = sessions_root(root)
    as_path = Path(ref).expanduser()
    if is_session_dir(as_path):
        return as_path
    if as_path.is_file() and as_path.name == LOG_NAME:
        return as_path.parent
    matches = sessions_named(ref, root_path)
    if not matches:
        wanted = sanitize_name(ref)
        matches = [p for p in list_session_dirs(root_path)
                   if p.name.startswith(ref) or user_name(p.name).startswith(wanted)]
    if matches:
        message = choice_note(ref, matches)
        if message and note is not None:
            note(message)
        return matches[-1]
    if as_path.is_dir():
        raise UserError(f"{ref} has no {LOG_NAME}: it is not a session folder", "pass a folder listed by `twb sessions`")
    known = ", ".join(user_name(p.name) for p in list_session_dirs(root_path)[-5:]) or "none yet"
    raise UserError(f"no session {ref!r} under {root_path}", f"run `twb sessions` to list them (recent: {known})")
