"""`twb sessions`, `twb sessions export-csv` and `show`: what a user sees on the terminal."""
import argparse
import csv
import io
import json

import pytest

from core import cli as core_cli
from core.commands import sessions as sessions_command
from core.formatting import format_duration
from core.sessions.listing import list_sessions
from tests.synthetic_sessions import write_synthetic_session


def twb(argv, capsys):
    parser = argparse.ArgumentParser(prog="twb")
    sessions_command.register(parser.add_subparsers(dest="command"))
    code = core_cli.run_command(parser.parse_args(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def three_sessions(tmp_path):
    write_synthetic_session(tmp_path, "good run", epochs=3, end="finished")
    write_synthetic_session(tmp_path, "broken", epochs=1, end="failed")
    crashed = write_synthetic_session(tmp_path, "killed", epochs=2, end="none", close=False)
    crashed.writer.close()
    return tmp_path


def test_listing_shows_name_start_status_epochs_best_accuracy_and_duration(three_sessions, capsys):
    code, out, _ = twb(["sessions", "--dir", str(three_sessions)], capsys)
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split()[:6] == ["NAME", "STARTED", "STATUS", "EPOCHS", "BEST", "VAL"]
    by_name = {row.split()[0]: row for row in rows}
    assert set(by_name) == {"good-run", "broken", "killed"}
    assert "finished" in by_name["good-run"] and "3/3" in by_name["good-run"] and "0.9000" in by_name["good-run"]
    assert "failed" in by_name["broken"]
    assert "crashed" in by_name["killed"] and "2/2" in by_name["killed"]


def test_listing_as_json_and_when_empty(three_sessions, tmp_path, capsys):
    _, out, _ = twb(["sessions", "--dir", str(three_sessions), "--json"], capsys)
    statuses = {s["name"]: s["status"] for s in json.loads(out)}
    assert statuses == {"good-run": "finished", "broken": "failed", "killed": "crashed"}
    _, out, _ = twb(["sessions", "--dir", str(tmp_path / "none")], capsys)
    assert "no sessions under" in out and "--session" in out


def test_an_unreadable_session_is_listed_with_its_reason(tmp_path):
    folder = tmp_path / "20260101-000000-empty"
    folder.mkdir()
    (folder / "session.jsonl").write_bytes(b"")
    (summary,) = list_sessions(tmp_path)
    assert summary.status == "unreadable" and "empty" in summary.problems[0]


def test_export_csv_writes_one_row_per_logged_step_and_epoch(tmp_path, capsys):
    rec = write_synthetic_session(tmp_path, "plot me", epochs=2, steps_per_epoch=5, attention_every=3)
    code, out, _ = twb(["sessions", "export-csv", "plot-me", "--dir", str(tmp_path)], capsys)
    assert code == 0
    path = rec.folder / "exports" / "metrics.csv"
    assert f"wrote 12 rows to {path}" in out
    rows = list(csv.DictReader(path.open()))
    assert [r["kind"] for r in rows] == ["step"] * 5 + ["epoch"] + ["step"] * 5 + ["epoch"]
    assert rows[0]["step"] == "1" and float(rows[0]["loss"]) == pytest.approx(1.0)
    assert rows[5]["step"] == "5" and float(rows[5]["val_accuracy"]) == pytest.approx(0.7)
    assert rows[5]["loss"] == ""


def test_export_csv_to_stdout_and_to_a_chosen_file(tmp_path, capsys):
    write_synthetic_session(tmp_path, "x", epochs=1, steps_per_epoch=2)
    _, out, _ = twb(["sessions", "export-csv", "x", "--dir", str(tmp_path), "-o", "-"], capsys)
    assert len(list(csv.reader(io.StringIO(out)))) == 1 + 3
    target = tmp_path / "out" / "m.csv"
    twb(["sessions", "--dir", str(tmp_path), "export-csv", "x", "-o", str(target)], capsys)
    assert target.read_text().startswith("kind,epoch,step")


def test_unknown_session_is_a_one_line_error_with_exit_code_2(tmp_path, capsys):
    code, _, err = twb(["sessions", "export-csv", "ghost", "--dir", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "no session 'ghost'" in err


def test_show_lists_the_problems_of_a_session(tmp_path, capsys):
    rec = write_synthetic_session(tmp_path, "torn", epochs=1, end="none", close=False)
    rec.writer.close()
    with open(rec.folder / "session.jsonl", "ab") as f:
        f.write(b'{"seq":77,"ts"')
    code, out, _ = twb(["sessions", "show", "torn", "--dir", str(tmp_path)], capsys)
    assert code == 0 and "crashed" in out and "1 problem(s)" in out and "torn at byte offset" in out


def test_durations_read_like_a_person_would_write_them():
    assert [format_duration(s) for s in (None, 4, 75, 3725)] == ["--:--", "0:04", "1:15", "1:02:05"]


def test_duplicate_names_say_which_session_is_used_and_a_folder_name_picks_another(tmp_path, capsys):
    older = write_synthetic_session(tmp_path, "same", epochs=1, steps_per_epoch=2).folder
    newer = write_synthetic_session(tmp_path, "same", epochs=2, steps_per_epoch=2).folder
    code, out, err = twb(["sessions", "show", "same", "--dir", str(tmp_path)], capsys)
    assert code == 0 and "2/2" in out
    (note,) = err.strip().splitlines()
    assert note.startswith("twb: note: 2 sessions are named 'same'; using " + newer.name)
    assert "pass a folder name" in note and older.name in note
    code, out, err = twb(["sessions", "show", older.name, "--dir", str(tmp_path)], capsys)
    assert code == 0 and "1/1" in out and err == ""


def test_export_csv_into_a_pipe_closed_early_exits_quietly(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    write_synthetic_session(tmp_path, "long", epochs=20, steps_per_epoch=500)  # far more than a pipe holds
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "sessions", "export-csv", "long", "-o", "-",
                             "--dir", str(tmp_path)], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.stdout.readline().startswith(b"kind,epoch,step")  # what `head -1` reads, then it closes
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_export_csv_of_several_sessions_writes_one_file_with_a_session_column(tmp_path, capsys):
    first = write_synthetic_session(tmp_path, "first", epochs=1, steps_per_epoch=2).folder
    second = write_synthetic_session(tmp_path, "second", epochs=2, steps_per_epoch=3).folder
    target = tmp_path / "both.csv"
    code, out, _ = twb(["sessions", "export-csv", "first", "second", "--dir", str(tmp_path), "-o", str(target)], capsys)
    assert code == 0 and f"wrote {3 + 8} rows to {target}" in out
    rows = list(csv.DictReader(target.open()))
    assert [r["session"] for r in rows] == [first.name] * 3 + [second.name] * 8
    assert [r["kind"] for r in rows if r["session"] == second.name].count("epoch") == 2
    _, out, _ = twb(["sessions", "export-csv", "first", "--dir", str(tmp_path), "-o", "-"], capsys)
    header = out.splitlines()[0].split(",")
    assert header[:3] == ["kind", "epoch", "step"] and header[-1] == "session"  # one session: same columns


def test_export_csv_of_several_sessions_needs_a_file_and_a_writable_place(tmp_path, capsys):
    write_synthetic_session(tmp_path, "a", epochs=1, steps_per_epoch=2)
    write_synthetic_session(tmp_path, "b", epochs=1, steps_per_epoch=2)
    code, _, err = twb(["sessions", "export-csv", "a", "b", "--dir", str(tmp_path)], capsys)
    assert code == 2 and "needs -o FILE" in err and err.count("\n") == 1
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = twb(["sessions", "export-csv", "a", "b", "--dir", str(tmp_path), "-o", str(blocker / "m.csv")],
                       capsys)
    assert code == 2 and err.startswith("twb: error: cannot write") and err.count("\n") == 1
