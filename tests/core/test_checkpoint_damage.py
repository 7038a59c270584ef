"""Damaged, foreign or incomplete checkpoints: one line naming the file, never a traceback, in
`twb train --resume`, `twb export`, load_classifier and the workbench's resume."""
import json
import shutil

import pytest
import torch

from core import events as ev
from core.cli import main
from core.config import apply_overrides, preset
from core.errors import UserError
from core.training.checkpoint import load_classifier, resolve_checkpoint
from core.training.trainer import Trainer

CONFIG = apply_overrides(preset("nano"), ["train.epochs=1"])


@pytest.fixture(autouse=True)
def one_thread(tmp_path, monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("TWB_DATA_DIR", str(tmp_path / "twb-data"))  # exports are listed there
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run folder with best/ and last/ after one epoch of nano."""
    run = tmp_path_factory.mktemp("run")
    events = []
    Trainer(CONFIG, events.append, out_dir=run).run()
    assert isinstance(events[-1], ev.TrainingFinished), events[-1]
    return run


@pytest.fixture
def checkpoint(trained, tmp_path):
    """A fresh copy of the run's last/ to damage."""
    shutil.copytree(trained, tmp_path / "run")
    return tmp_path / "run" / "last"


def edit_state(folder, change):
    path = folder / "state.json"
    state = json.loads(path.read_text())
    path.write_text(json.dumps(change(state)))


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def bad_rng(state):
    state["rng"]["torch"] = state["rng"]["torch"][:10]
    return state


DAMAGE = {
    "state-a-list": ("state.json", lambda f: (f / "state.json").write_text("[1]")),
    "state-only-format": ("state.json", lambda f: (f / "state.json").write_text('{"format": 1}')),
    "state-bad-rng": ("state.json", lambda f: edit_state(f, bad_rng)),
    "state-epoch-a-word": ("state.json", lambda f: edit_state(f, lambda s: {**s, "epoch": "one"})),
    "weights-truncated": ("model.safetensors", lambda f: truncate(f / "model.safetensors")),
    "optimizer-truncated": ("optimizer.pt", lambda f: truncate(f / "optimizer.pt")),
    "optimizer-foreign": ("optimizer.pt", lambda f: torch.save({"optimizer": ev.RunStarted}, f / "optimizer.pt")),
}


def assert_one_line_error(captured, filename):
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("twb: error:") and filename in lines[0]
    assert "Traceback" not in captured.err and "weights_only" not in captured.err
    assert "Epoch" not in captured.out


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_resume_from_a_damaged_checkpoint_is_one_line_naming_the_file(checkpoint, damage, capsys):
    filename, do = DAMAGE[damage]
    do(checkpoint)
    code = main(["train", "--resume", str(checkpoint), "--set", "train.epochs=2"])
    assert code == 2
    assert_one_line_error(capsys.readouterr(), filename)


@pytest.mark.parametrize("damage", [d for d in DAMAGE if not d.startswith("optimizer")])
def test_loading_or_exporting_a_damaged_checkpoint_is_one_line_naming_the_file(checkpoint, damage, tmp_path, capsys):
    filename, do = DAMAGE[damage]
    do(checkpoint)
    with pytest.raises(UserError, match=filename.replace(".", r"\.")):
        load_classifier(checkpoint)
    assert main(["export", str(checkpoint), str(tmp_path / "exported")]) == 2
    assert_one_line_error(capsys.readouterr(), filename)
    assert not (tmp_path / "exported").exists()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_the_workbench_resume_reports_a_damaged_checkpoint_in_the_log(checkpoint, damage, tmp_path, monkeypatch):
    from tui.training import default_trainer_factory

    monkeypatch.chdir(tmp_path)
    filename, do = DAMAGE[damage]
    do(checkpoint)
    events = []
    default_trainer_factory(CONFIG, events.append, resume_from=str(checkpoint)).run()
    failed = events[-1]
    assert isinstance(failed, ev.TrainingFailed) and filename in failed.message
    assert "\n" not in failed.hint and "unexpectedly" not in failed.message and "weights_only" not in failed.hint


def test_a_missing_optimizer_state_is_refused_unless_asked_for(checkpoint, capsys):
    (checkpoint / "optimizer.pt").unlink()
    assert main(["train", "--resume", str(checkpoint), "--set", "train.epochs=2"]) == 2
    err = capsys.readouterr().err
    assert "optimizer.pt" in err and "--fresh-optimizer" in err and len(err.strip().splitlines()) == 1

    assert main(["train", "--resume", str(checkpoint), "--set", "train.epochs=2", "--fresh-optimizer"]) == 0
    out = capsys.readouterr().out
    assert "fresh optimizer" in out and "Epoch 2/2" in out


def test_a_missing_optimizer_state_is_recorded_when_resumed_with_a_fresh_one(checkpoint):
    (checkpoint / "optimizer.pt").unlink()
    config = apply_overrides(CONFIG, ["train.epochs=2"])
    events = []
    Trainer(config, events.append, out_dir=checkpoint.parent, resume_from=checkpoint).run()
    assert isinstance(events[-1], ev.TrainingFailed) and "optimizer.pt" in events[-1].message
    events = []
    Trainer(config, events.append, out_dir=checkpoint.parent, resume_from=checkpoint, fresh_optimizer=True).run()
    assert isinstance(events[-1], ev.TrainingFinished)
    assert events[0].fresh_optimizer and ev.from_record(ev.to_record(events[0])).fresh_optimizer


def test_resume_of_a_run_folder_finds_the_copy_a_cut_off_save_kept(checkpoint, capsys):
    run = checkpoint.parent
    shutil.rmtree(run / "best")
    checkpoint.rename(run / ".last.old")  # killed between the two renames of a save
    assert resolve_checkpoint(run) == run / ".last.old"
    assert main(["train", "--resume", str(run), "--set", "train.epochs=2", "--quiet"]) == 0
    assert "Epoch 2/2" in capsys.readouterr().out
    assert json.loads((run / "last" / "state.json").read_text())["epoch"] == 2
