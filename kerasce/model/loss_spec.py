"""A compiled classification loss as plain data: which cross-entropy it is, with its own arguments,
the label format it reads, and its exact value in float64 (pure NumPy/SciPy: no Keras).

The probe (model/loss_path.py) compares the loss Keras computes with `exact_loss`: the same
loss, with the same `label_smoothing`, `axis`, focal `gamma`/`alpha` and reduction, computed
from the logits through log-softmax / log-sigmoid, never through a clipped probability.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, log_softmax, softmax

from kerasce.vocabulary import LabelFormat

SPARSE_CATEGORICAL = "sparse_categorical_crossentropy"
CATEGORICAL = "categorical_crossentropy"
BINARY = "binary_crossentropy"
CATEGORICAL_FOCAL = "categorical_focal_crossentropy"
BINARY_FOCAL = "binary_focal_crossentropy"
NEGATIVE_LOG_LIKELIHOOD = "negative_log_likelihood"  # kerasce's, on log-probabilities
NAIVE = "naive_crossentropy"  # kerasce's textbook -log(p), unclipped
FAMILIES = (SPARSE_CATEGORICAL, CATEGORICAL, BINARY, CATEGORICAL_FOCAL, BINARY_FOCAL)
KERASCE_FAMILIES = (NEGATIVE_LOG_LIKELIHOOD, NAIVE)
SPARSE_FAMILIES = (SPARSE_CATEGORICAL, NEGATIVE_LOG_LIKELIHOOD, NAIVE)
ONE_HOT_FAMILIES = (CATEGORICAL, CATEGORICAL_FOCAL)
SIGMOID_FAMILIES = (BINARY, BINARY_FOCAL)
# The Keras class of each family, as a user writes it in compile()
CLASS_NAMES = {
    SPARSE_CATEGORICAL: "SparseCategoricalCrossentropy",
    CATEGORICAL: "CategoricalCrossentropy",
    BINARY: "BinaryCrossentropy",
    CATEGORICAL_FOCAL: "CategoricalFocalCrossentropy",
    BINARY_FOCAL: "BinaryFocalCrossentropy",
}
DEFAULTS = {  # the Keras constructors' defaults, left out of `describe()`
    "label_smoothing": 0.0,
    "axis": -1,
    "gamma": 2.0,
    "alpha": 0.25,
    "apply_class_balancing": False,
    "ignore_class": None,
    "reduction": "sum_over_batch_size",
}
ARGUMENTS = {  # the arguments each family takes besides from_logits
    SPARSE_CATEGORICAL: ("ignore_class", "axis", "reduction"),
    CATEGORICAL: ("label_smoothing", "axis", "reduction"),
    BINARY: ("label_smoothing", "axis", "reduction"),
    CATEGORICAL_FOCAL: ("alpha", "gamma", "label_smoothing", "axis", "reduction"),
    BINARY_FOCAL: ("apply_class_balancing", "alpha", "gamma", "label_smoothing", "axis", "reduction"),
    NEGATIVE_LOG_LIKELIHOOD: ("reduction",),
    NAIVE: ("reduction",),
}


@dataclass(frozen=True)
class LossSpec:
    """One output's compiled loss. `family` None: not a cross-entropy the probe knows."""

    name: str  # as compiled: a class name (CategoricalCrossentropy) or a function/string spelling
    family: str | None
    from_logits: bool | None = None  # None: the loss takes no from_logits argument
    arguments: dict = field(default_factory=dict)  # the family's ARGUMENTS as compiled

    def argument(self, key: str):
        return self.arguments.get(key, DEFAULTS[key])

    def describe(self, **changes) -> str:
        """The loss as a constructor call with its non-default arguments, e.g.
        `CategoricalCrossentropy(label_smoothing=0.1)`; `changes` override arguments."""
        if self.family is None:
            return self.name
        values = {"from_logits": self.from_logits, **self.arguments, **changes}
        shown = [
            f"{key}={value!r}"
            for key, value in values.items()
            if value is not None and value != DEFAULTS.get(key, False)
        ]
        return f"{CLASS_NAMES.get(self.family, self.name)}({', '.join(shown)})"

    def label_format(self, units: int) -> LabelFormat | None:
        """The labels this loss reads for an output of `units` classes (None: unknown loss)."""
        if self.family in SPARSE_FAMILIES:
            return LabelFormat.SPARSE
        if self.family in ONE_HOT_FAMILIES:
            return LabelFormat.ONE_HOT
        if self.family in SIGMOID_FAMILIES:
            return LabelFormat.BINARY if units == 1 else LabelFormat.MULTI_HOT
        return None


