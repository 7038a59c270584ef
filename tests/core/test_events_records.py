"""Events read back from records a user can edit: every field checked, NaN carried as null."""
import json
import math
import typing

import pytest

from core import events as E
from core.sessions import schema
from core.sessions.writer import encode_record


def epoch_record(**changes):
    record = E.to_record(E.EpochCompleted(epoch=1, total_epochs=2, train_loss=0.5, val_loss=0.4, val_accuracy=0.8,
                                          elapsed_s=1.0))
    return {**record, **changes}


@pytest.mark.parametrize("field,value", [("epoch", "a"), ("epoch", 1.5), ("epoch", True), ("val_loss", "0.4"),
                                         ("val_accuracy", [0.8]), ("train_accuracy", {"x": 1})])
def test_a_field_of_the_wrong_type_is_refused_naming_the_field(field, value):
    with pytest.raises(TypeError, match=f"EpochCompleted.{field} is "):
        E.from_record(epoch_record(**{field: value}))


def test_choices_are_literal_types_and_an_unknown_choice_is_refused():
    hints = typing.get_type_hints(E.CheckpointSaved)
    assert typing.get_args(hints["kind"]) == ("last", "best", "interrupt")
    assert typing.get_args(typing.get_type_hints(E.TrainingFinished)["reason"]) == ("completed", "early_stopped")
    with pytest.raises(TypeError, match="one of 'last', 'best', 'interrupt'"):
        E.from_record({"type": "CheckpointSaved", "path": "p", "kind": "lost", "epoch": 1, "step": 2})
    assert schema.END_STATUSES == ("finished", "failed", "cancelled", "interrupted")
    assert set(typing.get_args(schema.SessionStatus)) == {"running", "crashed", *schema.END_STATUSES}


def test_non_finite_floats_travel_as_null_and_come_back_as_nan():
    report = E.ClassReportComputed(label_names=["a", "b"], accuracy=float("nan"), precision=[float("nan"), 1.0],
                                   recall=[0.0, 1.0], f1=[float("inf"), 1.0], support=[0, 2], confusion=[[0, 0], [0, 2]])
    record = E.to_record(report)
    line = encode_record(3, record.pop("type"), record, ts=1.0)
    assert b"NaN" not in line and b"Infinity" not in line
    parsed = json.loads(line)
    assert parsed["accuracy"] is None and parsed["precision"] == [None, 1.0]
    back = E.from_record(parsed)
    assert math.isnan(back.accuracy) and math.isnan(back.precision[0]) and back.precision[1] == 1.0
    assert math.isnan(back.f1[0])  # infinity is not kept apart from NaN: both are "no number"


def test_optional_floats_keep_null_as_none():
    finished = E.from_record({"type": "TrainingFinished", "epochs_completed": 1, "elapsed_s": 1.0,
                              "best_metric": None, "best_epoch": None})
    assert finished.best_metric is None
