"""The installed twb version: package metadata, else the checkout's pyproject.toml."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DISTRIBUTION = "transformer-workbench"
_PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


@lru_cache(maxsize=1)
def twb_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version(DISTRIBUTION)
    except (ImportError, PackageNotFoundError):  # running from a checkout that is not installed
        return pyproject_version() or "unknown"


def pyproject_version(path: Path = _PYPROJECT) -> str | None:
    """``version`` of the [project] table; a regex, as tomllib is only in Python 3.11+."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.M) if project else None
    return found.group(1) if found else None