def _class_axis_last(values, axis: int) -> np.ndarray:
    return np.moveaxis(np.asarray(values, dtype=np.float64), axis, -1)


def _smoothed(labels, smoothing: float, classes: int) -> np.ndarray:
    return labels * (1.0 - smoothing) + smoothing / classes


def _categorical(spec: LossSpec, logits, labels) -> np.ndarray:
    axis = spec.argument("axis") if "axis" in ARGUMENTS[spec.family] else -1
    logits = _class_axis_last(logits, axis)
    log_p = log_softmax(logits, axis=-1)
    if spec.family not in ONE_HOT_FAMILIES:  # sparse: the true class's -log p
        labels = np.asarray(labels).astype(int)
        return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]
    targets = _smoothed(_class_axis_last(labels, axis), spec.argument("label_smoothing"), logits.shape[-1])
    terms = -targets * log_p
    if spec.family == CATEGORICAL_FOCAL:
        alpha = np.asarray(spec.argument("alpha"), dtype=np.float64)
        terms = alpha * (1.0 - softmax(logits, axis=-1)) ** spec.argument("gamma") * terms
    return terms.sum(axis=-1)


def _binary(spec: LossSpec, logits, labels) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(labels, dtype=np.float64).reshape(logits.shape)
    smoothing = spec.argument("label_smoothing")
    targets = targets * (1.0 - smoothing) + 0.5 * smoothing
    # -[t log sigmoid(z) + (1 - t) log sigmoid(-z)], through softplus: exact at any logit
    terms = targets * np.logaddexp(0.0, -logits) + (1.0 - targets) * np.logaddexp(0.0, logits)
    if spec.family == BINARY_FOCAL:
        p = expit(logits)
        p_true = targets * p + (1.0 - targets) * (1.0 - p)
        terms = (1.0 - p_true) ** spec.argument("gamma") * terms
        if spec.argument("apply_class_balancing"):
            alpha = spec.argument("alpha")
            terms = (targets * alpha + (1.0 - targets) * (1.0 - alpha)) * terms
    return terms.mean(axis=spec.argument("axis"))


def exact_loss(spec: LossSpec, logits, labels) -> float:
    """The compiled loss of `labels` under `logits`, exact in float64, reduced as Keras reduces it
    (the mean over the per-sample values, or their sum for reduction="sum")."""
    if spec.family is None:
        raise ValueError(f"no reference for the loss {spec.name!r}: not a cross-entropy the probe knows")
    values = (
        _binary(spec, logits, labels)
        if spec.family in SIGMOID_FAMILIES
        else _categorical(spec, logits, labels)
    )
    return float(values.sum() if spec.argument("reduction") == "sum" else values.mean())


def probe_labels(spec: LossSpec, label_format: str, logits) -> np.ndarray:
    """Labels in `label_format` whose true class sits where the probe logits are most negative:
    the sample the clipped path cannot learn from (for multi-hot, every negative logit is a 1)."""
    axis = spec.argument("axis") if "axis" in ARGUMENTS.get(spec.family, ()) else -1
    logits = np.asarray(logits, dtype=np.float64)
    if label_format in (LabelFormat.BINARY, LabelFormat.MULTI_HOT):
        return (logits < 0).astype("float32")
    true_class = np.argmin(logits, axis=axis)
    if label_format == LabelFormat.SPARSE:
        return true_class.astype("int32")
    one_hot = np.eye(logits.shape[axis], dtype="float32")[true_class]
    return np.moveaxis(one_hot, -1, axis)
