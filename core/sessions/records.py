"""One session record at a time: parsing a line, checking its fields, naming what is wrong.

A session log is a file a user can edit, truncate or damage, so nothing read from it is trusted:
a line that is not JSON (or nests too deep to parse), and a record whose fields have the wrong
types, both become a ``Problem`` of that session instead of an exception in whoever reads it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from core.events import RENAMED_EVENT_TYPES, from_record
from core.sessions import schema

MALFORMED = "(malformed)"

ProblemKind = Literal["torn_tail", "malformed", "unknown_type", "header_only", "repaired", "out_of_order"]


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    message: str
    line: int | None = None  # 1-based line number in session.jsonl
    offset: int | None = None  # byte offset in session.jsonl

    def __str__(self) -> str:
        return self.message


def json_or_none(raw: bytes) -> Any:
    """The parsed line, or None when it is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # ValueError includes UnicodeDecodeError; deep nesting recurses
        return None


# The fields the session's own record types must have, where they are present, by JSON type.
_SESSION_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    schema.CONFIG: {"config": dict, "toml": str},
    schema.ACTION: {"action": str, "detail": dict},
    schema.END: {"status": str, "detail": dict},
    schema.REOPENED: {"pid": int, "host": str, "repaired": dict},
    schema.EXPLANATION: {"tokens": list, "target": str, "prediction": dict, "scores": dict},
}


def check_fields(rtype: str, record: dict[str, Any]) -> None:
    """TypeError naming the first field whose type is wrong for a record of type ``rtype``.

    Engine events are checked against their dataclass (``core.events.from_record``); the
    session's own records against ``_SESSION_FIELDS``. Other types pass (they are shown raw).
    """
    if rtype in schema.EVENT_TYPE_NAMES:
        from_record({**record, "type": RENAMED_EVENT_TYPES.get(rtype, rtype)})
        return
    for name, expected in _SESSION_FIELDS.get(rtype, {}).items():
        value = record.get(name)
        if value is not None and (not isinstance(value, expected) or isinstance(value, bool)):
            raise TypeError(f"{rtype}.{name} is {type(value).__name__}, not {getattr(expected, '__name__', expected)}")
