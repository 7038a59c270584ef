"""`twb train` headless: output, exit codes, bad input, interrupts and the report printed."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core import events as ev
from core.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[2]
LEARNS = ["--preset", "nano", "--set", "data.num_samples=2000", "--set", "train.epochs=5", "--set", "train.lr=5e-3"]


def test_train_prints_epoch_lines_and_report_and_learns(tmp_path, capsys):
    code = main(["train", *LEARNS, "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    lines = re.findall(r"^Epoch (\d)/5, Train Loss: [\d.]+, Val Loss: [\d.]+, Val Accuracy: ([\d.]+)$", out, re.M)
    assert [n for n, _ in lines] == ["1", "2", "3", "4", "5"]
    assert float(lines[-1][1]) >= 0.75  # chance is 0.5
    assert "precision" in out and "confusion" in out and "negative" in out
    assert (tmp_path / "best" / "model.safetensors").is_file() and (tmp_path / "last" / "state.json").is_file()


def test_data_file_implies_file_source(tmp_path, capsys):
    rows = ["text,label"] + [f"{'great fine lovely' if i % 2 else 'awful bad dull'} movie {i},{i % 2}" for i in range(80)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    code = main(["train", "--preset", "nano", "--data", str(tmp_path / "d.csv"), "--set", "train.epochs=1",
                 "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Epoch 1/1" in out and "Training on cpu" in out
    assert 'source = "file"' in (tmp_path / "run" / "last" / "config.toml").read_text()


@pytest.mark.parametrize("argv, names", [
    (["--set", "train.lr=fast"], ["train.lr"]),
    (["--set", "model.emb_dim=31", "--set", "train.lr=-1"], ["model.emb_dim", "train.lr"]),
    (["--data", "no/such/file.csv"], ["no/such/file.csv"]),
    (["--set", "train.batch_size=100000"], ["train.batch_size"]),
])
def test_bad_input_exits_2_with_one_line_per_problem(argv, names, capsys, tmp_path):
    code = main(["train", "--preset", "nano", "--out", str(tmp_path), *argv])
    captured = capsys.readouterr()
    assert code == 2
    errors = captured.err.strip().splitlines()
    assert len(errors) == len(names)
    for line, name in zip(errors, names):
        assert line.startswith("twb: error:") and name in line
    assert "Traceback" not in captured.err and "Epoch" not in captured.out


def test_val_without_data_is_a_one_line_error_naming_the_fix(tmp_path, capsys):
    val = tmp_path / "val.csv"
    val.write_text("text,label\ngood,1\nbad,0\n")
    code = main(["train", "--preset", "nano", "--val", str(val), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("twb: error: --val") and "--data" in err[0]
    assert not (tmp_path / "run").exists()


def test_version_prints_the_package_version_and_exits_0():
    from core.version import pyproject_version

    done = subprocess.run([sys.executable, "-m", "tui.cli", "--version"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"twb {pyproject_version()}"
    assert pyproject_version() and pyproject_version(ROOT / "no-such.toml") is None


TWB = "import sys; from core.cli import main; sys.exit(main())"
# The same, with every weights file taking two seconds to write: a signal surely lands mid-save.
TWB_SLOW_SAVES = """
import sys, time
import safetensors.torch

real_save_file = safetensors.torch.save_file
def slow_save_file(*args, **kwargs):
    time.sleep(2)
    return real_save_file(*args, **kwargs)
safetensors.torch.save_file = slow_save_file
from core.cli import main
sys.exit(main())
"""


def start_training(out_dir: Path, script: str = TWB) -> subprocess.Popen:
    """`twb train` in a subprocess, returned once its first progress line shows training is under way."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script,
         "train", "--preset", "default", "--out", str(out_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stdout:
        if line.lstrip().startswith("step "):
            break
    return proc


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_saves_an_interrupt_checkpoint_that_resumes(tmp_path, capsys, signum, code):
    out_dir = tmp_path / "run"
    proc = start_training(out_dir)
    try:
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "resume with: twb train --resume" in out
    assert (out_dir / "interrupt" / "state.json").is_file()
    if signum != signal.SIGINT:
        return
    # Resuming finishes the interrupted first epoch (epochs cut to 1 to keep the test short).
    assert main(["train", "--resume", str(out_dir), "--set", "train.epochs=1", "--quiet"]) == 0
    assert "Epoch 1/1, Train Loss" in capsys.readouterr().out


def test_a_second_ctrl_c_while_saving_is_ignored_and_the_checkpoint_completes(tmp_path):
    out_dir = tmp_path / "run"
    proc = start_training(out_dir, TWB_SLOW_SAVES)
    try:
        proc.send_signal(signal.SIGINT)
        assert "saving an interrupt checkpoint" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)  # while the (slow) interrupt checkpoint is written
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "resume with: twb train --resume" in out
    assert (out_dir / "interrupt" / "state.json").is_file()
    assert not list(out_dir.glob(".*tmp*"))  # no half-written checkpoint left behind
    assert "received again; still saving" in err and "Traceback" not in err


