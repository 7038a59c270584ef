"""Scanning a chunk of a session log in bulk, without json-parsing its lines.

Each line is matched against the fixed ``{"seq":N,"ts":T,"type":"X"`` prefix the writer emits
(core.sessions.writer.encode_record), and a logged step's curve fields are read by the same
match, so opening a 100,000-record log costs two regex passes and a few numpy conversions.
The match depends on the order in which ``core.events.StepLogged`` declares its fields: a test
pins it (tests/core/test_sessions_trust.py). A line the match does not fit is simply parsed
the careful way by the reader.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# One match per line: the writer's fixed prefix when present, then (for logged steps, in the
# order the writer emits core.events.StepLogged) the curve fields, then the rest of the line.
# No "^": each match ends after a "\n", so findall's next match starts at the next line.
_NUMBER = rb'(?:-?[0-9][0-9.eE+-]{0,31})'  # a JSON number; anything else sends the line to the careful path
LINE = re.compile(
    rb'(?:\{"seq":(\d+),"ts":(-?[0-9.eE+-]{1,32}),"type":"([A-Za-z0-9_.-]{1,64})"'
    rb'(?:,"epoch":(\d+),"step":(\d+),"total_steps":\d+,"epoch_progress":' + _NUMBER + rb',"loss":(' + _NUMBER + rb'),'
    rb'"lr":(' + _NUMBER + rb'),"samples_per_s":' + _NUMBER + rb',"tokens_per_s":(' + _NUMBER + rb'),)?)?[^\n]*\n')
UNKNOWN = 255  # the code of a line whose type the scan does not know: parse it to know


@dataclass
class Scan:
    """The complete lines of a chunk, as columns (one entry per line)."""
    starts: np.ndarray  # (n,) offset of the line in the chunk
    ends: np.ndarray  # (n,) offset of its "\n"
    closed: np.ndarray  # (n,) bool: the line ends with "}"
    codes: np.ndarray  # (n,) uint8 type code, UNKNOWN when not in the codes given
    seqs: np.ndarray  # (n,) int64, -1 where no prefix
    ts: np.ndarray  # (n,) float64, nan where no prefix
    step_fields: list[tuple[bytes, ...]]  # epoch, step, loss, lr, tokens_per_s columns; b"" where absent


def scan(buf: bytes, consumed: int, codes_of: dict[bytes, int]) -> Scan:
    """Scan ``buf[:consumed]`` (whole lines, consumed > 0); ``codes_of`` maps type names to codes."""
    arr = np.frombuffer(buf, dtype=np.uint8, count=consumed)
    ends = np.flatnonzero(arr == 0x0A)  # (n,) position of each line's "\n"
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    closed = (ends > starts) & (arr[ends - 1] == 0x7D)  # line ends with "}"
    lines = LINE.findall(buf, 0, consumed)  # one (seq, ts, type, ...) per line; b"" where no prefix
    seq_b, ts_b, type_b, *step_fields = zip(*lines)
    # Columns of byte strings are converted by numpy in C rather than one float() per line.
    kinds, inverse = np.unique(np.array(type_b), return_inverse=True)
    codes = np.array([codes_of.get(bytes(k), UNKNOWN) for k in kinds], dtype=np.uint8)[inverse]
    seq_s = np.array(seq_b, dtype="S32")
    seq_s[seq_s == b""] = b"-1"
    ts_s = np.array(ts_b, dtype="S40")
    ts_s[ts_s == b""] = b"nan"
    return Scan(starts, ends, closed, codes, seq_s.astype(np.int64), ts_s.astype(np.float64), step_fields)


def step_columns(step_fields: list[tuple[bytes, ...]], picked: list[int]) -> tuple[np.ndarray, ...] | None:
    """(step, epoch, loss, lr, tokens_per_s) of the ``picked`` lines; None when one did not match."""
    rows = np.array(picked)
    try:
        epoch, step, loss, lr, tokens = (np.array(col)[rows] for col in step_fields)
        return (step.astype(np.int64), epoch.astype(np.int64), loss.astype(np.float64),
                lr.astype(np.float64), tokens.astype(np.float64))
    except ValueError:  # b"" (the fields did not match) or not a number
        return None
