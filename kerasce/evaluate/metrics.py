"""Test-set evaluation: precision-recall and calibration from labels and class probabilities.

Pure NumPy / scikit-learn: arrays in, plain dicts and DataFrames out. A metric that is undefined
(a class absent from the split) is left out and explained in `notes`. Samples whose predictions are
not finite do not take the whole evaluation down with them: metrics are computed on the finite rows,
accuracy counts the others as wrong, and their share is reported as `nonfinite_prediction_rate`.
"""

import numpy as np
import pandas as pd
from sklearn import metrics

CALIBRATION_BINS = 15


def average_precision(labels, probabilities) -> float:
    """AP of the positive class for two classes; the macro mean over present classes otherwise
    (over units with a positive label, for (n, C) multi-hot labels).
    NaN when it is undefined (non-finite probabilities, or no class present).

    Runs every epoch, so it is the vectorized form of scikit-learn's average_precision_score
    (equal to it, ties included: tests/run/test_evaluation.py), without its input checks.
    """
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    if not np.isfinite(probabilities).all():
        return float("nan")
    if labels.ndim == 2:  # multi-hot: each unit its own binary problem, the macro mean over units
        scores = [
            _binary_average_precision(labels[:, k] > 0.5, probabilities[:, k]) for k in range(labels.shape[1])
        ]
        return float(
            np.mean([s for k, s in enumerate(scores) if (labels[:, k] > 0.5).any()] or [float("nan")])
        )
    classes = [1] if probabilities.shape[1] == 2 else range(probabilities.shape[1])
    scores = [
        _binary_average_precision(labels == k, probabilities[:, k]) for k in classes if (labels == k).any()
    ]
    return float(np.mean(scores)) if scores else float("nan")


def _binary_average_precision(positive, score) -> float:
    """sum over distinct thresholds of (recall step) x precision, as scikit-learn defines AP."""
    order = np.argsort(-score, kind="mergesort")
    score, positive = score[order], positive[order]
    last_of_tie = np.r_[np.diff(score) != 0, True]
    true_positives = np.cumsum(positive)[last_of_tie]
    predicted = np.flatnonzero(last_of_tie) + 1
    recall_steps = np.diff(np.r_[0, true_positives]) / true_positives[-1]
    return float(np.sum(recall_steps * true_positives / predicted))


