"""The training pane's confusion matrix: after the report, Enter on a cell lists its examples."""
from types import SimpleNamespace

import pytest

from core.config import PRESETS
from core.sessions import SessionLog
from tests.synthetic_sessions import write_synthetic_session
from tui.app import create_app
from tui.replay import replay_app
from tui.screens.errors import ErrorsScreen
from tui.widgets.confusion import ConfusionGrid

from tui_fakes import last_trainer, scripted_run

NAMES = ["negative", "positive"]


def validation_like_the_report():
    """16 validation rows a fake model predicts as the scripted report's matrix says ([[6, 2], [3, 5]])."""
    cells = [("negative", "negative")] * 6 + [("negative", "positive")] * 2 + \
            [("positive", "negative")] * 3 + [("positive", "positive")] * 5
    texts = [f"text {i}" for i in range(len(cells))]
    predicted = dict(zip(texts, (p for _, p in cells)))

    def predict(batch):
        return [{"label": predicted[t], "score": 0.9,
                 "scores": {n: 0.9 if n == predicted[t] else 0.1 for n in NAMES}} for t in batch]

    data = SimpleNamespace(val=SimpleNamespace(texts=texts, labels=[NAMES.index(t) for t, _ in cells]),
                           label_names=NAMES)
    return data, SimpleNamespace(predict=predict)


def on_screen(app, widget) -> bool:
    region = widget.region
    return region.height > 0 and app.screen.region.contains_region(region)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_enter_on_a_cell_opens_the_errors_browser_on_that_cell(scripted, size):
    app = create_app(PRESETS["nano"], trainer_factory=scripted, install_signal_handlers=False)
    async with app.run_test(size=size) as pilot:
        await app.panes_ready.wait()
        grid = app.query_one("#train-matrix", ConfusionGrid)
        assert not grid.display  # no report yet: nothing to pick
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.log_pane.state == "finished"
        assert grid.display and on_screen(app, grid), (grid.region, app.screen.region)
        assert grid.counts == scripted_run(PRESETS["nano"])[-2].confusion
        assert on_screen(app, app.query_one("#train-log"))  # the log keeps its place above the matrix
        trainer = last_trainer()
        trainer.data, snap = validation_like_the_report()
        trainer.snapshot = lambda: snap
        app.query_one("#train-log").focus()
        await pilot.press("tab")
        assert app.focused is grid
        await pilot.press("down", "left", "enter")  # row positive, column negative
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ErrorsScreen) and screen.cell == ("positive", "negative")
        assert [(r.true, r.predicted) for r in screen.shown] == [("positive", "negative")] * 3
        assert "listing 3: true positive, predicted negative" in str(screen.query_one("#errors-header").render())
        matrix = screen.query_one(ConfusionGrid)
        assert matrix.cell == ("positive", "negative") and app.focused is matrix
        await pilot.press("a")  # the browser's own matrix still widens the list
        assert len(screen.shown) == 5
        await pilot.press("escape")
        assert app.focused is grid


async def test_a_new_run_hides_the_previous_matrix(scripted):
    app = create_app(PRESETS["nano"], trainer_factory=scripted, install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        app.feed_all(scripted_run(PRESETS["nano"]))
        await pilot.pause()
        grid = app.query_one("#train-matrix", ConfusionGrid)
        assert grid.display
        app.feed(scripted_run(PRESETS["nano"])[0])  # RunStarted
        await pilot.pause()
        assert not grid.display


async def test_replay_shows_the_matrix_but_enter_says_a_model_is_needed(tmp_path):
    rec = write_synthetic_session(tmp_path, "full", epochs=2, steps_per_epoch=3)
    app = replay_app(SessionLog.open(rec.folder), install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.controller.opened.wait()
        await app.panes_ready.wait()
        await pilot.pause()
        app.action_show_pane("training")
        await pilot.pause()
        grid = app.query_one("#train-matrix", ConfusionGrid)
        assert grid.display and grid.counts and on_screen(app, grid)
        grid.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorsScreen)
        assert any("needs a model" in str(n.message) for n in app._notifications)
