"""The errors browser (ctrl+g): the validation examples the model gets wrong, worst first.

A thread worker predicts the run's validation set with a snapshot of the model being trained
(during training: the weights of that moment; r takes a fresh one; after it: the final
weights) and computes an ``ErrorReport``. The confusion matrix picks a cell to list (Enter;
a: every error); Enter on a row opens that example in the explanation view.
"""
from __future__ import annotations

from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from core.errors import UserError
from core.formatting import shorten
from tui.widgets.confusion import ConfusionGrid

# () -> (predictor, texts, labels as class names); called in the worker
ValidationSource = Callable[[], tuple[Callable[[list[str]], list[dict[str, Any]]], list[str], list[str]]]


def run_validation_source(app: Any) -> ValidationSource:
    """The app's live run: its snapshot's predictor and its validation split."""
    def source():
        trainer = app.trainer
        data = getattr(trainer, "data", None)
        snap = app.snapshot() if data is not None else None
        if snap is None or not getattr(getattr(data, "val", None), "texts", None):
            raise UserError("no trained model with validation examples yet",
                            "start training (F6); headless: twb errors CHECKPOINT --data FILE")
        names = list(data.label_names)
        return snap.predict, list(data.val.texts), [names[i] for i in data.val.labels]
    return source


class ErrorsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("r", "refresh", "Refresh"),
    ]

    class Reported(Message):
        def __init__(self, report: Any, texts: list[str]) -> None:
            super().__init__()
            self.report, self.texts = report, texts

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, source: ValidationSource, open_example: Callable[[str], Any],
                 cell: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.source = source
        self.open_example = open_example  # text -> a screen to push (the explanation view)
        self.report: Any = None
        self.cell = cell  # (true, predicted) listed; None: every error
        self.shown: list[Any] = []  # the rows listed, in table order

    def compose(self) -> ComposeResult:
        with Vertical(id="errors-body"):
            yield Static("predicting the validation examples ...", id="errors-header", markup=False)
            with Horizontal(id="errors-top"):
                yield ConfusionGrid(id="errors-matrix")
                yield Static("arrows choose a cell of the matrix, Enter lists it, a lists every error; "
                             "Tab to the list, where Enter explains the example", id="errors-help", markup=False)
            yield DataTable(id="errors-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("loss", "true", "predicted", "conf", "text")
        self._compute()

    @work(thread=True, exclusive=True, exit_on_error=False, group="errors")
    def _compute(self) -> None:
        from core.explain.errors import error_report
        from core.training.devices import beside_training

        try:
            predict, texts, labels = self.source()
            report = beside_training(error_report, predict, texts, labels)  # a run training meanwhile keeps its speed
        except UserError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.post_message(self.Failed(f"cannot list the errors: {type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Reported(report, texts))

    def on_errors_screen_reported(self, message: Reported) -> None:
        self.report = message.report
        grid = self.query_one(ConfusionGrid)
        grid.set_matrix(self.report.label_names, self.report.confusion)
        if self.cell is not None and all(name in grid.names for name in self.cell):
            grid.row, grid.col = (grid.names.index(name) for name in self.cell)  # the cursor on the cell listed
            grid.picked = self.cell
        self._list()
        grid.focus()

    def on_errors_screen_failed(self, message: Failed) -> None:
        self.query_one("#errors-header", Static).update(message.message)

    def _list(self) -> None:
        report = self.report
        self.shown = report.rows if self.cell is None else report.in_cell(*self.cell)
        which = "every error" if self.cell is None else f"true {self.cell[0]}, predicted {self.cell[1]}"
        self.query_one("#errors-header", Static).update(
            f"{len(report.rows)} of {report.total} validation examples misclassified (accuracy {report.accuracy:.3f}) · "
            f"listing {len(self.shown)}: {which}, worst first")
        table = self.query_one(DataTable)
        table.clear()
        width = max(20, self.size.width - 40)
        for r in self.shown:
            table.add_row(f"{r.loss:.3f}", r.true, r.predicted, f"{r.confidence:.2f}", shorten(r.text, width))

    @on(ConfusionGrid.Picked)
    def _picked(self, message: ConfusionGrid.Picked) -> None:
        self.cell = message.cell
        if self.report is not None:
            self._list()

    @on(DataTable.RowSelected, "#errors-table")
    def _row_selected(self, message: DataTable.RowSelected) -> None:
        if 0 <= message.cursor_row < len(self.shown):
            self.app.push_screen(self.open_example(self.shown[message.cursor_row].text))

    def action_refresh(self) -> None:
        self.query_one("#errors-header", Static).update("predicting the validation examples ...")
        self._compute()

    def action_close(self) -> None:
        self.dismiss(None)


def errors_screen_for(app: Any, on_explained: Callable[[Any], Any] | None = None,
                      cell: tuple[str, str] | None = None) -> ErrorsScreen:
    """The browser over the app's run (listing ``cell`` first, if given); an example opens in the
    explanation view of the same model."""
    from tui.screens.explain import ExplainScreen, explainable_for

    def open_example(text: str) -> ExplainScreen:
        return ExplainScreen(text, lambda: explainable_for("", app.snapshot, {}), on_explained=on_explained)

    return ErrorsScreen(run_validation_source(app), open_example, cell)
