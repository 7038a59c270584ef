"""Edge cases of the training log a person meets: NaN metrics, 80 columns, the end of a run."""
import dataclasses
import math

from core import events as ev
from core.config import PRESETS
from tui.app import create_app
from tui.widgets.curves import Curves

from tui_fakes import scripted_run


def with_nan_validation(events):
    nan = float("nan")
    return [dataclasses.replace(e, val_loss=nan, val_accuracy=nan) if isinstance(e, ev.EpochCompleted) else e
            for e in events]


async def test_a_nan_validation_loss_is_drawn_as_a_gap_not_a_crash():
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f3")
        app.feed_all(with_nan_validation(scripted_run(PRESETS["nano"])))
        await pilot.pause()
        curves = app.query_one(Curves)
        curves.redraw()
        await pilot.pause(0.2)
        assert app.log_pane.state == "finished"
        assert all(math.isnan(v) for v in curves.val_loss)
        plot = str(app.query_one("#loss-plot").render())
        assert plot  # drawn


def test_a_nan_in_the_middle_of_a_curve_splits_it():
    from tui.widgets.curves import finite_runs

    nan = float("nan")
    assert finite_runs([1, 2, 3, 4], [0.5, nan, 0.4, 0.3]) == [([1], [0.5]), ([3, 4], [0.4, 0.3])]
    assert finite_runs([1, 2], [nan, nan]) == []


async def test_a_new_run_clears_the_previous_runs_bars_report_and_log():
    def failing_factory(config, on_event, out_dir=None, resume_from=None):
        class Failing:
            def run(self):
                on_event(ev.TrainingFailed("cannot read data.train_path: train.tsv", "give a readable file"))

            def cancel(self):
                pass
        return Failing()

    app = create_app(PRESETS["nano"], trainer_factory=failing_factory, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        app.feed_all(scripted_run(PRESETS["nano"]))
        await pilot.pause()
        assert app.log_pane.report and app.query_one("#run-bar").fraction == 1.0
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = app.log_pane
        assert log.state == "failed"
        assert log.report == "" and not any(line.startswith("Epoch ") for line in log.lines)
        assert app.query_one("#run-bar").fraction == 0.0 and app.query_one(Curves).epochs == []
