"""Reading labelled text files: CSV, TSV and JSONL, chosen by extension.

Every problem a user can cause (missing or empty file, bytes that are not UTF-8, a row with
the wrong number of fields, a broken JSON line, no recognisable text or label column) becomes
a ``UserError`` naming the file, the line and the fix.
"""
from __future__ import annotations

import csv
import io
import json
import math
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError

TEXT_COLUMNS = ("sentence", "text", "content", "sms", "review", "message", "document", "body",
                "comment", "tweet", "utterance", "v2")
LABEL_COLUMNS = ("label", "labels", "category", "class", "sentiment", "target", "polarity",
                 "intent", "y", "v1")
TSV_EXTENSIONS = (".tsv", ".txt", ".tab")
CSV_EXTENSIONS = (".csv",)
JSONL_EXTENSIONS = (".jsonl", ".ndjson", ".json")

# SST-2-style texts can be long; the csv module's default field limit (128 KiB) is not a
# format rule, and a clear per-row error beats "field larger than field limit".
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class Table:
    """A file's text and label columns, with the 1-based line number of every row."""

    path: str
    columns: list[str]
    text_column: str
    label_column: str
    texts: list[str]
    labels: list[str]
    lines: list[int]


def _fail(path: Path, message: str, hint: str, line: int | None = None) -> UserError:
    where = f"{path}, line {line}" if line is not None else str(path)
    return UserError(f"{where}: {message}", hint)


_NOT_REGULAR = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                (stat.S_ISSOCK, "a socket"))


def require_regular_file(path: str | Path, setting: str = "the path") -> None:
    """UserError unless ``path`` is an existing regular file (a link to one is fine).

    Opening a FIFO or a terminal device blocks until someone writes to it, so the type is
    checked before any read.
    """
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise _fail(path, "file not found", "check the path (relative paths start at the current folder)") from None
    except OSError as exc:
        raise _fail(path, f"cannot read the file: {exc.strerror or exc}", "check its permissions") from None
    for is_kind, kind in _NOT_REGULAR:
        if is_kind(mode):
            raise _fail(path, f"is {kind}, not a regular file", f"point {setting} at a CSV, TSV or JSONL file")
    if not stat.S_ISREG(mode):
        raise _fail(path, "is not a regular file", f"point {setting} at a CSV, TSV or JSONL file")


