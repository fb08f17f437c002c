"""--fix's repair in-process (no re-audit, no training), on the test process's backend (`make test`
runs this file on TensorFlow and on JAX): the repaired model gives the original's probabilities
behind its activation, keeps the loss's other arguments, converts threshold metrics and leaves
outputs that need no repair alone."""

import keras
import numpy as np
import pytest
from real_models import auxiliary_heads, categorical_focal_logits, multi_label_sigmoid, smoothed_softmax

from kerasce.diagnose.loading import AuditError
from kerasce.diagnose.repair import probability_differences, random_features, repair, with_probabilities
from kerasce.examples.audit_models import cnn_separate_softmax
from kerasce.model.heads import find_heads

pytestmark = pytest.mark.backend


def repaired(model):
    heads, _ = find_heads(model)
    result = repair(model, heads)
    return result, with_probabilities(result.model, result.activations)


def assert_same_probabilities(model, probabilities):
    features = random_features(model, n=16)
    before, after = model.predict(features, verbose=0), probabilities.predict(features, verbose=0)
    keras.tree.map_structure(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-6), before, after)


def test_a_separate_softmax_layer_becomes_linear_and_the_loss_keeps_its_arguments():
    model = cnn_separate_softmax()
    result, probabilities = repaired(model)
    assert result.model.get_layer("probabilities").activation.__name__ == "linear"
    assert result.model.loss.get_config()["from_logits"] is True
    assert_same_probabilities(model, probabilities)
    smoothed, _ = repaired(smoothed_softmax())
    assert smoothed.model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)


def test_threshold_metrics_read_logits():
    result, probabilities = repaired(multi_label_sigmoid())
    assert any("BinaryAccuracy(threshold=0.0)" in change for change in result.changes)
    metric = result.model.get_compile_config()["metrics"][0]
    assert metric["config"]["threshold"] == 0.0


def test_only_the_outputs_that_need_it_are_repaired():
    model = auxiliary_heads()
    result, probabilities = repaired(model)
    assert result.activations == {"main": "softmax"}
    losses = result.model.loss
    assert set(losses) == {"main", "aux", "size"} and losses["main"].get_config()["from_logits"] is True
    assert result.model.get_compile_config()["loss_weights"] == {"main": 1.0, "aux": 0.3, "size": 0.1}
    assert_same_probabilities(model, probabilities)


def test_a_focal_loss_is_refused():
    with pytest.raises(AuditError, match="CategoricalFocalCrossentropy clips"):
        repaired(categorical_focal_logits())


def test_logits_read_as_probabilities_are_repaired_against_their_activation():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(3, name="scores")(inputs))
    model.compile(loss="sparse_categorical_crossentropy")  # the logits read as probabilities
    heads, _ = find_heads(model)
    result = repair(model, heads)
    probabilities = with_probabilities(result.model, result.activations)
    features = random_features(model, n=16)
    args = (model, probabilities, result.activations, features)
    assert probability_differences(*args, raw={"scores"})["scores"] < 1e-6
    assert probability_differences(*args)["scores"] > 0.1  # the raw logits are no probabilities


def test_log_probabilities_read_as_probabilities_are_repaired():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="log_softmax", name="log_p")(inputs))
    model.compile(loss="sparse_categorical_crossentropy")
    result, probabilities = repaired(model)
    assert result.activations == {"log_p": "log_softmax"}
    assert result.model.loss.get_config()["from_logits"] is True
    assert_same_probabilities(model, probabilities)
