"""kerasce.instrument: a user's Sequential or functional model, the same layers, the counting step
(on the test process's backend: `make test` runs this file on TensorFlow and on JAX)."""

import keras
import numpy as np
import pytest

import kerasce
from kerasce.training.user_model import InstrumentError

pytestmark = pytest.mark.backend

X = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
Y = np.arange(64) % 3


def sequential():
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def functional():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(8, activation="relu")(inputs)))


@pytest.mark.slow
@pytest.mark.parametrize(
    "build, loss, kind",
    [
        (sequential, "sparse_categorical_crossentropy", "probabilities"),
        (functional, keras.losses.SparseCategoricalCrossentropy(from_logits=True), "logits"),
    ],
)
def test_the_same_layers_train_with_the_counting_step(build, loss, kind):
    model = build()
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    instrumented = kerasce.instrument(model)
    assert instrumented.monitor.output_kind == kind and instrumented.loss is not None
    instrumented.fit(X, Y, batch_size=32, epochs=1, verbose=0)
    counts, _ = instrumented.monitor.read()
    assert counts["finite_steps"] == 2 and counts["seen_samples"] == 64 and counts["grad_norm_sum"] > 0
    for mine, theirs in zip(model.get_weights(), instrumented.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # one set of layers: the user's model trained


def test_an_uncompiled_model_gets_its_monitor_when_compiled():
    instrumented = kerasce.instrument(sequential())
    assert instrumented.monitor is None
    instrumented.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert instrumented.monitor.output_kind == "probabilities"


def test_a_model_without_an_input_is_refused():
    with pytest.raises(InstrumentError, match="keras.Input"):
        kerasce.instrument(keras.Sequential([keras.layers.Dense(3)]))
