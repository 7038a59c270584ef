import math

import pytest

from core.training.metrics import accuracy, classification_report, confusion_matrix


def test_confusion_matrix_rows_are_truth_columns_predictions():
    cm = confusion_matrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], num_classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_report_matches_hand_computed_values():
    # class 0: tp=1, predicted 2, support 2; class 1: tp=2, predicted 3, support 2; class 2: tp 0
    report = classification_report([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], num_classes=3)
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.precision == pytest.approx([1 / 2, 2 / 3, 0.0])
    assert report.recall == pytest.approx([1 / 2, 1.0, 0.0])
    assert report.f1[0] == pytest.approx(0.5)
    assert report.f1[1] == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))
    assert report.support == [2, 2, 1]


def test_class_never_predicted_or_absent_scores_zero_not_nan():
    report = classification_report([0, 0], [0, 0], num_classes=2)
    assert report.precision == [1.0, 0.0]
    assert report.recall == [1.0, 0.0]
    assert not any(math.isnan(x) for x in report.f1)
    assert report.confusion == [[2, 0], [0, 0]]


def test_out_of_range_and_mismatched_inputs_are_rejected():
    with pytest.raises(ValueError):
        confusion_matrix([0, 3], [0, 1], num_classes=2)
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0], num_classes=2)


def test_accuracy_and_empty_input():
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    assert classification_report([], [], num_classes=2).accuracy == 0.0
