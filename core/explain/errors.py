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


def misclassified(predict: Predictor, texts: Sequence[str], labels: Sequence[str],
                  lines: Sequence[int] | None = None, cell: tuple[str, str] | None = None,
                  top: int | None = None) -> list[Misclassified]:
    """The rows whose prediction is not their label, by loss (highest first; ties: row order).

    ``cell`` = (true, predicted) keeps one cell of the confusion matrix; ``top`` the first n.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    wrong: list[Misclassified] = []
    for row, (text, label, result) in enumerate(zip(texts, labels, predict(list(texts)) if texts else [])):
        if result["label"] == label:
            continue
        if cell is not None and (label, result["label"]) != tuple(cell):
            continue
        p_true = float(result["scores"].get(label, 0.0))
        wrong.append(Misclassified(row=row, line=None if lines is None else lines[row], text=text, true=label,
                                   predicted=result["label"], confidence=float(result["score"]),
                                   loss=-math.log(max(p_true, _FLOOR))))
    wrong.sort(key=lambda m: (-m.loss, m.row))
    return wrong if top is None else wrong[:top]


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
