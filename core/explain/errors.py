"""The examples a classifier gets wrong, worst first: what the errors browser and `twb errors` list.

"Worst" is the cross-entropy loss of the true class, -log p(true): a confident wrong answer
comes before a hesitant one. Any predictor works that maps texts to ``{"label", "score",
"scores"}`` dicts (``LoadedClassifier.predict``, ``ClassifierSnapshot.predict``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from core.errors import UserError

Predictor = Callable[[list[str]], list[dict[str, Any]]]
_FLOOR = 1e-12  # p(true) of exactly 0 would give an infinite loss; JSON has no infinity


@dataclass(frozen=True)
class Misclassified:
    row: int  # position in the examples given (0-based)
    line: int | None  # line in the file they came from, when known
    text: str
    true: str
    predicted: str
    confidence: float  # p(predicted)
    loss: float  # -log p(true)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ErrorReport:
    """Every misclassified row by loss, and the confusion matrix of all rows."""

    label_names: list[str]
    total: int  # rows predicted
    confusion: list[list[int]]  # confusion[true][predicted], in label_names order
    rows: list[Misclassified]  # highest loss first; ties in row order

    def in_cell(self, true: str, predicted: str) -> list[Misclassified]:
        return [r for r in self.rows if r.true == true and r.predicted == predicted]

    @property
    def accuracy(self) -> float:
        return 1 - len(self.rows) / self.total if self.total else 0.0


def error_report(predict: Predictor, texts: Sequence[str], labels: Sequence[str],
                 lines: Sequence[int] | None = None) -> ErrorReport:
    """Predict every text once; ``labels`` are class names."""
    from core.training.metrics import confusion_matrix

    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise UserError("there are no examples to check", "give a file with labelled rows")
    results = predict(list(texts))
    names = list(results[0]["scores"])
    index = {name: i for i, name in enumerate(names)}
    wrong: list[Misclassified] = []
    for row, (text, label, result) in enumerate(zip(texts, labels, results)):
        if result["label"] == label:
            continue
        p_true = float(result["scores"].get(label, 0.0))
        wrong.append(Misclassified(row=row, line=None if lines is None else lines[row], text=text, true=label,
                                   predicted=result["label"], confidence=float(result["score"]),
                                   loss=-math.log(max(p_true, _FLOOR))))
    wrong.sort(key=lambda m: (-m.loss, m.row))
    matrix = confusion_matrix([index[y] for y in labels], [index[r["label"]] for r in results], len(names))
    return ErrorReport(names, len(texts), matrix.tolist(), wrong)


def misclassified(predict: Predictor, texts: Sequence[str], labels: Sequence[str],
                  lines: Sequence[int] | None = None, cell: tuple[str, str] | None = None,
                  top: int | None = None) -> list[Misclassified]:
    """The rows whose prediction is not their label, by loss (highest first; ties: row order).

    ``cell`` = (true, predicted) keeps one cell of the confusion matrix; ``top`` the first n.
    """
    report = error_report(predict, texts, labels, lines)
    rows = report.rows if cell is None else report.in_cell(*cell)
    return rows if top is None else rows[:top]


def read_labelled(path: str, label_names: Sequence[str]) -> tuple[list[str], list[str], list[int]]:
    """Texts, labels (the model's class names) and line numbers of a CSV/TSV/JSONL file."""
    from core.data.prepare import normalise_label
    from core.data.readers import read_table, require_regular_file

    require_regular_file(path, "--data")
    table = read_table(path)
    known = set(label_names)
    labels = []
    for raw, line in zip(table.labels, table.lines):
        label = normalise_label(raw)
        if label not in known:
            raise UserError(f"{table.path}, line {line}: label {raw!r} is not one of the model's classes",
                            f"the model knows {', '.join(map(repr, label_names))}; give a file labelled like its training data")
        labels.append(label)
    return list(table.texts), labels, list(table.lines)
