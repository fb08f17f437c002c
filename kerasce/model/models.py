"""Models that differ only in how the head and the loss are wired.

The head is built the way users write it (the activation inside the final Dense, under the
model's dtype policy), so that Keras' silent logit recovery behaves exactly as it does for them.
"""

import keras
import numpy as np
from keras import ops

from kerasce.config.fields import OPTIMIZERS, PRECISIONS
from kerasce.config.formulations import BINARY, Formulation, check_fits
from kerasce.errors import ConfigError, choices_message
from kerasce.model.body import apply_body
from kerasce.model.losses import make_loss, naive_softmax

HEAD_ACTIVATIONS = {
    None: None,
    "softmax": "softmax",
    "sigmoid": "sigmoid",
    "log_softmax": "log_softmax",
    "naive_softmax": naive_softmax,
}


@keras.saving.register_keras_serializable(package="kerasce")
class ScaledDense(keras.layers.Dense):
    """Dense whose pre-activation outputs (the logits) are multiplied by `logit_scale`.

    The activation still runs through `keras.activations`, which tags its output with the
    logits, so Keras' logit recovery sees the same tensor as after a plain Dense(activation=...).
    """

    def __init__(self, units, logit_scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.logit_scale = float(logit_scale)

    def call(self, inputs):
        logits = ops.add(ops.matmul(inputs, self.kernel), self.bias)
        if self.logit_scale != 1.0:
            logits = ops.multiply(logits, self.logit_scale)
        return self.activation(logits)

    def get_config(self):
        return {**super().get_config(), "logit_scale": self.logit_scale}


@keras.saving.register_keras_serializable(package="kerasce")
class CutLogitLink(keras.layers.Layer):
    """Passes probabilities through one op (x * 1) so the loss cannot see the softmax/sigmoid
    that made them: Keras then has no logits to recover and must clip the probabilities."""

    def call(self, inputs):
        return ops.multiply(inputs, ops.cast(1.0, inputs.dtype))


def build_model(
    formulation: Formulation,
    n_features,
    n_classes: int,
    hidden_units=(64,),
    precision: str = "float32",
    float32_head: bool = False,
    logit_scale: float = 1.0,
    seed: int = 0,
    body: str = "",
) -> keras.Model:
    """An MLP (ReLU hidden layers), or the user's `body` (see model/body.py), with the
    formulation's head, layer name `head`. `n_features`: an int, or one sample's shape.

    `precision` is applied to this model's layers only, never as the global policy, so it
    cannot leak into the next model (a body's layers are built while it is the global policy,
    which is restored after). `float32_head` keeps the head in float32 under a mixed
    policy: the fix the TensorFlow mixed-precision guide recommends.
    """
    if precision not in PRECISIONS:
        raise ConfigError(choices_message("precision", precision, PRECISIONS))
    check_fits(formulation, n_classes)
    layer_seeds = iter(np.random.default_rng(seed).integers(0, 2**31 - 1, size=len(hidden_units) + 1))

    def initializer():
        return keras.initializers.GlorotUniform(seed=int(next(layer_seeds)))

    input_shape = (n_features,) if isinstance(n_features, int) else tuple(n_features)
    inputs = keras.Input(input_shape, name="features")
    hidden = _body_features(body, inputs, precision) if body else inputs
    for index, units in enumerate(() if body else hidden_units):
        hidden = keras.layers.Dense(
            units,
            activation="relu",
            kernel_initializer=initializer(),
            dtype=precision,
            name=f"hidden_{index}",
        )(hidden)
    head_dtype = "float32" if float32_head else precision
    outputs = ScaledDense(
        formulation.head_units(n_classes),
        logit_scale=logit_scale,
        activation=HEAD_ACTIVATIONS[formulation.activation],
        kernel_initializer=initializer(),
        dtype=head_dtype,
        name="head",
    )(hidden)
    if formulation.cut_logit_link:
        outputs = CutLogitLink(dtype=head_dtype, name="cut_logit_link")(outputs)
    return keras.Model(inputs, outputs, name=formulation.name)


def _body_features(body: str, inputs, precision: str):
    """The user's body on `inputs`, its layers built under `precision`."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        return apply_body(body, inputs)
    finally:
        keras.config.set_dtype_policy(previous)


def accuracy_metric(formulation: Formulation) -> keras.metrics.Metric:
    """Accuracy read correctly off the head's output (a logit's threshold is 0, not 0.5)."""
    if formulation.task == BINARY:
        threshold = 0.0 if formulation.output == "logits" else 0.5
        return keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold)
    return keras.metrics.SparseCategoricalAccuracy(name="accuracy")


def compile_model(
    model: keras.Model,
    formulation: Formulation,
    precision: str = "float32",
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    steps_per_execution: int = 1,
) -> keras.Model:
    """Compile with the formulation's loss; mixed_float16 gets dynamic loss scaling.
    `steps_per_execution`: how many batches each compiled call of fit runs (the same steps).

    Keras wraps the optimizer in a LossScaleOptimizer only when the *global* policy is
    mixed_float16; we never set the global policy, so we wrap it here.
    """
    if optimizer not in OPTIMIZERS:
        raise ConfigError(choices_message("train.optimizer", optimizer, OPTIMIZERS))
    chosen = getattr(keras.optimizers, OPTIMIZERS[optimizer])(learning_rate=learning_rate)
    if precision == "mixed_float16":
        chosen = keras.optimizers.LossScaleOptimizer(chosen)
    model.compile(
        optimizer=chosen,
        loss=make_loss(formulation),
        metrics=[accuracy_metric(formulation)],
        steps_per_execution=steps_per_execution,
    )
    return model
