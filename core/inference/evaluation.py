"""Scoring a classifier on labelled data: the same per-class report training prints."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from core.errors import UserError
from core.events import ClassReportComputed

if TYPE_CHECKING:
    from core.data.readers import Table
    from core.inference.loading import Classifier
    from core.inference.predictor import Progress


def label_ids(model_labels: Sequence[str], data_labels: Sequence[str], model: str, data: str) -> list[int]:
    """Each data label's class id in the model; UserError naming the labels the model lacks.

    A model whose labels are transformers' defaults (LABEL_0, LABEL_1, ...) also answers to the
    bare ids ("0", "1", ...), which is how data sets such as SST-2 write them.
    """
    by_name = {name: i for i, name in enumerate(model_labels)}
    if list(model_labels) == [f"LABEL_{i}" for i in range(len(model_labels))]:
        by_name.update({str(i): i for i in range(len(model_labels))})
    unknown = sorted({label for label in data_labels if label not in by_name})
    if unknown:
        shown = ", ".join(map(repr, unknown[:5])) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise UserError(f"{data} has labels the model {model} does not know: {shown} "
                        f"(its labels: {', '.join(map(repr, model_labels[:10]))}"
                        f"{', ...' if len(model_labels) > 10 else ''})",
                        "evaluate on data labelled like the model's training data, or choose the model trained on it")
    return [by_name[label] for label in data_labels]


def evaluate(classifier: "Classifier", table: "Table", progress: "Progress | None" = None,
             **predict_options) -> ClassReportComputed:
    """Accuracy, per-class precision/recall/F1/support and the confusion matrix on ``table``."""
    from core.inference.predictor import predict_proba
    from core.training.metrics import classification_report

    if not table.labels:
        raise UserError(f"{table.path} has no label column, so there is nothing to compare the predictions with",
                        "add a label column (or name it with --label-column); twb predict needs no labels")
    truth = label_ids(classifier.label_names, table.labels, classifier.name, table.path)
    predicted = predict_proba(classifier, table.texts, progress=progress, **predict_options).argmax(axis=1)
    report = classification_report(truth, predicted.tolist(), len(classifier.label_names))
    return ClassReportComputed(label_names=list(classifier.label_names), accuracy=report.accuracy,
                               precision=report.precision, recall=report.recall, f1=report.f1,
                               support=report.support, confusion=report.confusion)
