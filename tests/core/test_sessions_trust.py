"""Session logs that hostile or unlucky input produced: NaN, wrong field types, deep nesting.

Each is a problem of the one session it is in: the log stays strict JSON, the session opens,
and `twb sessions` lists every other session as before.
"""
import csv
import io
import json
import math
from pathlib import Path

import pytest

from core import config as cfg
from core.events import EpochCompleted, RunStarted, StepLogged, ValidationReported, to_record
from core.sessions import SessionLog, SessionRecorder, names
from core.sessions.cursor import ReplayCursor
from core.sessions.export import write_csv
from core.sessions.listing import format_table, list_sessions
from tests.synthetic_sessions import write_synthetic_session


def strict_json_lines(folder: Path) -> list[dict]:
    """Every line parsed as JSON proper: NaN and Infinity are not JSON."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return [json.loads(line, parse_constant=refuse) for line in (folder / names.LOG_NAME).read_text().splitlines()]


def run_started(total_epochs=1, steps_per_epoch=2, start_epoch=0):
    config = cfg.preset("nano")
    return RunStarted(config=cfg.to_dict(config), device="cpu", label_names=["neg", "pos"], num_train=4, num_val=0,
                      total_epochs=total_epochs, steps_per_epoch=steps_per_epoch, num_parameters=1,
                      start_epoch=start_epoch)


def step(n, epoch=1, spe=2, loss=0.7):
    return StepLogged(epoch=epoch, step=n, total_steps=2 * spe, epoch_progress=(n - (epoch - 1) * spe) / spe,
                      loss=loss, lr=1e-3, samples_per_s=10.0, tokens_per_s=100.0, elapsed_s=0.1 * n, eta_s=1.0)


def csv_rows(log) -> list[dict]:
    out = io.StringIO()
    write_csv(log, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


# --- NaN ---------------------------------------------------------------------------------------

def test_a_nan_validation_loss_is_written_as_json_null_and_read_back_as_a_gap(tmp_path):
    nan = float("nan")
    with SessionRecorder.create("empty val", tmp_path) as rec:
        rec.on_event(run_started())
        rec.on_event(step(1, loss=float("inf")))
        rec.on_event(ValidationReported(epoch=1, step=1, val_loss=nan, val_accuracy=nan, elapsed_s=0.1))
        rec.on_event(step(2))
        rec.on_event(EpochCompleted(epoch=1, total_epochs=1, train_loss=0.7, val_loss=nan, val_accuracy=nan,
                                    elapsed_s=0.2))
    records = strict_json_lines(rec.folder)  # raised on a bare NaN before
    (epoch,) = [r for r in records if r["type"] == "EpochCompleted"]
    assert epoch["val_loss"] is None and epoch["val_accuracy"] is None and epoch["train_loss"] == 0.7

    log = SessionLog.open(rec.folder)
    assert log.problems == []
    back = log.event(log.epochs[0][0])
    assert isinstance(back, EpochCompleted) and math.isnan(back.val_loss) and back.train_loss == 0.7
    assert math.isnan(log.curves.loss[0]) and log.curves.loss[1] == 0.7  # the infinite step loss: a gap
    assert math.isnan(log.curves.val_loss[0])
    (summary,) = list_sessions(tmp_path)
    assert summary.best_val_accuracy is None and summary.problems == []
    assert "-" in format_table([summary]).splitlines()[1].split()
    rows = csv_rows(log)
    assert [(r["kind"], r["val_loss"]) for r in rows if r["kind"] != "step"] == [("validation", ""), ("epoch", "")]


# --- wrong field types -------------------------------------------------------------------------

BAD_EPOCH = b'{"seq":"x","ts":"y","type":"EpochCompleted","epoch":"a"}\n'


def insert_line(folder: Path, line: bytes, before_last: int = 1) -> int:
    """Put ``line`` in the log before its last ``before_last`` lines; returns its 1-based line number."""
    path = folder / names.LOG_NAME
    lines = path.read_bytes().splitlines(keepends=True)
    at = len(lines) - before_last
    lines.insert(at, line)
    path.write_bytes(b"".join(lines))
    return at + 1


def test_a_record_with_wrong_field_types_is_a_problem_of_its_session_and_the_others_still_list(tmp_path):
    good = write_synthetic_session(tmp_path, "good", epochs=2, steps_per_epoch=2)
    bad = write_synthetic_session(tmp_path, "bad", epochs=2, steps_per_epoch=2)
    line = insert_line(bad.folder, BAD_EPOCH)
    summaries = {s.name: s for s in list_sessions(tmp_path)}  # raised ValueError for every session before
    assert summaries["good"].problems == [] and summaries["good"].best_val_accuracy == pytest.approx(0.9)
    (problem,) = summaries["bad"].problems
    assert f"line {line}" in problem and "EpochCompleted" in problem
    assert summaries["bad"].epochs == 2 and summaries["bad"].status == "finished"
    table = format_table(list(summaries.values()))
    assert "bad" in table and "(1 problem)" in table
    log = SessionLog.open(bad.folder)
    assert line - 1 in log.raw_index  # shown raw in replay, not fed to the panes
    cursor = ReplayCursor(log)
    assert any(isinstance(r, dict) and r.get("epoch") == "a" for _, r in cursor.recent())
    assert len(csv_rows(log)) == len(csv_rows(SessionLog.open(good.folder)))  # not a row


def field_damage():
    """(record type, field, wrong value) for every field of every record type a session holds."""
    wrong = ("a", [1], {"x": 1}, True, None, -1.5)
    rec_types = ("RunStarted", "StepLogged", "ValidationReported", "EpochCompleted", "ClassReportComputed",
                 "CheckpointSaved", "TrainingFinished", "config", "action", "end", "reopened")
    return [(t, w) for t in rec_types for w in wrong]


@pytest.mark.parametrize("rtype,wrong", field_damage())
def test_no_wrongly_typed_field_of_any_record_breaks_listing_replay_or_export(tmp_path, rtype, wrong):
    rec = write_synthetic_session(tmp_path, "fuzz", epochs=1, steps_per_epoch=4, eval_every=2, close=False)
    rec.writer.write("reopened", pid=1, host="h")
    rec.close()
    path = rec.folder / names.LOG_NAME
    lines = path.read_bytes().splitlines(keepends=True)
    damaged = []
    for i, raw in enumerate(lines):
        record = json.loads(raw)
        if record["type"] != rtype:
            continue
        for key in [k for k in record if k not in ("seq", "ts", "type")]:
            copy = dict(record, **{key: wrong})
            damaged.append(json.dumps(copy).encode() + b"\n")
        lines[i:i + 1] = []  # replaced by its damaged copies, appended before the end record
        break
    assert damaged, rtype
    path.write_bytes(b"".join(lines[:-1] + damaged + lines[-1:]))
    (summary,) = list_sessions(tmp_path)
    format_table([summary])
    log = SessionLog.open(rec.folder)
    cursor = ReplayCursor(log)
    for position in (len(log) - 1, len(log) // 2):
        cursor.seek(position)
        cursor.recent(), cursor.config(), cursor.epochs(), cursor.curves(), cursor.describe(), cursor.status()
    log.end_detail()
    csv_rows(log)


def test_deeply_nested_json_is_a_malformed_line_not_a_crash(tmp_path):
    good = write_synthetic_session(tmp_path, "good", epochs=1, steps_per_epoch=2)
    bad = write_synthetic_session(tmp_path, "nested", epochs=1, steps_per_epoch=2)
    depth = 100_000
    lines = [b'{"seq":900,"ts":1.0,"type":"action","action":"note","detail":' + b"[" * depth + b"]" * depth + b"}\n",
             b'{"seq":901,"ts":1.0,"type":"StepLogged","epoch":1,"step":' + b"[" * depth + b"]" * depth + b"}\n",
             b"[" * depth + b"]" * depth + b"\n"]
    numbers = [insert_line(bad.folder, line) for line in lines]
    summaries = {s.name: s for s in list_sessions(tmp_path)}  # RecursionError for every session before
    assert summaries["good"].problems == []
    log = SessionLog.open(bad.folder)
    malformed = [p for p in log.problems if p.kind == "malformed"]
    assert [p.line for p in malformed] == numbers
    assert all(p.message in summaries["nested"].problems for p in malformed)
    assert ReplayCursor(log).recent()[-2][1]["type"] == "(malformed)"


# --- mid-epoch validation ----------------------------------------------------------------------

def sst2_like_session(root):
    """Two epochs with an evaluation mid-way through each; the best accuracy is a mid-epoch one."""
    with SessionRecorder.create("sst2", root) as rec:
        rec.on_event(run_started(total_epochs=2, steps_per_epoch=2))
        for epoch, (mid, end) in enumerate([(0.8102, 0.8205), (0.8337, 0.8314)], start=1):
            rec.on_event(step(2 * epoch - 1, epoch))
            rec.on_event(ValidationReported(epoch=epoch, step=2 * epoch - 1, val_loss=0.4, val_accuracy=mid,
                                            elapsed_s=1.0, improved=mid > 0.82))
            rec.on_event(step(2 * epoch, epoch))
            rec.on_event(EpochCompleted(epoch=epoch, total_epochs=2, train_loss=0.5, val_loss=0.41,
                                        val_accuracy=end, elapsed_s=2.0))
    return rec.folder


def test_mid_epoch_validations_are_known_records_and_count_for_the_best_accuracy(tmp_path):
    folder = sst2_like_session(tmp_path)
    (summary,) = list_sessions(tmp_path)
    assert summary.problems == []  # each ValidationReported was an "unknown record type" before
    assert summary.best_val_accuracy == pytest.approx(0.8337)  # 0.8314 before: epoch ends only
    assert "0.8337" in format_table([summary])
    log = SessionLog.open(folder)
    assert isinstance(log.event(log.validations[0][0]), ValidationReported)


def test_export_csv_keeps_the_mid_epoch_validations(tmp_path):
    rows = csv_rows(SessionLog.open(sst2_like_session(tmp_path)))
    assert [(r["kind"], r["step"], r["val_accuracy"]) for r in rows if r["kind"] != "step"] == [
        ("validation", "1", "0.8102"), ("epoch", "2", "0.8205"), ("validation", "3", "0.8337"), ("epoch", "4", "0.8314")]


def test_recorded_events_keep_the_field_order_the_reader_indexes_by():
    # The reader's bulk path matches StepLogged lines by a regex over the writer's field order;
    # a changed order would silently send every step down the slow path.
    from core.sessions.line_scan import LINE
    from core.sessions.writer import encode_record

    event = step(3, loss=0.25)
    record = to_record(event)
    line = encode_record(7, record.pop("type"), record, ts=12.5)
    ((seq, ts, rtype, epoch, n, loss, lr, tokens),) = LINE.findall(line)
    assert (int(seq), float(ts), rtype) == (7, 12.5, b"StepLogged")
    assert (int(epoch), int(n), float(loss), float(lr), float(tokens)) == (
        event.epoch, event.step, event.loss, event.lr, event.tokens_per_s)
