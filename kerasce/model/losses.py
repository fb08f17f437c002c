"""Loss functions the formulations need beyond Keras' own, and the loss each formulation uses.

Each loss is a pure function of (labels, head output) plus a thin `keras.losses.Loss` subclass
that round-trips through `get_config()`, so a saved model loads back with its loss.
"""

import keras
from keras import ops

from kerasce.config.formulations import Formulation


def _true_class_values(labels, values):
    """values[i, labels[i]] for integer labels of shape (n,) or (n, 1)."""
    labels = ops.cast(ops.reshape(labels, (-1, 1)), "int32")
    return ops.take_along_axis(values, labels, axis=-1)[:, 0]


def negative_log_likelihood(labels, log_probabilities):
    """Per-sample -log p[y] from log-probabilities (PyTorch's NLLLoss): exact, no clipping needed."""
    return -_true_class_values(labels, log_probabilities)


def naive_softmax(logits):
    """Textbook exp(z) / sum(exp(z)) without subtracting max(z): overflows for z >~ 88.7 in float32."""
    exponentials = ops.exp(logits)
    return exponentials / ops.sum(exponentials, axis=-1, keepdims=True)


def naive_crossentropy(labels, probabilities):
    """Textbook per-sample -log p[y] without clipping: inf where p[y] underflows to 0."""
    return -ops.log(_true_class_values(labels, probabilities))


@keras.saving.register_keras_serializable(package="kerasce")
class NegativeLogLikelihood(keras.losses.Loss):
    """Mean negative log-likelihood of integer labels under log-probability outputs."""

    def __init__(self, name="negative_log_likelihood", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return negative_log_likelihood(y_true, y_pred)


@keras.saving.register_keras_serializable(package="kerasce")
class NaiveCrossentropy(keras.losses.Loss):
    """Mean textbook cross-entropy -log p[y] of integer labels, deliberately unclipped."""

    def __init__(self, name="naive_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return naive_crossentropy(y_true, y_pred)


def make_loss(formulation: Formulation) -> keras.losses.Loss:
    """The Keras loss object a formulation compiles with."""
    if formulation.loss == "sparse_categorical_crossentropy":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=formulation.from_logits)
    if formulation.loss == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(from_logits=formulation.from_logits)
    if formulation.loss == "negative_log_likelihood":
        return NegativeLogLikelihood()
    if formulation.loss == "naive_crossentropy":
        return NaiveCrossentropy()
    raise ValueError(f"formulation {formulation.name!r} names an unknown loss {formulation.loss!r}")
