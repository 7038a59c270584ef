"""The errors browser: exactly the misclassified validation rows, a matrix cell filters, Enter explains."""
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from core.config import PRESETS
from tui.app import create_app
from tui.screens.errors import ErrorsScreen
from tui.screens.explain import ExplainScreen
from tui.widgets.confusion import ConfusionGrid

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from explain_fixtures import not_texts, train_not_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

FLIPPED = {2, 5, 11}  # validation rows given the wrong label: the model, right on the task, "errs" there


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from core.training.checkpoint import ClassifierSnapshot, load_classifier

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    loaded = load_classifier(train_not_model(tmp_path_factory.mktemp("not")) / "best")
    torch.set_num_threads(before)
    snap = ClassifierSnapshot(loaded.model, loaded.encoder, loaded.label_names, loaded.max_seq_len)
    rows = not_texts(30, seed=9)
    names = list(loaded.label_names)
    labels = [names.index(y) ^ (i in FLIPPED) for i, (_, y) in enumerate(rows)]
    data = SimpleNamespace(val=SimpleNamespace(texts=[t for t, _ in rows], labels=labels), label_names=names)
    return SimpleNamespace(snapshot=lambda: snap, data=data)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_browser_lists_the_misclassified_rows_and_a_cell_filters(run, size):
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=size) as pilot:
        await app.panes_ready.wait()
        app.trainer = run
        await pilot.press("ctrl+g")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ErrorsScreen)
        texts = run.data.val.texts
        assert sorted(texts.index(r.text) for r in screen.shown) == sorted(FLIPPED)
        header = str(screen.query_one("#errors-header").render())
        assert header.startswith(f"{len(FLIPPED)} of 30 validation examples misclassified")
        grid = screen.query_one(ConfusionGrid)
        assert app.focused is grid and sum(map(sum, grid.counts)) == 30
        names = run.data.label_names
        # the cell (true names[1], predicted names[0]): rows whose label was flipped to names[1]
        await pilot.press("down", "left", "enter")
        expected = {i for i in FLIPPED if run.data.val.labels[i] == 1}
        assert grid.picked == (names[1], names[0])
        assert {texts.index(r.text) for r in screen.shown} == expected
        assert f"true {names[1]}, predicted {names[0]}" in str(screen.query_one("#errors-header").render())
        await pilot.press("a")
        assert len(screen.shown) == len(FLIPPED)
        await pilot.press("tab")
        assert app.focused is screen.query_one("#errors-table"), app.focused
        await pilot.press("enter")  # the worst row, in the explanation view
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)
        assert app.screen.text == screen.shown[0].text and app.screen.explanation is not None
        await pilot.press("escape")
        assert app.screen is screen


async def test_browser_before_any_training_says_what_to_do():
    app = create_app(PRESETS["nano"], install_signal_handlers=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.panes_ready.wait()
        await pilot.press("ctrl+g")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        header = str(app.screen.query_one("#errors-header").render())
        assert "no trained model with validation examples yet" in header and "twb errors" in header
