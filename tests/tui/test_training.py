"""Training from the workbench: events reach the panes, cancel, quit during training, replay."""
import asyncio
import dataclasses

from core import events as ev
from core.config import PRESETS
from tui.app import create_app
from tui.bridge import EngineEvent, StepProgress, wrap
from tui.screens.dialogs import ConfirmScreen
from tui.widgets.curves import Curves

from tui_fakes import last_trainer, scripted_run, wait_started


def test_step_progress_replaces_stale_progress_but_nothing_else():
    step = scripted_run(PRESETS["nano"])[1]
    epoch = next(e for e in scripted_run(PRESETS["nano"]) if isinstance(e, ev.EpochCompleted))
    assert isinstance(wrap(step), StepProgress)
    assert wrap(step).can_replace(wrap(step))
    assert not wrap(step).can_replace(wrap(epoch))
    assert not wrap(epoch).can_replace(wrap(epoch))


async def test_real_training_on_nano_shows_epoch_lines_curves_and_report(tmp_path):
    seen = []
    app = create_app(PRESETS["nano"], out_dir=tmp_path, install_signal_handlers=False)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = app.log_pane
        assert log.state == "finished", log.lines
        epoch_lines = [line for line in log.lines if line.startswith("Epoch ")]
        assert [" ".join(line.split()[:2]) for line in epoch_lines] == ["Epoch 1/2", "Epoch 2/2"]
        assert len(epoch_lines[0].split()) == 5  # Epoch 1/2, train loss, val loss, val accuracy
        curves = app.query_one(Curves)
        assert curves.epochs == [1, 2] and len(curves.val_loss) == 2 and curves.redraws >= 2
        assert "confusion (rows: true, columns: predicted)" in log.report
        assert any(isinstance(m, StepProgress) for m in seen)
        assert any(isinstance(m, EngineEvent) and isinstance(m.event, ev.TrainingFinished) for m in seen)
        assert str(app.query_one("#train-stats").render()) == f"ended at step {log.total_steps}/{log.total_steps}"
        assert (tmp_path / "last").is_dir()
        # The attention viewer looks at the trained model (a snapshot of the trainer's weights).
        await pilot.press("f4", *"a b c", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.attention_pane.view is not None, app.attention_pane.error
        assert app.attention_pane.view.weights.shape[:2] == (1, 2)  # nano: 1 layer, 2 heads


async def test_cancel_stops_the_run(holding_factory):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        assert await asyncio.to_thread(wait_started)
        assert app.training
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert last_trainer().cancelled
        assert app.log_pane.state == "cancelled"
        assert not app.training
        assert app.check_action("start_training", ()) is True


async def test_quit_during_training_asks_then_cancels_and_exits(holding_factory):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        assert await asyncio.to_thread(wait_started)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep training
        assert app.training and not last_trainer().cancelled
        await pilot.press("ctrl+q")
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert last_trainer().cancelled and not app.training
    assert app.return_code == 0


async def test_interrupt_signal_saves_and_exits(holding_factory):
    app = create_app(PRESETS["nano"], trainer_factory=holding_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f6")
        assert await asyncio.to_thread(wait_started)
        app._on_signal(143)  # what SIGTERM calls (tui.signals; SIGHUP: 129)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert last_trainer().interrupted
        assert app.log_pane.last_checkpoint == "/tmp/run/interrupt"
    assert app.return_code == 143


async def test_recorded_events_replay_into_the_same_panes():
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        app.feed_all(scripted_run(PRESETS["nano"]))
        await pilot.pause()
        assert app.log_pane.state == "finished"
        assert sum(line.startswith("Epoch ") for line in app.log_pane.lines) == 2
        assert app.query_one(Curves).epochs == [1, 2]
        assert app.form.config == PRESETS["nano"]  # the run's own config is shown



async def test_the_log_says_when_the_data_came_from_the_cache():
    started = scripted_run(PRESETS["nano"])[0]
    cached = "cached (0.21s to read, 4.6s to build; /cache/twb/data/abc)"
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)):
        await app.panes_ready.wait()
        app.log_pane.apply_event(started)
        assert not any(line.startswith("data: ") for line in app.log_pane.lines)  # built-in data: nothing to say
        app.log_pane.apply_event(dataclasses.replace(started, data_summary={"source": "file", "cache": cached}))
        assert f"data: {cached}" in app.log_pane.lines