def _read_text(path: Path) -> str:
    require_regular_file(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read the file: {exc.strerror or exc}", "check its permissions") from None
    try:
        text = raw.decode("utf-8-sig")  # -sig: spreadsheet exports often start with a BOM
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(path, f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                    "re-save the file as UTF-8 (e.g. in a spreadsheet: Save As, CSV UTF-8)", line) from None
    if not text.strip():
        raise _fail(path, "the file is empty", "it needs a header row and at least one example per class")
    return text


def _format(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in TSV_EXTENSIONS:
        return "tsv"
    if ext in CSV_EXTENSIONS:
        return "csv"
    if ext in JSONL_EXTENSIONS:
        return "jsonl"
    raise _fail(path, f"unknown file type {ext or '(no extension)'!r}",
                "use .csv, .tsv (or .txt, tab-separated) or .jsonl")


def detect_column(columns: list[str], wanted: str, known: tuple[str, ...], role: str, path: Path,
                  setting: str) -> str:
    """``wanted`` when given, else the first column whose name is a known ``role`` name."""
    if wanted:
        if wanted in columns:
            return wanted
        by_lower = {c.lower(): c for c in columns}
        if wanted.lower() in by_lower:
            return by_lower[wanted.lower()]
        raise _fail(path, f"no column named {wanted!r} (columns found: {', '.join(map(repr, columns))})",
                    f"set {setting} to one of the columns found")
    by_lower = {c.strip().lower(): c for c in columns}
    for name in known:
        if name in by_lower:
            return by_lower[name]
    if not columns:
        raise _fail(path, f"no recognisable {role} column (no columns found)", f"set {setting}")
    example = f"{setting} {columns[0]!r}" if setting.startswith("--") else f"--set {setting}={columns[0]!r}"
    raise _fail(path, f"no recognisable {role} column (columns found: {', '.join(map(repr, columns))})",
                f"set {setting} to the column that holds the {role}, e.g. {example}")


# The settings that name the columns, as hints show them: config fields, or a command's options.
SETTINGS = ("data.text_column", "data.label_column")


def _columns(path: Path, columns: list[str], text_column: str, label_column: str,
             labels_optional: bool = False, settings: tuple[str, str] = SETTINGS) -> tuple[str, str]:
    """The text and label column names; the label is "" when optional and none is recognisable."""
    text = detect_column(columns, text_column, TEXT_COLUMNS, "text", path, settings[0])
    if labels_optional and not label_column and not any(c.strip().lower() in LABEL_COLUMNS for c in columns):
        return text, ""
    label = detect_column(columns, label_column, LABEL_COLUMNS, "label", path, settings[1])
    if text == label:
        raise _fail(path, f"the text and label columns are both {text!r}",
                    f"set {settings[0]} and {settings[1]} to different columns")
    return text, label


def _delimited_rows(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank row, the header included; all rows equally wide."""
    # TSV is read without quoting: SST-2-style texts contain bare " and ' characters.
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=True)
    kind = "tab" if delimiter == "\t" else "comma"
    rows: list[tuple[int, list[str]]] = []
    width = 0
    while True:
        start = reader.line_num + 1  # a quoted field may span lines; its row starts here
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _fail(path, f"cannot parse the row: {exc}",
                        'put fields with commas, quotes or line breaks in double quotes ("" for a quote)',
                        start) from None
        if not row:
            continue  # blank line
        if not rows:
            width = len(row)
        elif len(row) != width:
            raise _fail(path, f"expected {width} {kind}-separated fields (as in the first row), got {len(row)}",
                        "fix or remove that row" + (" (a stray tab inside a text?)" if delimiter == "\t" else
                                                    "; quote fields that contain commas"), start)
        rows.append((start, row))
    return rows


def _headerless_columns(rows: list[tuple[int, list[str]]]) -> tuple[int, int] | None:
    """(text index, label index) when the first row is data, not a header, else None.

    Files like the SMS Spam Collection ("ham<TAB>Go until jurong point...") have no header.
    The first row is data when one column holds few distinct values and the first row's value
    there comes back in later rows (a header name would not); the text is the longest column.
    """
    if len(rows) < 3 or len(rows[0][1]) < 2:
        return None
    width = len(rows[0][1])
    few = max(2, min(100, len(rows) // 5))
    label_candidates = []
    for j in range(width):
        values = [row[j].strip() for _, row in rows]
        distinct = set(values)
        if 2 <= len(distinct) <= few and values[0] in values[1:]:
            label_candidates.append((len(distinct), j))
    if not label_candidates:
        return None
    label = min(label_candidates)[1]
    mean_length = {j: sum(len(row[j]) for _, row in rows) / len(rows) for j in range(width) if j != label}
    text = max(mean_length, key=mean_length.__getitem__)
    return text, label


def _read_delimited(path: Path, text: str, delimiter: str, text_column: str, label_column: str,
                    labels_optional: bool, settings: tuple[str, str]) -> Table:
    rows = _delimited_rows(path, text, delimiter)
    columns = [c.strip() for c in rows[0][1]]
    try:
        text_name, label_name = _columns(path, columns, text_column, label_column, labels_optional, settings)
        ti, li = columns.index(text_name), (columns.index(label_name) if label_name else None)
        body = rows[1:]
    except UserError:
        found = None if (text_column or label_column) else _headerless_columns(rows)
        if found is None:
            raise
        ti, li = found
        columns = [f"column {j + 1}" for j in range(len(columns))]
        text_name, label_name, body = columns[ti], columns[li], rows
    texts = [row[ti] for _, row in body]
    labels = [row[li].strip() for _, row in body] if li is not None else []
    lines = [line for line, _ in body]
    return Table(str(path), columns, text_name, label_name, texts, labels, lines)


def _fail_at(path: Path, line_word: str, number: int, message: str, hint: str) -> UserError:
    """``path, line N: ...`` for JSONL; ``path: item N: ...`` for one JSON array."""
    if line_word == "line":
        return _fail(path, message, hint, number)
    return _fail(path, f"{line_word} {number}: {message}", hint)


def _json_value_to_text(value: object, path: Path, line_word: str, number: int, name: str) -> str:
    """A text or label field as text; null and NaN become "" (missing), lists and objects are errors."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (list, dict)):
        kind = "list" if isinstance(value, list) else "object"
        raise _fail_at(path, line_word, number, f"field {name!r} holds a JSON {kind}, not a single value",
                       f"give {name!r} a string (or a number) in every example")
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate escape such as "\ud800"
        raise _fail_at(path, line_word, number, f"field {name!r} holds {text[exc.start]!r}, half of a "
                       "UTF-16 surrogate pair, which is not text",
                       "fix the escape (a character outside the BMP needs both halves) or write the character "
                       "itself") from None
    return text


def _read_jsonl(path: Path, text: str, text_column: str, label_column: str, labels_optional: bool,
                settings: tuple[str, str]) -> Table:
    records: list[tuple[int, dict]] = []
    stripped = text.lstrip()
    if stripped.startswith("["):  # a .json file holding one array of objects
        try:
            array = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(path, f"not valid JSON: {exc.msg}", "fix the file or write one JSON object per line",
                        exc.lineno) from None
        records = [(i + 1, obj) for i, obj in enumerate(array)]
        line_word = "item"
    else:
        line_word = "line"
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _fail(path, f"not valid JSON ({exc.msg} at column {exc.colno})",
                            "each line must be one JSON object, e.g. {\"text\": \"...\", \"label\": \"pos\"}",
                            number) from None
            records.append((number, obj))
    for number, obj in records:
        if not isinstance(obj, dict):
            raise _fail(path, f"{line_word} {number} is a JSON {type(obj).__name__}, not an object",
                        "each example must be an object with a text and a label field")
    if not records:
        raise _fail(path, "the file has no examples", "add one JSON object per line")
    columns = list(records[0][1].keys())
    text_name, label_name = _columns(path, columns, text_column, label_column, labels_optional, settings)
    texts, labels, lines = [], [], []
    for number, obj in records:
        missing = [c for c in (text_name, label_name) if c and c not in obj]
        if missing:
            raise _fail(path, f"no {missing[0]!r} field (fields found: {', '.join(map(repr, obj))})",
                        "every example needs the same text and label fields", number)
        texts.append(_json_value_to_text(obj[text_name], path, line_word, number, text_name))
        if label_name:
            labels.append(_json_value_to_text(obj[label_name], path, line_word, number, label_name).strip())
        lines.append(number)
    return Table(str(path), columns, text_name, label_name, texts, labels, lines)


def read_table(path: str | Path, text_column: str = "", label_column: str = "",
               labels_optional: bool = False, settings: tuple[str, str] = SETTINGS) -> Table:
    """The text and label columns of a CSV, TSV or JSONL file (chosen by its extension).

    ``labels_optional`` (texts to predict): a file without a recognisable label column reads
    with ``label_column == ""`` and no labels, and rows without a label are fine. ``settings`` name the column options in error hints."""
    path = Path(path).expanduser()
    fmt = _format(path)
    text = _read_text(path)
    if fmt == "jsonl":
        table = _read_jsonl(path, text, text_column, label_column, labels_optional, settings)
    else:
        table = _read_delimited(path, text, "\t" if fmt == "tsv" else ",", text_column, label_column,
                                labels_optional, settings)
    if not table.texts:
        raise _fail(path, "the file has a header but no examples", "add at least one example per class")
    if labels_optional:
        return table
    missing = [line for label, line in zip(table.labels, table.lines) if is_missing_label(label)]
    if missing:
        more = f" (and {len(missing) - 1} more rows without one)" if len(missing) > 1 else ""
        raise _fail(path, f"no label in column {table.label_column!r}: empty, null or NaN{more}",
                    "give every example a label, or remove the rows without one", missing[0])
    return table


def is_missing_label(label: str) -> bool:
    """Empty, or NaN in any spelling (a spreadsheet's or pandas' mark for a missing value)."""
    return not label or label.lower().lstrip("+-") == "nan"
