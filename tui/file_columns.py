"""The column names of a data file, read from its first line, to offer as choices in the form.

Only the header is read, so this is instant even on large files; the engine's own loader
(core.data.prepare) stays the authority on what the file holds.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path


def read_columns(path: str) -> list[str]:
    """Column names of a CSV/TSV (header row) or JSONL (first object's keys); [] when unknown."""
    p = Path(path).expanduser()
    if not path or not p.is_file():
        return []
    try:
        with p.open(encoding="utf-8", errors="replace", newline="") as f:
            first = f.readline()
    except OSError:
        return []
    first = first.strip("\ufeff\r\n")
    if not first:
        return []
    if p.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        try:
            obj = json.loads(first)
        except ValueError:
            return []
        return [str(k) for k in obj] if isinstance(obj, dict) else []
    delimiter = "\t" if p.suffix.lower() == ".tsv" or first.count("\t") > first.count(",") else ","
    return [c.strip() for c in next(csv.reader([first], delimiter=delimiter), []) if c.strip()]
