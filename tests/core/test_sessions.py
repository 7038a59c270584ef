"""Recording and reading sessions: format, round trip, names, status, resume."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core import config as cfg
from core.errors import UserError
from core.events import EpochCompleted, StepLogged, TrainingFailed, from_record
from core.sessions import SessionLog, SessionRecorder, names, schema
from core.sessions.cursor import ReplayCursor
from tests.synthetic_sessions import attention_view, write_synthetic_session

ROOT = Path(__file__).resolve().parents[2]


def lines_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / names.LOG_NAME).read_text().splitlines()]


def test_records_are_ordered_and_engine_events_round_trip(tmp_path):
    rec = write_synthetic_session(tmp_path, "demo", epochs=2, steps_per_epoch=3)
    records = lines_of(rec.folder)
    assert [r["seq"] for r in records] == list(range(len(records)))
    assert all(list(r)[:3] == ["seq", "ts", "type"] for r in records)
    header = records[0]
    assert header["type"] == "header" and header["schema"] == schema.SCHEMA_VERSION
    assert header["pid"] == os.getpid() and header["host"] and header["twb_version"]
    assert records[-1] == {**records[-1], "type": "end", "status": "finished"}
    steps = [from_record(r) for r in records if r["type"] == "StepLogged"]
    assert [s.step for s in steps] == [1, 2, 3, 4, 5, 6]
    assert isinstance(steps[0], StepLogged) and steps[0].loss == pytest.approx(1.0)
    epochs = [from_record(r) for r in records if r["type"] == "EpochCompleted"]
    assert [type(e) for e in epochs] == [EpochCompleted, EpochCompleted]


def test_config_is_recorded_and_saved_as_toml_next_to_the_log(tmp_path):
    config = cfg.with_field(cfg.preset("nano"), "train.lr", 0.005)
    rec = write_synthetic_session(tmp_path, "cfg", config=config)
    assert cfg.load_toml(rec.folder / "config.toml") == config
    config_records = [r for r in lines_of(rec.folder) if r["type"] == "config"]
    assert config_records[0]["config"]["train"]["lr"] == 0.005


def test_attention_views_are_stored_compactly_and_decode_to_the_same_matrices(tmp_path):
    rec = SessionRecorder.create("attn", tmp_path)
    view = attention_view(["[CLS]", "not", "bad", "at", "all"], layers=2, heads=4)
    rec.record_attention(view, text="not bad at all", layer=1, head=2)
    rec.close()
    raw = (rec.folder / names.LOG_NAME).read_text().splitlines()[1]
    assert len(raw) < view.weights.size * 3 + 400  # about 2 bytes a value in base64, not a JSON float list
    shown = ReplayCursor(SessionLog.open(rec.folder)).attention()
    assert shown.tokens == view.tokens and shown.text == "not bad at all" and (shown.layer, shown.head) == (1, 2)
    assert shown.weights.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(shown.weights, view.weights, atol=1e-3)
    assert shown.prediction == view.prediction


def test_console_prompts_and_numpy_results_are_recorded_as_plain_json(tmp_path):
    rec = SessionRecorder.create("console", tmp_path)
    rec.record_console("fill-mask", "bert-tiny", "Paris is the [MASK] of France.", {"top_k": 2},
                       [{"token_str": "capital", "score": np.float32(0.5)}], latency_s=0.12)
    rec.record_console("summarization", None, "x", None, error="no model given")
    rec.close()
    console = ReplayCursor(SessionLog.open(rec.folder)).console()
    assert [r["task"] for _, r in console] == ["fill-mask", "summarization"]
    assert console[0][1]["result"][0]["score"] == 0.5 and console[0][1]["params"] == {"top_k": 2}
    assert console[1][1]["error"] == "no model given"


@pytest.mark.parametrize("hostile", ["../../escape", "/etc/passwd", "..", "a/b\\c", "~root", "\x00\n", "ok name!"])
def test_no_session_name_writes_outside_the_sessions_folder(tmp_path, hostile):
    root = tmp_path / "sessions"
    rec = SessionRecorder.create(hostile, root)
    rec.close()
    assert rec.folder.resolve().parent == root.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sessions"]
    assert set(names.user_name(rec.folder.name)) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def test_sessions_are_found_by_name_folder_or_path_and_unknown_names_say_so(tmp_path):
    first = write_synthetic_session(tmp_path, "exp one", epochs=1)
    assert names.resolve_session("exp-one", tmp_path) == first.folder
    assert names.resolve_session("exp one", tmp_path) == first.folder
    assert names.resolve_session(first.folder.name, tmp_path) == first.folder
    assert names.resolve_session(str(first.folder), tmp_path / "elsewhere") == first.folder
    with pytest.raises(UserError, match="no session 'nope'"):
        names.resolve_session("nope", tmp_path)


@pytest.mark.parametrize("end,status", [("finished", "finished"), ("failed", "failed"), ("cancelled", "cancelled")])
def test_status_follows_how_the_run_ended(tmp_path, end, status):
    rec = write_synthetic_session(tmp_path, end, epochs=1, end=end)
    log = SessionLog.open(rec.folder)
    assert log.status() == status
    if end == "failed":
        assert "loss became NaN" in log.end_detail()


def test_open_writer_is_running_and_a_second_writer_is_refused(tmp_path):
    rec = write_synthetic_session(tmp_path, "live", epochs=1, end="none", close=False)
    assert SessionLog.open(rec.folder).status() == "running"
    with pytest.raises(UserError, match="being written by another process"):
        SessionRecorder.resume(rec.folder)
    rec.close("interrupted")
    assert SessionLog.open(rec.folder).status() == "interrupted"


def _run_child(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TWB_SESSIONS_DIR": str(tmp_path)})


def test_a_writer_that_dies_without_a_final_record_is_crashed_with_everything_before_it(tmp_path):
    child = _run_child("""
        import os
        from tests.synthetic_sessions import write_synthetic_session
        write_synthetic_session(None, "doomed", epochs=2, end="none", close=False)
        os._exit(9)  # no end record, no clean close: like a kill
        """, tmp_path)
    assert child.returncode == 9, child.stderr
    (folder,) = names.list_session_dirs(tmp_path)
    log = SessionLog.open(folder)
    assert log.status() == "crashed"
    assert [r["epoch"] for _, r in log.epochs] == [1, 2]
    assert "crashed" in log.end_detail()


def test_resume_appends_to_the_same_session_and_continues_the_sequence(tmp_path):
    rec = write_synthetic_session(tmp_path, "resumable", epochs=1, end="none", close=False)
    rec.writer.close()  # the process went away without an end record
    assert SessionLog.open(rec.folder).status() == "crashed"
    again = SessionRecorder.resume(rec.folder)
    again.record_action("resume", checkpoint="checkpoints/last")
    again.on_event(TrainingFailed(message="out of memory", hint="lower train.batch_size"))
    again.close()
    records = lines_of(rec.folder)
    assert [r["seq"] for r in records] == list(range(len(records)))
    assert [r["type"] for r in records].count("header") == 1
    assert "reopened" in [r["type"] for r in records]
    log = SessionLog.open(rec.folder)
    assert log.status() == "failed" and log.problems == []


def test_recording_errors_never_reach_the_trainer(tmp_path):
    rec = SessionRecorder.create("diskfull", tmp_path)
    os.close(rec.writer._fd)  # the next write fails as a full or vanished disk would
    rec.writer._fd = os.open(os.devnull, os.O_RDONLY)
    rec.on_event(StepLogged(1, 1, 1, 1.0, 0.5, 1e-3, 1.0, 1.0, 0.1, 0.0))
    assert isinstance(rec.error, OSError)
    rec.on_event(StepLogged(1, 2, 2, 1.0, 0.5, 1e-3, 1.0, 1.0, 0.1, 0.0))  # no raise, no retry storm
    rec.close()


def test_records_at_reads_a_sample_of_records_as_record_does_and_a_damaged_line_as_none(tmp_path):
    folder = write_synthetic_session(tmp_path, "run", epochs=1, steps_per_epoch=6).folder
    log_file = folder / "session.jsonl"
    lines = log_file.read_bytes().split(b"\n")
    lines[3] = b"{" + lines[3][1:-1]  # line 4 (a logged step) loses its closing brace
    log_file.write_bytes(b"\n".join(lines))
    log = SessionLog.open(folder)
    sample = [1, 3, 5, len(log) - 1]
    got = dict(log.records_at(sample))
    assert got[3] is None
    assert all(got[i] == log.record(i) for i in (1, 5, len(log) - 1))
    assert list(log.records_at([])) == []
