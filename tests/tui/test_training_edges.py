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


def rendered(app, selector):
    return str(app.query_one(selector).render())


def no_spaces(text):
    # Wrapping may break a long word or drop a space at a line end; no other character may go.
    return "".join(text.split())


async def test_at_80_columns_the_epoch_lines_show_val_accuracy_and_long_messages_wrap():
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f3")
        await pilot.pause()
        events = scripted_run(PRESETS["nano"])
        app.feed_all(events[:-1])  # up to the per-class report
        await pilot.pause()
        log = app.query_one("#train-log")
        width = log.scrollable_content_region.width
        assert width < 70  # beside the curves: narrower than the tutorial's epoch line
        shown = log.rendered_lines()
        rows = [line for line in shown if line.startswith("Epoch ")]
        assert rows[-1].split() == ["Epoch", "2/2", "0.6000", "0.6200", "0.7000"]  # val accuracy included
        assert "accuracy" in shown[shown.index(rows[0]) - 1]  # the table header names the column
        assert ["negative", "0.7000", "0.7000", "0.7000", "8"] in [line.split() for line in shown]  # report rows whole
        message = "cannot read data.train_path: " + "/very/long/folder/" * 6 + "train.tsv is not valid UTF-8"
        app.feed(ev.TrainingFailed(message, "convert the file to UTF-8 and press F6 again", epoch=2, step=7))
        await pilot.pause()
        shown = log.rendered_lines()
        assert all(len(line) <= width for line in shown)
        assert no_spaces(message + " - convert the file to UTF-8 and press F6 again") in no_spaces("".join(shown))
        status = rendered(app, "#train-status")
        assert status.startswith("failed") and len(status) <= app.query_one("#train-status").size.width


async def test_the_step_line_leaves_off_whole_parts_that_do_not_fit():
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f3")
        events = scripted_run(PRESETS["nano"])
        app.feed_all(events[:3])
        app.log_pane.flush_progress()
        await pilot.pause()
        stats = rendered(app, "#train-stats")
        assert stats.startswith("step 2/8 · loss 0.6800 · ETA") and not stats.endswith("…")
        assert len(stats) <= app.query_one("#train-stats").size.width


async def test_finish_cancel_and_bar_agree_on_the_epoch_and_name_the_metric():
    app = create_app(PRESETS["default"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("f3")
        events = scripted_run(PRESETS["nano"])  # 4 steps an epoch
        app.feed_all(events[:3])  # two steps into epoch 1
        app.log_pane.flush_progress()
        assert app.query_one("#epoch-bar").label == "epoch 1/2"
        app.feed(ev.TrainingCancelled(epoch=0, step=2, checkpoint_dir="/tmp/run/interrupt"))
        await pilot.pause()
        log = app.log_pane
        assert "cancelled in epoch 1/2 (0 complete), at step 2" in log.lines[-1]
        assert rendered(app, "#train-stats") == "ended at step 2/8"

        app.feed_all(events)
        await pilot.pause()
        assert log.lines[-1].endswith("best val loss 0.6200 at epoch 2")
        assert "best val loss" in rendered(app, "#train-status")
        assert rendered(app, "#train-stats") == "ended at step 8/8"
