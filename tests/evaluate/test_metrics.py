"""Evaluation functions against values computed by hand, including degenerate inputs."""

import math

import numpy as np
import pytest

from kerasce.evaluate.metrics import (
    average_precision,
    evaluate_predictions,
    expected_calibration_error,
    pr_curve_table,
    reliability_table,
)

# Binary: scores for class 1 of four samples with labels 1, 0, 1, 0.
BINARY_LABELS = np.array([1, 0, 1, 0])
BINARY_P1 = np.array([0.9, 0.6, 0.4, 0.1])


def binary(p1):
    return np.stack([1 - p1, p1], axis=1)


def test_binary_metrics_by_hand():
    results, notes = evaluate_predictions(BINARY_LABELS, binary(BINARY_P1), ("neg", "pos"))
    # ranked 0.9 (pos), 0.6 (neg), 0.4 (pos), 0.1: AP = (1/1 + 2/3) / 2
    assert results["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    # threshold 0.5 predicts 0.9 and 0.6 positive: TP 1, FP 1, FN 1
    assert results["precision_at_0.5"] == pytest.approx(0.5)
    assert results["recall_at_0.5"] == pytest.approx(0.5)
    assert results["f1_at_0.5"] == pytest.approx(0.5)
    # threshold 0.4: TP 2, FP 1 -> P 2/3, R 1, F1 0.8 (the best); precision at recall >= 0.9 is 2/3
    assert results["best_f1"] == pytest.approx(0.8)
    assert results["best_f1_threshold"] == pytest.approx(0.4)
    assert results["precision_at_recall_0.9"] == pytest.approx(2 / 3)
    # of the 4 positive-negative pairs, 3 are ordered correctly
    assert results["roc_auc"] == pytest.approx(0.75)
    assert results["accuracy"] == pytest.approx(0.5)
    assert results["brier"] == pytest.approx(np.mean((BINARY_P1 - BINARY_LABELS) ** 2))
    assert results["nll"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.4, 0.9])))
    assert notes == []


def test_multiclass_metrics_by_hand():
    labels = np.array([0, 1, 2, 2])
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.5, 0.1, 0.4]])
    results, notes = evaluate_predictions(labels, probabilities, ("a", "b", "c"))
    assert results["accuracy"] == pytest.approx(0.75)
    assert results["average_precision.a"] == pytest.approx(1.0)
    assert results["average_precision.b"] == pytest.approx(1.0)
    assert results["average_precision.c"] == pytest.approx(1.0)  # 0.5 and 0.4 are the two top c-scores
    assert results["average_precision_macro"] == pytest.approx(1.0)
    brier = np.mean(np.sum((probabilities - np.eye(3)[labels]) ** 2, axis=1))
    assert results["brier"] == pytest.approx(brier)
    assert results["nll"] == pytest.approx(-np.mean(np.log([0.7, 0.8, 0.5, 0.4])))
    assert "roc_auc" in results and notes == []


def test_absent_class_is_skipped_and_said():
    labels = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1]])
    results, notes = evaluate_predictions(labels, probabilities, ("a", "b", "c"))
    assert "average_precision.c" not in results and "roc_auc" not in results
    assert results["average_precision_macro"] == pytest.approx(1.0)
    assert any("c: absent" in note for note in notes)


def test_one_class_binary_and_no_positive_predictions_are_notes_not_crashes():
    results, notes = evaluate_predictions(np.array([1, 1, 1]), binary(np.array([0.9, 0.8, 0.7])), ("n", "p"))
    assert "average_precision" not in results and "only one class" in notes[0]
    results, notes = evaluate_predictions(BINARY_LABELS, binary(np.array([0.4, 0.3, 0.2, 0.1])), ("n", "p"))
    assert "precision_at_0.5" not in results and results["recall_at_0.5"] == 0.0
    assert any("no test sample predicted positive" in note for note in notes)


