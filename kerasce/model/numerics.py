"""Reference numerics in float64: the exact cross-entropy, class probabilities from any head
output, and the share of samples in the clipped dead zone (docs/numerics.md explains each).
Pure NumPy/SciPy: no Keras."""

import math

import numpy as np
from scipy.special import expit, log_softmax, softmax

EPSILON = 1e-7  # keras.config.epsilon(): probabilities are clipped to [EPSILON, 1 - EPSILON]
CLIP_CEILING = -math.log(EPSILON)  # 16.118: the loss a dead-zone sample contributes, with zero gradient


def reference_crossentropy(logits, labels) -> np.ndarray:
    """Per-sample cross-entropy in float64 via log-softmax; a single column is a sigmoid logit."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1).astype(int)
    if logits.shape[-1] == 1:
        logits = np.concatenate([np.zeros_like(logits), logits], axis=-1)
    return -log_softmax(logits, axis=-1)[np.arange(len(labels)), labels]


def to_probabilities(outputs, output_kind: str) -> np.ndarray:
    """Class probabilities (n, C) in float64 from a head's outputs of the given kind.

    Probabilities stay as the model produced them (a float16 softmax that rounded to 0 stays 0),
    so the clipped dead zone is measured as the loss sees it.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if output_kind == "logits":
        outputs = expit(outputs) if outputs.shape[-1] == 1 else softmax(outputs, axis=-1)
    elif output_kind == "log_probabilities":
        outputs = np.exp(outputs)
    elif output_kind != "probabilities":
        raise ValueError(f"unknown output kind {output_kind!r}")
    if outputs.shape[-1] == 1:
        return np.concatenate([1.0 - outputs, outputs], axis=-1)
    # A float16 softmax sums to 1 only within ~1e-3; metrics that need a distribution refuse that.
    # Renormalizing keeps every zero a zero, so the dead zone is unchanged.
    with np.errstate(invalid="ignore", divide="ignore"):
        return outputs / outputs.sum(axis=-1, keepdims=True)


def clip_saturation_rate(probabilities, labels, epsilon: float = EPSILON) -> float:
    """Fraction of samples whose true-class probability is below `epsilon`: on the probability
    path they contribute the constant -log(epsilon) and zero gradient. NaN for no samples."""
    labels = np.asarray(labels).reshape(-1).astype(int)
    if len(labels) == 0:
        return float("nan")
    true_class = np.asarray(probabilities)[np.arange(len(labels)), labels]
    return float(np.mean(true_class < epsilon))


def dead_zone_rate(outputs, labels, output_kind: str, label_format: str) -> float:
    """Share of label entries in the clipped dead zone: the probability the head gives the label
    is below EPSILON. Sparse, one-hot (the class with the largest label weight) and binary labels
    have one entry per sample; multi-hot labels one per sample and unit, each its own binary
    problem. NaN for no entries."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if label_format in ("binary", "multi_hot"):
        values = outputs.reshape(-1)
        positive = np.asarray(labels, dtype=np.float64).reshape(-1) > 0.5
        if output_kind == "logits":  # in log space: a logit of -800 is a probability of 0, not NaN
            with np.errstate(over="ignore"):
                log_p = -np.logaddexp(0.0, np.where(positive, -values, values))
            return float(np.mean(log_p < math.log(EPSILON))) if len(values) else float("nan")
        p = np.exp(values) if output_kind == "log_probabilities" else values
        p_label = np.where(positive, p, 1.0 - p)
        return float(np.mean(p_label < EPSILON)) if len(values) else float("nan")
    classes = outputs.shape[-1]
    probabilities = to_probabilities(outputs.reshape(-1, classes), output_kind)
    labels = np.asarray(labels)
    if label_format == "one_hot":
        labels = labels.reshape(-1, classes).argmax(axis=-1)
    return clip_saturation_rate(probabilities, labels.reshape(-1))
