"""What the engine reports: frozen, past-tense events.

The trainer hands each event to an injected callback. The TUI bridge, the session recorder and
the headless printer are all consumers of this one stream, so every event is plain data
(numbers, strings, lists) and round-trips through JSON with ``to_record``/``from_record``.
"""
from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass, field
import math
from typing import Any, Callable, Literal, Union, get_args, get_origin, get_type_hints


CheckpointKind = Literal["last", "best", "interrupt"]
FinishReason = Literal["completed", "early_stopped"]


@dataclass(frozen=True)
class RunStarted:
    config: dict[str, dict[str, Any]]  # core.config.to_dict(RunConfig)
    device: str  # "cpu", "cuda:0 (NVIDIA H100)"
    label_names: list[str]
    num_train: int
    num_val: int
    total_epochs: int
    steps_per_epoch: int
    num_parameters: int
    start_epoch: int = 0  # > 0 when resumed
    data_summary: dict[str, Any] = field(default_factory=dict)  # source, paths, columns, tokenizer, lengths
    fresh_optimizer: bool = False  # resumed without the checkpoint's optimizer state (--fresh-optimizer)
    world_size: int = 1  # processes of a torch.distributed job; effective batch = batch_size x world_size

    def placement(self) -> str:
        """Where it trains: the device, or for a torch.distributed job the processes and the
        effective batch ('2 processes x cpu (1 thread), effective batch 64 (32 per process)')."""
        if self.world_size == 1:
            return self.device
        batch = self.config.get("train", {}).get("batch_size", 0)
        return (f"{self.world_size} processes x {self.device}, effective batch {batch * self.world_size} "
                f"({batch} per process)")

    def notices(self) -> list[str]:
        """Lines the log shows under the header: where the data came from (the cache) and the
        settings the run adjusted."""
        summary = self.data_summary or {}
        found = [f"data: {summary['cache']}"] if summary.get("cache") else []
        if summary.get("max_seq_len_capped_from"):
            found.append(f"notice: model.max_seq_len {summary['max_seq_len_capped_from']} is above what the backbone "
                         f"takes; texts are cut at {summary.get('max_seq_len')} tokens")
        return found


@dataclass(frozen=True)
class StepLogged:
    epoch: int  # 1-based
    step: int  # global optimizer step, 1-based
    total_steps: int
    epoch_progress: float  # 0..1 within this epoch
    loss: float  # mean training loss since the previous StepLogged
    lr: float
    samples_per_s: float
    tokens_per_s: float  # real (non-padding) tokens per second
    elapsed_s: float
    eta_s: float
    memory_bytes: int | None = None  # GPU memory allocated on CUDA; process RSS on CPU (rank 0's)
    # Under torch.distributed: every rank's {"rank", "step", "samples_per_s"} at this log point.
    ranks: list[dict[str, Any]] = field(default_factory=list)


    def ranks_line(self) -> str:
        """Each rank's samples/s under torch.distributed, 'ranks 0:812 1:640/s' ('' otherwise)."""
        if not self.ranks:
            return ""
        return "ranks " + " ".join(f"{r.get('rank')}:{r.get('samples_per_s', 0):,.0f}" for r in self.ranks) + "/s"


@dataclass(frozen=True)
class EpochCompleted:
    epoch: int  # 1-based
    total_epochs: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    elapsed_s: float
    train_accuracy: float | None = None

    def seed_line(self) -> str:
        """The tutorial's line: ``Epoch 1/10, Train Loss: 0.6902, Val Loss: 0.6821, Val Accuracy: 0.5400``."""
        return (
            f"Epoch {self.epoch}/{self.total_epochs}, Train Loss: {self.train_loss:.4f}, "
            f"Val Loss: {self.val_loss:.4f}, Val Accuracy: {self.val_accuracy:.4f}"
        )


@dataclass(frozen=True)
class ValidationReported:
    """An evaluation inside an epoch (train.eval_every_steps); epoch ends report EpochCompleted."""

    epoch: int  # 1-based, the epoch in progress
    step: int
    val_loss: float
    val_accuracy: float
    elapsed_s: float
    improved: bool = False  # a new best: the best checkpoint was saved at this step