def test_printer_caps_a_report_of_many_classes_and_writes_every_class_to_a_file(tmp_path, capsys):
    from core.commands.printer import HeadlessPrinter

    n = 300
    report = ev.ClassReportComputed(
        label_names=[f"class{i}" for i in range(n)], accuracy=0.5, precision=[0.5] * n, recall=[0.25] * n,
        f1=[0.3] * n, support=[2] * n, confusion=[[1 if i == j else 0 for j in range(n)] for i in range(n)])
    HeadlessPrinter(quiet=True, full_report=tmp_path / "report.csv")(report)
    out = capsys.readouterr().out.splitlines()
    assert len(out) < 30  # was a line per class plus a 300 x 300 matrix
    assert any("280 more classes not shown" in line for line in out)
    assert out[-1].endswith(f"every class in {tmp_path / 'report.csv'})")
    rows = (tmp_path / "report.csv").read_text().splitlines()
    assert len(rows) == 1 + n and rows[-1] == "class299,0.5,0.25,0.3,2"

    small = ev.ClassReportComputed(label_names=["neg", "pos"], accuracy=1.0, precision=[1.0, 1.0],
                                   recall=[1.0, 1.0], f1=[1.0, 1.0], support=[3, 4], confusion=[[3, 0], [0, 4]])
    HeadlessPrinter(quiet=True, full_report=tmp_path / "small.csv")(small)
    assert "confusion" in capsys.readouterr().out and not (tmp_path / "small.csv").exists()


def test_preset_and_resume_together_is_refused(tmp_path, capsys):
    assert main(["train", "--preset", "nano", "--resume", str(tmp_path)]) == 2
    assert "--preset cannot be combined with --resume" in capsys.readouterr().err


def test_printer_reports_failures_on_one_line(capsys):
    from core.commands.printer import HeadlessPrinter

    HeadlessPrinter()(ev.TrainingFailed(message="the training loss became nan at step 7", hint="lower train.lr"))
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["twb: error: the training loss became nan at step 7 (lower train.lr)"]


def test_printer_shows_progress_checkpoints_and_the_end(capsys):
    from core.commands.printer import HeadlessPrinter

    printer = HeadlessPrinter(progress_every_s=3600)
    step = ev.StepLogged(epoch=1, step=20, total_steps=100, epoch_progress=0.4, loss=0.6931, lr=1e-3,
                         samples_per_s=1234.0, tokens_per_s=20000.0, elapsed_s=2.0, eta_s=75.0,
                         memory_bytes=300 * 2**20)
    printer(step)
    printer(step)  # within progress_every_s: not printed again
    printer(ev.CheckpointSaved(path="runs/x/best", kind="best", epoch=1, step=50, metric=0.5))
    printer(ev.TrainingFinished(epochs_completed=2, elapsed_s=83, best_metric=0.41, best_epoch=2,
                                checkpoint_dir="runs/x/best"))
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["step", "20/100", "epoch", "1", "40%", "loss", "0.6931", "lr", "1.00e-03",
                              "1,234", "samples/s", "mem", "300.0", "MiB", "eta", "1:15"]
    assert out[1] == "  saved best checkpoint: runs/x/best"
    assert out[2] == "Training finished after 2 epochs in 1:23; best metric 0.4100 at epoch 2; model in runs/x/best"
    assert len(out) == 3


def test_a_run_into_the_folder_of_a_running_one_stops_at_once_and_a_killed_one_leaves_no_hold(tmp_path, capsys):
    from core.training.run_folder import LOCK_FILE

    out_dir = tmp_path / "run"
    proc = start_training(out_dir)
    try:
        assert main(["train", "--preset", "nano", "--out", str(out_dir), "--quiet"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"is in use by another run (pid {proc.pid})" in err[0], err
        assert "--out" in err[0]  # the fix
        proc.kill()  # kill -9: no clean-up ran
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert main(["train", "--preset", "nano", "--out", str(out_dir), "--set", "train.epochs=1", "--quiet"]) == 0
    assert "Epoch 1/1" in capsys.readouterr().out
    assert not (out_dir / LOCK_FILE).exists()  # a finished run takes its hold file with it
