"""The session log format: versioned JSON Lines, one record per line.

Every record is a JSON object whose first three keys are ``seq`` (0, 1, 2, ... in file order),
``ts`` (Unix time, seconds) and ``type``. The writer always emits them first and in that order
so that the reader can index a log with a cheap prefix match instead of parsing every line.

Record types (schema 1):

- ``header``       first line only: format, schema, name, created, pid, host, twb_version
- ``reopened``     a later process appends to the session (resume): pid, host, repaired tear
- ``config``       config (core.config.to_dict), toml (file name of the saved copy)
- engine events    ``type`` is the event class name (RunStarted, StepLogged, EpochCompleted, ...)
                   and the other keys its fields, exactly ``core.events.to_record``; a NaN or
                   infinite float is written as null (JSON has neither), read back as NaN
- ``action``       action (start, cancel, resume, interrupt, ...), detail
- ``attention``    an attention view the user looked at: tokens, shape, float16 weights (base64)
- ``explanation``  an explanation the user looked at: core.explanation.Explanation.to_record()
- ``console``      a pipeline prompt: task, model, inputs, params, result, error, latency_s
- ``end``          status (finished, failed, cancelled, interrupted), detail; the writer closed

A reader meeting an unknown type keeps the record raw (and shows it raw); a header with a
higher ``schema`` than ``SCHEMA_VERSION`` is refused with a message saying so.
"""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:  # numpy loads only when weights are (de)coded: the workbench's first frame needs none
    import numpy as np

from core.errors import UserError
from core.events import EVENT_TYPES, RENAMED_EVENT_TYPES

FORMAT = "twb-session"
SCHEMA_VERSION = 1

HEADER = "header"
REOPENED = "reopened"
CONFIG = "config"
ACTION = "action"
ATTENTION = "attention"
CONSOLE = "console"
EXPLANATION = "explanation"
END = "end"

SESSION_TYPES = (HEADER, REOPENED, CONFIG, ACTION, ATTENTION, CONSOLE, EXPLANATION, END)
EVENT_TYPE_NAMES = tuple(EVENT_TYPES) + tuple(RENAMED_EVENT_TYPES)
KNOWN_TYPES = SESSION_TYPES + EVENT_TYPE_NAMES

# What a session's status can be, as `twb sessions` shows it.
SessionStatus = Literal["running", "finished", "failed", "cancelled", "interrupted", "crashed"]
EndStatus = Literal["finished", "failed", "cancelled", "interrupted"]  # what an ``end`` record says
RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED, CRASHED = get_args(SessionStatus)
END_STATUSES: tuple[EndStatus, ...] = get_args(EndStatus)
STATUS_OF_EVENT: dict[str, SessionStatus] = {
    "TrainingFinished": FINISHED, "TrainingFailed": FAILED, "TrainingCancelled": CANCELLED}

Action = Literal["start", "cancel", "resume", "interrupt", "detach", "note"]
ACTIONS: tuple[Action, ...] = get_args(Action)


class SessionError(UserError):
    """A session that cannot be opened at all (empty, not a session, too new)."""


def encode_weights(weights: np.ndarray) -> dict[str, Any]:
    """Attention weights as float16 bytes in base64, with their shape: about 2 bytes per value.

    Float16 keeps three significant digits, more than a heat map can show.
    """
    import numpy as np

    arr = np.ascontiguousarray(np.asarray(weights, dtype=np.float32).astype("<f2"))
    return {"shape": list(arr.shape), "dtype": "float16", "data": base64.b64encode(arr.tobytes()).decode("ascii")}


def decode_weights(blob: dict[str, Any]) -> np.ndarray:
    """Inverse of ``encode_weights``: float32 array of the recorded shape; ValueError if damaged."""
    import numpy as np

    if blob.get("dtype") != "float16":
        raise ValueError(f"unsupported weights dtype {blob.get('dtype')!r}")
    shape = tuple(int(n) for n in blob["shape"])
    raw = base64.b64decode(blob["data"], validate=True)
    arr = np.frombuffer(raw, dtype="<f2")
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"weights hold {arr.size} values, shape {list(shape)} needs {int(np.prod(shape))}")
    return arr.reshape(shape).astype(np.float32)


def check_header(record: dict[str, Any], where: str) -> None:
    """Raise SessionError unless ``record`` is a header this version can read."""
    if record.get("type") != HEADER or record.get("format") != FORMAT:
        raise SessionError(f"{where} is not a twb session log (its first line is not a session header)",
                           "pass a folder listed by `twb sessions`")
    schema = record.get("schema")
    if not isinstance(schema, int) or schema < 1:
        raise SessionError(f"{where} has a header without a valid schema version ({schema!r})",
                           "the file was edited or damaged; restore it from a copy")
    if schema > SCHEMA_VERSION:
        raise SessionError(
            f"{where} was written with session schema {schema}; this twb reads schema {SCHEMA_VERSION} and older",
            "upgrade twb (pip install -U transformer-workbench) to open it")