@dataclass(frozen=True)
class ClassReportComputed:
    """The per-class report (precision, recall, F1, confusion) of the final model on validation."""

    label_names: list[str]
    accuracy: float
    precision: list[float]  # per class, in label_names order
    recall: list[float]
    f1: list[float]
    support: list[int]
    confusion: list[list[int]]  # confusion[true][predicted]
    epoch: int = 0

    def table(self, max_classes: int | None = None, compact: bool = False) -> str:
        """Per-class report and confusion matrix as plain text (the headless printer's and the TUI's).

        ``compact`` uses short headings and narrow columns, for the log beside the curves. With
        more than ``max_classes`` classes, only the first ``max_classes`` rows and no confusion
        matrix (it grows with the square of the classes: 10,000 classes are hundreds of megabytes)."""
        shown = self.label_names if max_classes is None else self.label_names[:max_classes]
        col, sup, min_cell = (7, 5, 6) if compact else (10, 10, 7)
        heads = ("prec", "recall", "f1", "n") if compact else ("precision", "recall", "f1", "support")
        width = max([8, *(len(n) for n in shown)]) if compact else max([9, *(len(n) for n in shown)]) + 2
        lines = [f"{'class':<{width}}{heads[0]:>{col}}{heads[1]:>{col}}{heads[2]:>{col}}{heads[3]:>{sup}}"]
        for i, name in enumerate(shown):
            lines.append(f"{name:<{width}}{self.precision[i]:>{col}.4f}{self.recall[i]:>{col}.4f}"
                         f"{self.f1[i]:>{col}.4f}{self.support[i]:>{sup}d}")
        left_out = len(self.label_names) - len(shown)
        if left_out:
            lines.append(f"... {left_out:,} more classes not shown; confusion matrix left out")
        lines.append(f"{'accuracy':<{width}}{'':>{2 * col}}{self.accuracy:>{col}.4f}{sum(self.support):>{sup}d}")
        if left_out:
            return "\n".join(lines)
        lines.append("")
        lines.append("confusion (rows: true, columns: predicted)")
        cell = max(min_cell, *(len(n) + 1 for n in self.label_names),
                   *(len(str(v)) + 1 for row in self.confusion for v in row))
        lines.append(" " * width + "".join(f"{n:>{cell}}" for n in self.label_names))
        for name, row in zip(self.label_names, self.confusion):
            lines.append(f"{name:<{width}}" + "".join(f"{v:>{cell}d}" for v in row))
        return "\n".join(lines)


@dataclass(frozen=True)
class CheckpointSaved:
    path: str  # folder of the checkpoint
    kind: CheckpointKind
    epoch: int
    step: int
    metric: float | None = None


@dataclass(frozen=True)
class TrainingFinished:
    epochs_completed: int
    elapsed_s: float
    best_metric: float | None
    best_epoch: int | None
    reason: FinishReason = "completed"
    checkpoint_dir: str | None = None


@dataclass(frozen=True)
class TrainingFailed:
    message: str  # what happened, naming the step where it matters
    hint: str = ""  # what to do about it
    step: int | None = None
    epoch: int | None = None


@dataclass(frozen=True)
class TrainingCancelled:
    epoch: int
    step: int
    checkpoint_dir: str | None = None


Event = Union[
    RunStarted, StepLogged, EpochCompleted, ValidationReported, ClassReportComputed, CheckpointSaved,
    TrainingFinished, TrainingFailed, TrainingCancelled,
]
EventCallback = Callable[[Event], None]


def fan_out(*consumers: EventCallback | None) -> EventCallback:
    """One callback handing each event to every given consumer in turn (None ones are skipped).

    Consumers run on the training thread, so each must be quick; the order is the order given.
    """
    present = [c for c in consumers if c is not None]

    def deliver(event: Event) -> None:
        for consumer in present:
            consumer(event)

    return deliver


# Derived from the union, so a new event is declared once.
EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in get_args(Event)}
# Type names that older session logs used for an event since renamed.
RENAMED_EVENT_TYPES = {"EvaluationReported": "ClassReportComputed"}
TERMINAL_EVENTS = (TrainingFinished, TrainingFailed, TrainingCancelled)


def to_record(event: Event) -> dict[str, Any]:
    """``{"type": "EpochCompleted", ...fields}``: plain data for JSON."""
    return {"type": type(event).__name__, **dataclasses.asdict(event)}


def from_record(record: dict[str, Any]) -> Event:
    """Inverse of ``to_record``; KeyError for an unknown type, TypeError for missing or wrong fields.

    A record comes from a file a user can edit or damage, so each field is checked against its
    annotation before an event is built: a consumer never meets ``epoch="a"``. JSON has no NaN,
    so session logs write non-finite floats as null; a null in a ``float`` field reads back as NaN.
    """
    data = dict(record)
    kind = data.pop("type")
    cls = EVENT_TYPES[RENAMED_EVENT_TYPES.get(kind, kind)]
    hints = _FIELD_TYPES[cls]
    fields = {}
    for name, value in data.items():
        hint = hints.get(name)
        if hint is None:
            continue  # a field a newer version added: ignored
        value = _nan_for_null(value, hint)
        if not _conforms(value, hint):
            raise TypeError(f"{cls.__name__}.{name} is {_short(value)}, not {_hint_name(hint)}")
        fields[name] = value
    return cls(**fields)


_FIELD_TYPES: dict[type, dict[str, Any]] = {
    cls: {f.name: get_type_hints(cls)[f.name] for f in dataclasses.fields(cls)} for cls in EVENT_TYPES.values()}


def _nan_for_null(value: Any, hint: Any) -> Any:
    if hint is float:
        return math.nan if value is None else value
    if hint == list[float] and isinstance(value, list):
        return [math.nan if v is None else v for v in value]
    return value


def _conforms(value: Any, hint: Any) -> bool:
    """Whether a value parsed from JSON fits a field annotation (the few forms events use)."""
    if hint is Any:
        return True
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, option) for option in get_args(hint))
    if origin is Literal:
        return isinstance(value, str) and value in get_args(hint)
    if origin is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if isinstance(value, bool):  # JSON true/false are bools, which Python also counts as ints
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(value, hint)


def _hint_name(hint: Any) -> str:
    if get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(v) for v in get_args(hint))
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
