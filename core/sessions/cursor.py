"""The state of a session as of a replay cursor: what each pane shows at that record.

The cursor is a record index (inclusive). Everything it answers comes from the log's small
derived state (curves, epochs, configs) or from the few records around the cursor, read
lazily, so moving anywhere in a 100,000-record session costs about the same.
"""
from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from core.attention import AttentionView
from core.events import Event
from core.explanation import Explanation
from core.sessions import schema
from core.sessions.reader import MALFORMED, SessionLog

# What the training log pane lists (attention and console records go to their own panes).
LOG_TYPES = frozenset({"RunStarted", "StepLogged", "EpochCompleted", "ValidationReported", "ClassReportComputed",
                       "EvaluationReported", "CheckpointSaved", "TrainingFinished", "TrainingFailed",
                       "TrainingCancelled", schema.ACTION, schema.END, schema.REOPENED, schema.CONFIG})
SPEEDS = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, None)  # None: instant
MAX_PAUSE_S = 2.0  # long idle gaps in the recording are shortened to this when playing


@dataclass(frozen=True, eq=False)
class RecordedAttention(AttentionView):
    """An attention view as recorded: an AttentionView, plus what the user was looking at."""
    text: str | None = None
    layer: int | None = None
    head: int | None = None
    index: int = -1  # record index in the log


def attention_from_record(record: dict[str, Any], index: int = -1) -> RecordedAttention:
    """Decode an ``attention`` record; ValueError when its weights are damaged."""
    weights = schema.decode_weights(record["weights"])
    tokens = [str(t) for t in record.get("tokens") or []]
    if weights.ndim != 4 or weights.shape[-1] != len(tokens) or weights.shape[-2] != len(tokens):
        raise ValueError(f"attention weights of shape {list(weights.shape)} do not match {len(tokens)} tokens")
    return RecordedAttention(tokens=tokens, weights=weights, source=record.get("source") or "",
                             causal=bool(record.get("causal")), prediction=record.get("prediction"),
                             text=record.get("text"), layer=record.get("layer"), head=record.get("head"),
                             truncated=int(record.get("truncated") or 0), index=index)


def explanation_from_record(record: dict[str, Any], index: int = -1) -> Explanation | dict[str, Any]:
    """Decode an ``explanation`` record, or the malformed-record dict saying why it cannot be."""
    try:
        return Explanation.from_record(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return {"type": MALFORMED, "line": index + 1, "raw": f"explanation record could not be decoded: {exc}"}


class ReplayCursor:
    def __init__(self, log: SessionLog):
        self.log = log
        self.position = len(log) - 1  # opens at the end: the whole session, as last seen

    # --- moving ---------------------------------------------------------------------------

    @property
    def last(self) -> int:
        return len(self.log) - 1

    def seek(self, index: int) -> int:
        self.position = max(0, min(index, self.last))
        return self.position

    def step(self, n: int = 1) -> int:
        return self.seek(self.position + n)

    def to_start(self) -> int:
        return self.seek(0)

    def to_end(self) -> int:
        return self.seek(self.last)

    def to_epoch(self, epoch: int) -> int | None:
        """Move to the end of ``epoch`` (its EpochCompleted record); None when it never completed."""
        index = self.log.epoch_index(epoch)
        return None if index is None else self.seek(index)

    @property
    def at_end(self) -> bool:
        return self.position >= self.last

    def delay_to_next(self, speed: float | None) -> float:
        """Seconds to wait before the next record when playing at ``speed`` (None: instant)."""
        if speed is None or self.at_end:
            return 0.0
        gap = self.log.ts[self.position + 1] - self.log.ts[self.position]
        if not gap > 0:  # nan or out of order
            return 0.0
        return min(gap / speed, MAX_PAUSE_S)

    # --- what the panes show -----------------------------------------------------------------

    def config(self) -> dict[str, Any] | None:
        """The hyperparameters as they were at the cursor (core.config.to_dict form)."""
        found = self.log.last_before(self.log.configs, self.position)
        return found[1] if found else None

    def epochs(self) -> list[dict[str, Any]]:
        return [r for i, r in self.log.epochs if i <= self.position]

    def curve_length(self) -> int:
        """How many logged steps the curves show at the cursor (a prefix of log.curves)."""
        return self.log.curves.upto(self.position)

    def curves(self) -> dict[str, array]:
        """Curve columns up to the cursor, as compact arrays (8 bytes a point)."""
        n = self.curve_length()
        c = self.log.curves
        return {"step": c.step[:n], "loss": c.loss[:n], "lr": c.lr[:n], "epoch": c.epoch[:n],
                "tokens_per_s": c.tokens_per_s[:n]}

    def recent(self, limit: int = 200, types: frozenset[str] = LOG_TYPES) -> list[tuple[int, Event | dict[str, Any]]]:
        """The last ``limit`` records of ``types`` at or before the cursor, as events where they are events.

        Unknown record types and damaged lines are included raw, so they show instead of vanishing.
        """
        log = self.log
        wanted = {code for code, name in enumerate(log.type_names) if name in types or name == MALFORMED}
        wanted |= {log.types[i] for i in log.raw_index}
        picked: list[int] = []
        i = self.position
        while i >= 0 and len(picked) < limit:
            if log.types[i] in wanted:
                picked.append(i)
            i -= 1
        return [(i, log.event(i)) for i in reversed(picked)]

    def attention(self) -> RecordedAttention | dict[str, Any] | None:
        """The last attention view viewed at or before the cursor (raw record if damaged)."""
        index = self.log.last_before(self.log.attention_index, self.position)
        if index is None:
            return None
        record = self.log.record(index)
        try:
            return attention_from_record(record, index)
        except (KeyError, TypeError, ValueError) as exc:
            return {"type": MALFORMED, "line": index + 1, "raw": f"attention record could not be decoded: {exc}"}

    def explanation(self) -> Explanation | dict[str, Any] | None:
        """The last explanation viewed at or before the cursor (raw record if damaged)."""
        index = self.log.last_before(self.log.explanation_index, self.position)
        if index is None:
            return None
        return explanation_from_record(self.log.record(index), index)

    def console(self, limit: int = 50) -> list[tuple[int, dict[str, Any]]]:
        """The last ``limit`` console prompts and results at or before the cursor."""
        k = bisect_right(self.log.console_index, self.position)
        indices = self.log.console_index[max(0, k - limit):k]
        return [(i, self.log.record(i)) for i in indices]

    def status(self) -> str:
        """The session's status at the end; "replaying" before it."""
        return self.log.status() if self.at_end else "replaying"

    def describe(self) -> str:
        """One line for the status bar: where the cursor is."""
        log = self.log
        epoch = max((int(r.get("epoch") or 0) for r in self.epochs()), default=0)
        n = self.curve_length()
        step = log.curves.step[n - 1] if n else 0
        return f"record {self.position + 1}/{len(log)}, epoch {epoch} done, step {step}"
