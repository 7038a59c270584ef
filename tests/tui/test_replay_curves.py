"""The charts of a replayed session: mid-epoch validations, resumes, and NaN validation losses."""
import math

from core.events import EpochCompleted, ValidationReported
from core.sessions import SessionLog, SessionRecorder
from tests.synthetic_sessions import write_synthetic_session
from tui.replay import replay_app
from tui.widgets.curves import Curves

SIZE = (120, 36)
SERIES = ("step_x", "step_loss", "epochs", "train_loss", "val_x", "val_loss", "val_acc")


def resumed_session(root):
    """Epochs 1-2 with a mid-epoch evaluation every 2 steps, cancelled, then resumed for epoch 3."""
    first = write_synthetic_session(root, "resumed", epochs=2, steps_per_epoch=4, eval_every=2, end="cancelled")
    again = SessionRecorder.resume(first.folder)
    write_synthetic_session(root, epochs=3, steps_per_epoch=4, eval_every=2, start_epoch=2, recorder=again)
    return first.folder


def shown(app) -> dict:
    curves = app.query_one(Curves)
    return {name: list(getattr(curves, name)) for name in SERIES}


async def open_viewer(folder):
    app = replay_app(SessionLog.open(folder), install_signal_handlers=False)
    return app


async def test_replayed_curves_continue_across_a_resume_and_show_mid_epoch_validations(tmp_path):
    app = await open_viewer(resumed_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await pilot.pause()
        at_end = shown(app)
        # Before: only the resumed run's steps (9-12), and no mid-epoch evaluation at all.
        assert at_end["step_x"] == [k / 4 for k in range(1, 13)]
        assert at_end["epochs"] == [1, 2, 3]
        assert at_end["val_x"] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
        assert any("Step 10 (epoch 3), Val Loss" in line for line in app.log_pane.lines)
        # Fed record by record (as when playing), the charts end up the same as after a jump.
        app.controller.show(0)
        app.controller.show(app.controller.cursor.last)
        await pilot.pause()
        assert shown(app) == at_end


async def test_a_nan_validation_loss_is_a_gap_in_the_chart_not_a_crash(tmp_path):
    nan = float("nan")
    rec = write_synthetic_session(tmp_path, "no val", epochs=1, steps_per_epoch=4, end="none", close=False)
    rec.on_event(ValidationReported(epoch=2, step=5, val_loss=nan, val_accuracy=nan, elapsed_s=1.0))
    rec.on_event(EpochCompleted(epoch=2, total_epochs=2, train_loss=0.5, val_loss=nan, val_accuracy=nan,
                                elapsed_s=1.0))
    rec.close()
    app = await open_viewer(rec.folder)
    async with app.run_test(size=SIZE) as pilot:
        await app.controller.opened.wait()
        await pilot.pause()
        curves = app.query_one(Curves)
        before = curves.redraws
        curves.redraw()
        assert curves.redraws == before + 1
        assert curves.val_x[-2:] == [1.25, 2.0] and all(math.isnan(v) for v in curves.val_loss[-2:])
        assert any("Val Loss: nan" in line for line in app.log_pane.lines)
