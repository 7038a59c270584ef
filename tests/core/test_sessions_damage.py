"""Damaged session logs: each kind of damage is reported clearly and never silently skipped."""
import json
from pathlib import Path

import pytest

from core.sessions import SessionError, SessionLog, SessionRecorder, names
from core.sessions.cursor import ReplayCursor
from core.sessions.export import write_csv
from tests.synthetic_sessions import write_synthetic_session


def log_path(folder: Path) -> Path:
    return folder / names.LOG_NAME


def crashed_session(tmp_path, **kw):
    rec = write_synthetic_session(tmp_path, "damaged", end="none", close=False, **kw)
    rec.writer.close()  # gone without an end record
    return rec.folder


def test_torn_last_line_keeps_every_complete_record_and_reports_the_byte_offset(tmp_path):
    folder = crashed_session(tmp_path, epochs=2, steps_per_epoch=4)
    path = log_path(folder)
    complete = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b'{"seq":999,"ts":1.0,"type":"StepLogged","epoch":3,"st')  # killed mid-write
    log = SessionLog.open(folder)
    assert len(log) == complete.count(b"\n")
    assert [r["epoch"] for _, r in log.epochs] == [1, 2]
    (torn,) = [p for p in log.problems if p.kind == "torn_tail"]
    assert torn.offset == len(complete) and str(len(complete)) in torn.message
    assert log.status() == "crashed"


def test_the_next_append_after_a_tear_starts_on_a_clean_line(tmp_path):
    folder = crashed_session(tmp_path, epochs=1, steps_per_epoch=2)
    path = log_path(folder)
    complete = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b'{"seq":99,"ts":1.0,"type":"Step')
    rec = SessionRecorder.resume(folder)
    rec.record_action("resume")
    rec.close()
    data = path.read_bytes()
    assert data.startswith(complete) and data.endswith(b"\n")
    assert all(json.loads(line) for line in data.splitlines())  # every line is whole JSON
    log = SessionLog.open(folder)
    kinds = [p.kind for p in log.problems]
    assert kinds == ["repaired"]  # the tear is remembered, with where it was
    assert str(len(complete)) in log.problems[0].message
    assert log.status() == "finished"


def test_malformed_line_in_the_middle_is_reported_by_line_number_and_shown(tmp_path):
    rec = write_synthetic_session(tmp_path, "mid", epochs=2, steps_per_epoch=3)
    path = log_path(rec.folder)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[5] = b'{"seq":5,"ts":1.0,"type":"StepLogged","epoch":1,"step":GARBAGE}\n'
    lines[10] = b"\x00\x00 not json at all\n"
    path.write_bytes(b"".join(lines))
    log = SessionLog.open(rec.folder)
    malformed = [p for p in log.problems if p.kind == "malformed"]
    assert [p.line for p in malformed] == [6, 11]
    assert "line 6" in malformed[0].message and "line 11" in malformed[1].message
    assert len(log) == len(lines)  # nothing skipped
    cursor = ReplayCursor(log)
    shown = [e for _, e in cursor.recent(limit=1000) if isinstance(e, dict) and e.get("type") == "(malformed)"]
    assert [e["line"] for e in shown] == [6, 11]
    assert log.status() == "finished" and [r["epoch"] for _, r in log.epochs] == [1, 2]


def test_empty_file_has_its_own_message(tmp_path):
    folder = tmp_path / "20260101-000000-empty"
    folder.mkdir()
    log_path(folder).write_bytes(b"")
    with pytest.raises(SessionError, match="is empty"):
        SessionLog.open(folder)


def test_header_only_opens_and_says_nothing_was_recorded(tmp_path):
    rec = SessionRecorder.create("bare", tmp_path)
    rec.writer.close()
    log = SessionLog.open(rec.folder)
    assert [p.kind for p in log.problems] == ["header_only"]
    assert "only its header" in log.problems[0].message
    assert log.status() == "crashed"
    assert ReplayCursor(log).recent() == []


def test_unknown_record_types_are_reported_and_shown_raw(tmp_path):
    rec = SessionRecorder.create("future", tmp_path)
    rec.writer.write("GradientHistogram", bins=[1, 2, 3])
    rec.close()
    log = SessionLog.open(rec.folder)
    (problem,) = log.problems
    assert problem.kind == "unknown_type" and "GradientHistogram" in problem.message and problem.line == 2
    (_, shown), _end = ReplayCursor(log).recent()
    assert shown["type"] == "GradientHistogram" and shown["bins"] == [1, 2, 3]


def test_newer_schema_is_refused_with_the_versions_named(tmp_path):
    rec = write_synthetic_session(tmp_path, "newer", epochs=1)
    path = log_path(rec.folder)
    lines = path.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["schema"] = 99
    lines[0] = json.dumps(header, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))
    with pytest.raises(SessionError, match="schema 99.*reads schema 1") as info:
        SessionLog.open(rec.folder)
    assert "upgrade" in info.value.hint
    with pytest.raises(SessionError, match="schema 99"):
        SessionRecorder.resume(rec.folder)  # and never appended to


def test_a_file_that_is_not_a_session_says_so(tmp_path):
    folder = tmp_path / "20260101-000000-other"
    folder.mkdir()
    log_path(folder).write_text('{"hello": "world"}\n')
    with pytest.raises(SessionError, match="not a twb session log"):
        SessionLog.open(folder)


def test_a_record_with_wrong_field_types_is_reported_not_fatal(tmp_path):
    rec = SessionRecorder.create("oddfields", tmp_path)
    rec.writer.write("StepLogged", epoch=1, step="three", loss="low")
    rec.close()
    log = SessionLog.open(rec.folder)
    assert [p.kind for p in log.problems] == ["malformed"] and "StepLogged" in log.problems[0].message
    assert len(log.curves.index) == 0


def test_damaged_attention_weights_show_as_raw_instead_of_crashing(tmp_path):
    rec = write_synthetic_session(tmp_path, "badattn", epochs=1, steps_per_epoch=4, attention_every=2)
    path = log_path(rec.folder)
    text = path.read_text().replace('"dtype":"float16","data":"', '"dtype":"float16","data":"!!', 1)
    path.write_text(text)
    cursor = ReplayCursor(SessionLog.open(rec.folder))
    cursor.seek(SessionLog.open(rec.folder).attention_index[0])
    shown = cursor.attention()
    assert isinstance(shown, dict) and "could not be decoded" in shown["raw"]


def test_csv_export_of_a_damaged_session_keeps_every_good_row(tmp_path):
    import io

    folder = crashed_session(tmp_path, epochs=2, steps_per_epoch=3)
    with open(log_path(folder), "ab") as f:
        f.write(b'{"seq":1000,"ts":1.0,"type":"EpochCompleted","ep')
    out = io.StringIO()
    assert write_csv(SessionLog.open(folder), out) == 2 * 3 + 2
