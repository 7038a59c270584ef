"""Are the data files there? Checked before a run starts, in the config check's terms.

The form calls this on each edit, so a preset whose relative paths do not resolve from the
current folder shows the problem under the field instead of failing at F6. A FIFO or device is
refused too: reading one would block the run for ever.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from core.config import FieldError, RunConfig

PATH_FIELDS = ("train_path", "val_path")


def check_data_file(path: str, cwd: str | Path | None = None) -> str | None:
    """What is wrong with ``path`` as a data file (None when it can be read)."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    full = Path(path).expanduser()
    full = full if full.is_absolute() else base / full
    where = "" if Path(path).expanduser().is_absolute() else f" (relative paths are read from {base})"
    try:
        info = full.stat()
    except FileNotFoundError:
        return f"{path} does not exist{where}"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}{where}"
    if stat.S_ISDIR(info.st_mode):
        return f"{path} is a folder; give a CSV, TSV or JSONL file"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file (a pipe or device would block the run); give a CSV, TSV or JSONL file"
    if not os.access(full, os.R_OK):
        return f"{path} is not readable (check its permissions)"
    return None


def check_data_paths(config: RunConfig, cwd: str | Path | None = None) -> list[FieldError]:
    """Problems with the data files ``config`` names, per field (empty when they can be read)."""
    if config.data.source != "file":
        return []
    errors = []
    for name in PATH_FIELDS:
        path = getattr(config.data, name)
        problem = check_data_file(path, cwd) if path else None
        if problem:
            errors.append(FieldError(f"data.{name}", problem))
    return errors