def evaluate_predictions(labels, probabilities, class_names) -> tuple[dict, list[str]]:
    """All test metrics for (n,) integer labels and (n, C) probabilities: (metrics, notes)."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities, dtype=np.float64)
    finite = finite_rows(probabilities)
    correct = (probabilities.argmax(axis=1) == labels) & finite
    results = {"accuracy": float(correct.mean()), "nonfinite_prediction_rate": float(1 - finite.mean())}
    notes = []
    if not finite.all():
        notes.append(
            f"non-finite predictions for {(~finite).sum()} of {len(labels)} samples: accuracy counts them "
            "as wrong; every other test metric is computed on the finite rows"
        )
        if not finite.any():
            return results, notes + ["every test metric but accuracy: no finite prediction"]
        labels, probabilities = labels[finite], probabilities[finite]
    if probabilities.shape[1] == 2:
        results.update(_binary_metrics(labels, probabilities[:, 1], notes))
    else:
        results.update(_multiclass_metrics(labels, probabilities, class_names, notes))
    results.update(_calibration_metrics(labels, probabilities))
    return results, notes


def finite_rows(probabilities) -> np.ndarray:
    """Which samples have a finite prediction for every class."""
    return np.isfinite(np.asarray(probabilities, dtype=np.float64)).all(axis=1)


def _binary_metrics(labels, positive_probability, notes) -> dict:
    if labels.all() or not labels.any():
        notes.append("binary precision-recall metrics: only one class in the test split")
        return {}
    predicted = positive_probability >= 0.5
    precision, recall, thresholds = metrics.precision_recall_curve(labels, positive_probability)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    results = {
        "average_precision": float(metrics.average_precision_score(labels, positive_probability)),
        "recall_at_0.5": float(metrics.recall_score(labels, predicted)),
        "f1_at_0.5": float(metrics.f1_score(labels, predicted, zero_division=0.0)),
        "best_f1": float(f1[best]),
        "best_f1_threshold": float(thresholds[best]),
        "precision_at_recall_0.9": float(precision[recall >= 0.9].max()),
        "roc_auc": float(metrics.roc_auc_score(labels, positive_probability)),
    }
    if predicted.any():
        results["precision_at_0.5"] = float(metrics.precision_score(labels, predicted))
    else:
        notes.append("precision_at_0.5: no test sample predicted positive at threshold 0.5")
    return results


def _multiclass_metrics(labels, probabilities, class_names, notes) -> dict:
    n_classes = probabilities.shape[1]
    present = [k for k in range(n_classes) if (labels == k).any()]
    absent = [class_names[k] for k in range(n_classes) if k not in present]
    results = {
        f"average_precision.{metric_safe(class_names[k])}": float(
            metrics.average_precision_score(labels == k, probabilities[:, k])
        )
        for k in present
    }
    results["average_precision_macro"] = float(np.mean(list(results.values())))
    one_hot = np.eye(n_classes)[labels]
    results["average_precision_micro"] = float(
        metrics.average_precision_score(one_hot, probabilities, average="micro")
    )
    if absent:
        notes.append(
            f"average_precision for classes {', '.join(absent)}: absent from the test split "
            "(macro averages the present classes); roc_auc: undefined"
        )
    else:
        results["roc_auc"] = float(metrics.roc_auc_score(labels, probabilities, multi_class="ovr"))
    return results


def _calibration_metrics(labels, probabilities) -> dict:
    n_classes = probabilities.shape[1]
    if n_classes == 2:
        brier = metrics.brier_score_loss(labels, probabilities[:, 1])
    else:
        brier = metrics.brier_score_loss(labels, probabilities, labels=list(range(n_classes)))
    return {
        "ece": expected_calibration_error(reliability_table(labels, probabilities)),
        "brier": float(brier),
        "nll": float(metrics.log_loss(labels, probabilities, labels=list(range(n_classes)))),
    }


def reliability_table(labels, probabilities, n_bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Top-label calibration in equal-width confidence bins: one row per bin, empty bins included.
    Samples with a non-finite prediction are left out."""
    probabilities, labels = np.asarray(probabilities, dtype=np.float64), np.asarray(labels)
    finite = finite_rows(probabilities)  # the non-finite rows are reported beside, not binned
    probabilities, labels = probabilities[finite], labels[finite]
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    rows = []
    for index in range(n_bins):
        members = bins == index
        rows.append(
            {
                "bin": index,
                "lower": index / n_bins,
                "upper": (index + 1) / n_bins,
                "count": int(members.sum()),
                "mean_confidence": float(confidence[members].mean()) if members.any() else np.nan,
                "accuracy": float(correct[members].mean()) if members.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Sum over bins of (share of samples) x |accuracy - mean confidence|."""
    filled = table[table["count"] > 0]
    weights = filled["count"] / filled["count"].sum()
    return float((weights * (filled["accuracy"] - filled["mean_confidence"]).abs()).sum())


def pr_curve_table(labels, probabilities, class_names) -> pd.DataFrame:
    """Precision-recall curves as data: (class, threshold, precision, recall) rows. Two-class
    tasks give the positive class only; classes absent from the labels, and samples with a
    non-finite prediction, are left out."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities, dtype=np.float64)
    finite = finite_rows(probabilities)
    labels, probabilities = labels[finite], probabilities[finite]
    classes = [1] if probabilities.shape[1] == 2 else range(probabilities.shape[1])
    frames = []
    for k in classes:
        if not (labels == k).any():
            continue
        precision, recall, thresholds = metrics.precision_recall_curve(labels == k, probabilities[:, k])
        frames.append(
            pd.DataFrame(
                {
                    "class": class_names[k],
                    "threshold": np.append(thresholds, np.nan),  # the last point (recall 0) has no threshold
                    "precision": precision,
                    "recall": recall,
                }
            )
        )
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["class", "threshold", "precision", "recall"])
    )


def metric_safe(name: str) -> str:
    """A class name usable inside an MLflow metric key."""
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in str(name))
