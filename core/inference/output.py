"""Predictions as a file or as lines: CSV, JSONL, or TSV for a terminal or a pipe."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Sequence

from core.errors import UserError

OUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".tsv": "tsv"}
COLUMNS = ("text", "label", "score")


def out_format(out: str | os.PathLike, data: str | os.PathLike) -> str:
    """The format ``out``'s extension names; UserError, before any work, when it cannot be written."""
    path, source = Path(out).expanduser(), Path(data).expanduser()
    fmt = OUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"cannot tell the output format of {str(path)!r} from its extension",
                        "name it .csv, .jsonl or .tsv")
    if path.exists() and source.exists() and path.resolve() == source.resolve():
        raise UserError(f"--out {str(path)!r} is the input file; it was not overwritten",
                        "write the predictions to another file")
    if path.is_dir():
        raise UserError(f"--out {str(path)!r} is a folder", "give a file name, e.g. predictions.csv")
    folder = path.parent
    if not folder.is_dir():
        raise UserError(f"the folder of --out {str(path)!r} does not exist", f"create {str(folder)!r} first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to the folder of --out {str(path)!r}", "choose a folder you can write to")
    return fmt


def render(fmt: str, texts: Sequence[str], labels: Sequence[str], scores: Sequence[float]) -> str:
    """One row per text (input order): the text, the predicted label and its score."""
    if fmt == "jsonl":
        return "".join(json.dumps({"text": t, "label": l, "score": s}, ensure_ascii=False) + "\n"
                       for t, l, s in zip(texts, labels, scores))
    buffer = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(zip(texts, labels, scores))
        return buffer.getvalue()
    # TSV as the readers read it (no quoting): a tab or line break inside a text becomes a space.
    lines = ["\t".join(COLUMNS)]
    lines += [f"{_one_field(t)}\t{_one_field(l)}\t{s}" for t, l, s in zip(texts, labels, scores)]
    return "\n".join(lines) + "\n"


def _one_field(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines()) if ("\t" in text or "\n" in text or "\r" in text) else text


def write_predictions(out: str | os.PathLike, text: str) -> None:
    """Atomically: an interrupted or failed write leaves no half file (and any old one whole)."""
    from core.files import write_text_atomic

    path = Path(out).expanduser()
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise UserError(f"cannot write {str(path)!r}: {exc.strerror or exc}",
                        "free some disk space or choose a folder you can write to") from None
