"""`twb train --session`: a real headless run, killed with SIGKILL, then resumed into the same session."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.sessions import SessionLog, names
from core.sessions.listing import list_sessions

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("torch")


def twb(args, sessions, **kw):
    env = {**os.environ, "TWB_SESSIONS_DIR": str(sessions)}
    return subprocess.Popen([sys.executable, "-m", "tui.cli", *args], cwd=sessions.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for_epochs(sessions: Path, epochs: int, timeout: float = 120.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for folder in names.list_session_dirs(sessions):
            # the checkpoint of an epoch is on disk once its record is in the log
            lasts = [r for _, r in SessionLog.open(folder).checkpoints if r["kind"] == "last"]
            if len(lasts) >= epochs:
                return folder
        time.sleep(0.1)  # an external process: nothing to await
    raise AssertionError("the training run did not reach the expected epoch in time")


def test_kill_9_shows_crashed_keeps_epochs_and_resumes_into_the_same_session(tmp_path):
    sessions = tmp_path / "sessions"
    run = twb(["train", "--preset", "nano", "--session", "k9", "--set", "train.epochs=400", "--quiet"], sessions)
    try:
        folder = wait_for_epochs(sessions, 2)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(30)
    assert run.returncode == -signal.SIGKILL

    (summary,) = list_sessions(sessions)
    assert summary.status == "crashed"
    log = SessionLog.open(folder)
    recorded = [r["epoch"] for _, r in log.epochs]
    assert recorded == list(range(1, len(recorded) + 1)) and len(recorded) >= 2

    last = Path(log.checkpoints[-1][1]["path"])
    assert last.parent == folder / "checkpoints"
    state = json.loads((last / "state.json").read_text())
    assert state["epoch"] in recorded  # the log names every checkpoint that exists
    from core.training.checkpoint import load_classifier
    loaded = load_classifier(last)
    assert loaded.predict(["a fine film"])

    target = max(recorded) + 1
    resumed = twb(["train", "--session", "k9", "--resume", str(last), "--set", f"train.epochs={target}", "--quiet"],
                  sessions)
    out, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err
    assert names.list_session_dirs(sessions) == [folder]  # the same session, appended to
    log = SessionLog.open(folder)
    assert log.status() == "finished"
    assert [r["epoch"] for _, r in log.epochs][-1] == target
    assert [r["type"] for _, r in log.reopens] == ["reopened"]
    assert not [p for p in log.problems if p.kind not in ("repaired",)]


def test_a_run_that_cannot_start_still_leaves_a_session_that_says_why(tmp_path, capsys):
    from core import cli

    code = cli.main(["train", "--preset", "nano", "--session", "bad data", "--sessions-dir", str(tmp_path),
                     "--data", str(tmp_path / "missing.csv")])
    assert code == 2
    (folder,) = names.list_session_dirs(tmp_path)
    log = SessionLog.open(folder)
    assert log.status() == "failed"
    assert "missing.csv" in log.ends[-1][1]["detail"]["message"]
    assert "recording session" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_session_name_is_a_one_line_error(tmp_path, capsys, name):
    from core import cli

    code = cli.main(["train", "--preset", "nano", "--session", name, "--sessions-dir", str(tmp_path),
                     "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("twb: error: --session needs a name")
    assert list(tmp_path.iterdir()) == []  # nothing recorded, nothing trained