def test_non_finite_rows_count_as_wrong_for_accuracy_and_are_left_out_of_the_rest():
    # the second prediction is NaN; the four others are right
    labels = np.array([0, 1, 0, 1, 1])
    probabilities = binary(np.array([0.1, np.nan, 0.2, 0.9, 0.8]))
    results, notes = evaluate_predictions(labels, probabilities, ("n", "p"))
    assert results["nonfinite_prediction_rate"] == pytest.approx(0.2)
    assert results["accuracy"] == pytest.approx(0.8)  # 4 right of 5; the NaN row is wrong
    finite = [0, 2, 3, 4]
    expected, _ = evaluate_predictions(labels[finite], probabilities[finite], ("n", "p"))
    for key in ("average_precision", "roc_auc", "ece", "brier", "best_f1"):
        assert results[key] == expected[key]
    assert "non-finite predictions for 1 of 5" in notes[0] and "finite rows" in notes[0]
    assert len(pr_curve_table(labels, probabilities, ("n", "p"))) == len(
        pr_curve_table(labels[finite], probabilities[finite], ("n", "p"))
    )
    assert reliability_table(labels, probabilities)["count"].sum() == 4
    assert math.isnan(average_precision(labels, probabilities))  # the per-epoch AP stays strict


def test_no_finite_prediction_leaves_accuracy_zero_and_says_so():
    probabilities = binary(np.full(4, np.nan))
    results, notes = evaluate_predictions(BINARY_LABELS, probabilities, ("n", "p"))
    assert results == {"accuracy": 0.0, "nonfinite_prediction_rate": 1.0}
    assert "no finite prediction" in notes[-1]


def test_finite_predictions_report_a_zero_nonfinite_rate():
    results, notes = evaluate_predictions(BINARY_LABELS, binary(BINARY_P1), ("n", "p"))
    assert results["nonfinite_prediction_rate"] == 0.0 and not any("non-finite" in n for n in notes)


def test_reliability_table_and_ece_by_hand():
    # confidences 0.95 (right), 0.95 (wrong), 0.55 (right), 0.55 (right): bins 14 and 8
    labels = np.array([0, 1, 0, 1])
    probabilities = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.45, 0.55]])
    table = reliability_table(labels, probabilities)
    assert len(table) == 15 and table["count"].sum() == 4
    assert table.loc[14, "accuracy"] == 0.5 and table.loc[14, "mean_confidence"] == pytest.approx(0.95)
    assert table.loc[8, "accuracy"] == 1.0
    # ECE = 0.5 * |0.5 - 0.95| + 0.5 * |1.0 - 0.55|
    assert expected_calibration_error(table) == pytest.approx(0.45)
    assert table.loc[0, "count"] == 0 and math.isnan(table.loc[0, "accuracy"])


def test_pr_curve_table_is_queryable_data():
    curve = pr_curve_table(BINARY_LABELS, binary(BINARY_P1), ("neg", "pos"))
    assert list(curve.columns) == ["class", "threshold", "precision", "recall"]
    assert set(curve["class"]) == {"pos"}
    assert curve["threshold"].isna().sum() == 1  # only the recall-0 end point has no threshold
    multi = pr_curve_table(
        np.array([0, 1, 1]), np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1]]), ("a", "b", "c")
    )
    assert set(multi["class"]) == {"a", "b"}  # c is absent from the labels


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_fast_average_precision_equals_scikit_learn_ties_included(n_classes):
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(n_classes)
    labels = rng.integers(0, n_classes, size=500)
    probabilities = np.round(rng.dirichlet(np.ones(n_classes), size=500), 2)  # rounding makes ties
    classes = [1] if n_classes == 2 else range(n_classes)
    expected = np.mean([average_precision_score(labels == k, probabilities[:, k]) for k in classes])
    assert average_precision(labels, probabilities) == pytest.approx(expected, rel=1e-12)
