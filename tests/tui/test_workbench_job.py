"""The workbench with train.nproc_per_node = 2: a real torchrun job of `twb train` in a child
process, followed through the session it records (gloo on the CPU, the nano preset)."""
import asyncio
import signal
import threading
from pathlib import Path

import pytest

from core import events as ev
from core.config import PRESETS, apply_overrides
from core.sessions.names import user_name
from core.training.devices import available_cores
from core.sessions.reader import SessionLog
from core.sessions.writer import writer_alive
from tui.app import create_app
from tui.screens.dialogs import ChoiceScreen
from tui.screens.errors import ErrorsScreen
from tui.session_recording import EXPLORE_NAME

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the job runs `python -m core.cli` from any folder


def job_config(*overrides: str):
    return apply_overrides(PRESETS["nano"], ["train.nproc_per_node=2", "train.log_every_steps=2", *overrides])


class Seen:
    """The events the workbench received (in the training thread), and a wait for the first step."""

    def __init__(self) -> None:
        self.events: list = []
        self.stepped = threading.Event()

    def __call__(self, event) -> None:
        self.events.append(event)
        if isinstance(event, ev.StepLogged):
            self.stepped.set()

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


def only_session(folder: Path) -> SessionLog:
    """The run's session: the job's own (the workbench records none of its own for the run;
    what the user looked at between runs goes to its usual 'workbench' session)."""
    sessions = [p for p in folder.iterdir() if p.is_dir() and user_name(p.name) != EXPLORE_NAME]
    assert len(sessions) == 1, sessions
    return SessionLog.open(sessions[0])


async def started_a_long_job(app, pilot, seen: Seen) -> None:
    """F6, then wait (in a thread, not the app's loop) for the job's first logged step."""
    await app.panes_ready.wait()
    await pilot.press("f6")
    assert await asyncio.to_thread(seen.stepped.wait, 180)


async def test_the_panes_follow_a_two_process_job_to_its_end(sessions_dir):
    seen = Seen()
    app = create_app(job_config(), event_consumer=seen, install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = app.log_pane
        assert log.state == "finished", log.lines
        assert any("2 processes x cpu" in line and "effective batch 32 (16 per process)" in line for line in log.lines), log.lines[:3]
        assert [" ".join(line.split()[:2]) for line in log.lines if line.startswith("Epoch ")] == ["Epoch 1/2", "Epoch 2/2"]
        assert seen.of(ev.RunStarted)[0].world_size == 2
        assert {r["rank"] for r in seen.of(ev.StepLogged)[-1].ranks} == {0, 1}  # per-rank throughput
        assert "confusion (rows: true, columns: predicted)" in log.report
        # F9 exports the job's best checkpoint, which rank 0 wrote into the session.
        best = app.checkpoints.to_export()
        assert best and (Path(best) / "model.safetensors").is_file()
        # The attention pane shows the job's model, read from its latest checkpoint.
        await pilot.press("f4", *"a b c", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.attention_pane.view is not None, app.attention_pane.error
        assert app.attention_pane.view.weights.shape[:2] == (1, 2)  # nano: 1 layer, 2 heads
        # The errors browser lists the job model's mistakes on the run's validation split.
        await pilot.press("ctrl+g")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ErrorsScreen), app.screen
        assert app.screen.report is not None, app.screen.query_one("#errors-header").render()
        assert sum(map(sum, app.screen.report.confusion)) == seen.of(ev.RunStarted)[0].num_val
    session = only_session(sessions_dir)
    assert session.status() == "finished"


async def test_f7_stops_every_rank_and_rank_0_saves_the_interrupt_checkpoint(sessions_dir):
    seen = Seen()
    app = create_app(job_config("train.epochs=200"), event_consumer=seen, install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await started_a_long_job(app, pilot, seen)
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "cancelled", app.log_pane.lines
        cancelled = seen.of(ev.TrainingCancelled)[0]
        assert cancelled.checkpoint_dir and (Path(cancelled.checkpoint_dir) / "model.safetensors").is_file()
        assert app.trainer.process.returncode == 128 + signal.SIGTERM
    assert only_session(sessions_dir).status() == "interrupted"


async def test_quitting_can_leave_the_job_running_for_twb_attach(sessions_dir):
    seen = Seen()
    app = create_app(job_config("train.epochs=200"), event_consumer=seen, install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await started_a_long_job(app, pilot, seen)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ChoiceScreen)
        assert "2-process training job" in app.screen.question and "twb attach" in app.screen.question
        await pilot.press("escape")  # neither: the workbench stays, the job too
        assert app.is_running and app.training
        await pilot.press("ctrl+q")
        await pilot.press("l")
        await app.workers.wait_for_complete()
    job = app.trainer
    try:
        assert job.process.poll() is None  # the workbench is gone, the job goes on
        session = only_session(sessions_dir)
        assert writer_alive(session.folder)  # what `twb attach` follows
    finally:
        job.process.send_signal(signal.SIGTERM)
        job.process.wait(120)
    assert job.process.returncode == 128 + signal.SIGTERM
    assert SessionLog.open(session.folder).status() == "interrupted"


async def test_a_job_that_cannot_start_fails_with_its_one_line_error(sessions_dir, tmp_path):
    damaged = tmp_path / "damaged.csv"  # the form sees a file; only reading it shows it has no labels
    damaged.write_text("text\nno label column here\n", encoding="utf-8")
    seen = Seen()
    app = create_app(job_config("data.source=file", f"data.train_path={damaged}"), event_consumer=seen,
                     install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        failed = seen.of(ev.TrainingFailed)
        assert len(failed) == 1 and "damaged.csv" in failed[0].message, (failed, app.form.errors)
        assert "\n" not in failed[0].message  # one line, no traceback
        assert app.log_pane.state == "failed"
    assert not app.trainer.config_path.exists()  # its settings file goes with it


async def test_a_run_in_a_child_process_trains_with_every_core_and_the_panes_follow_it(sessions_dir):
    seen = Seen()
    config = apply_overrides(PRESETS["nano"], ["train.child_process=true", "train.log_every_steps=2"])
    app = create_app(config, event_consumer=seen, install_signal_handlers=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "finished", app.log_pane.lines
        started = seen.of(ev.RunStarted)[0]
        assert started.world_size == 1
        if available_cores() > 1:
            assert "(1 thread)" not in started.device  # no core is given up to the UI
        assert app.trainer.process.returncode == 0
    assert only_session(sessions_dir).status() == "finished"
