"""Run folders: a run writes only into a folder of its own or one the user named and that holds
no one else's last/ best/ interrupt/; problems are found before training, full disks at save
time end in one line that keeps the previous checkpoint, and a cancel leaves a resumable one."""
import datetime as dt
import errno
import json
import os
import shutil
from collections import namedtuple

import pytest

import core.training.checkpoint as checkpoint_module
from core import events as ev
from core.cli import main
from core.config import apply_overrides, preset

pytestmark = pytest.mark.usefixtures("one_thread")

ONE_EPOCH = ["--preset", "nano", "--set", "train.epochs=1", "--quiet"]


def assert_refused_before_training(code, captured, *words):
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1, captured.err
    assert lines[0].startswith("twb: error:") and all(w in lines[0] for w in words), lines[0]
    assert "Epoch" not in captured.out and "Traceback" not in captured.err


@pytest.mark.parametrize("kind", ["last", "best", "interrupt"])
def test_out_holding_a_folder_that_is_not_a_checkpoint_is_refused_and_left_alone(tmp_path, kind, capsys):
    (tmp_path / kind).mkdir()
    (tmp_path / kind / "notes.txt").write_text("mine")
    code = main(["train", *ONE_EPOCH, "--out", str(tmp_path)])
    assert_refused_before_training(code, capsys.readouterr(), str(tmp_path / kind), "not a checkpoint")
    assert (tmp_path / kind / "notes.txt").read_text() == "mine"


def test_out_holding_earlier_checkpoints_is_written_over(tmp_path, capsys):
    assert main(["train", *ONE_EPOCH, "--out", str(tmp_path)]) == 0
    assert main(["train", *ONE_EPOCH, "--set", "train.seed=2", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "last" / "state.json").read_text())["config"]["train"]["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best", "last"]  # no temp or .old folders


def test_out_that_is_a_file_or_cannot_be_created_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    code = main(["train", *ONE_EPOCH, "--out", str(tmp_path / "f")])
    assert_refused_before_training(code, capsys.readouterr(), str(tmp_path / "f"), "is a file")
    code = main(["train", *ONE_EPOCH, "--out", str(tmp_path / "f" / "run")])  # a file on the way
    assert_refused_before_training(code, capsys.readouterr(), str(tmp_path / "f" / "run"))
    code = main(["train", *ONE_EPOCH, "--out", "/sys/twb-run"])  # even root cannot write there
    assert_refused_before_training(code, capsys.readouterr(), "/sys/twb-run")


def test_out_on_a_full_disk_is_refused_before_training(tmp_path, monkeypatch, capsys):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))
    code = main(["train", *ONE_EPOCH, "--out", str(tmp_path / "run")])
    assert_refused_before_training(code, capsys.readouterr(), str(tmp_path / "run"), "free")


def test_a_full_disk_at_save_time_is_one_line_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch, capsys):
    real_save = checkpoint_module.save_file
    saves = []

    def fills_the_disk(*args, **kwargs):
        saves.append(args[1])
        if len(saves) > 2:  # epoch 1's last/ and best/ fit; epoch 2's do not
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(*args, **kwargs)

    monkeypatch.setattr(checkpoint_module, "save_file", fills_the_disk)
    code = main(["train", "--preset", "nano", "--set", "train.epochs=3", "--quiet", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "previous checkpoint is kept" in lines[0]
    assert "Traceback" not in err and "unexpectedly" not in err
    assert json.loads((tmp_path / "last" / "state.json").read_text())["epoch"] == 1
    assert checkpoint_module.load_classifier(tmp_path / "last").label_names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best", "last"]


def test_temp_folders_left_by_killed_saves_go_at_the_next_save(tmp_path, capsys):
    dead = tmp_path / ".interrupt.tmp-999999999-deadbeef"  # no such process
    dead.mkdir()
    (dead / "model.safetensors").write_bytes(b"half")
    alive = tmp_path / f".last.tmp-{os.getppid()}-0123abcd"  # a live process may still write it
    alive.mkdir()
    assert main(["train", *ONE_EPOCH, "--out", str(tmp_path)]) == 0
    assert not dead.exists() and alive.exists()


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    from core.training.run_folder import create_run_folder
    from tui.training import default_trainer_factory

    now = dt.datetime(2026, 1, 2, 3, 4, 5)
    first, second = create_run_folder(tmp_path, now), create_run_folder(tmp_path, now)
    assert (first.name, second.name) == ("20260102-030405", "20260102-030405-2")
    assert first.is_dir() and second.is_dir()
    # The workbench and `twb train` draw from the same function: each run its own new folder.
    monkeypatch.chdir(tmp_path)
    config = preset("nano")
    a = default_trainer_factory(config, lambda e: None)
    b = default_trainer_factory(config, lambda e: None)
    assert a.out_dir != b.out_dir and a.out_dir.is_dir() and b.out_dir.is_dir()
    assert not any(a.out_dir.iterdir()) and a.out_dir.resolve().parent == (tmp_path / "runs").resolve()


def test_cancel_saves_a_checkpoint_that_resumes(tmp_path):
    from core.training.trainer import Trainer

    config = apply_overrides(preset("nano"), ["train.epochs=2", "train.log_every_steps=1"])
    events = []

    def cancel_at_step_5(event):
        events.append(event)
        if isinstance(event, ev.StepLogged) and event.step >= 5:
            trainer.cancel()

    trainer = Trainer(config, cancel_at_step_5, out_dir=tmp_path)
    trainer.run()
    cancelled = events[-1]
    assert isinstance(cancelled, ev.TrainingCancelled)
    assert cancelled.checkpoint_dir == str(tmp_path / "interrupt")
    assert json.loads((tmp_path / "interrupt" / "state.json").read_text())["step"] == cancelled.step
    events = []
    Trainer(config, events.append, out_dir=tmp_path, resume_from=cancelled.checkpoint_dir).run()
    assert isinstance(events[-1], ev.TrainingFinished) and events[-1].epochs_completed == 2


def test_a_folder_on_a_file_system_without_locks_is_used_unheld(tmp_path, monkeypatch):
    import errno as errno_module
    import fcntl

    from core.training.run_folder import LOCK_FILE, RunFolderLock

    def no_locks(fd, operation):
        raise OSError(errno_module.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    hold = RunFolderLock.acquire(tmp_path)  # not "in use by another run"
    hold.release()
    assert not (tmp_path / LOCK_FILE).exists()
