"""Reference numerics in float64 and the clipped dead zone (docs/numerics.md, "The clipped dead zone")."""

import keras
import numpy as np

from kerasce.model.numerics import clip_saturation_rate, to_probabilities


def test_clip_saturation_rate_hand_computed():
    probabilities = np.array([[1e-9, 1.0 - 1e-9], [0.5, 0.5], [1e-8, 1.0 - 1e-8], [0.0, 1.0]])
    labels = np.array([0, 0, 1, 0])
    # true-class probabilities: 1e-9 (dead), 0.5, ~1 (alive), 0.0 (dead) -> 2 of 4
    assert clip_saturation_rate(probabilities, labels) == 0.5
    assert clip_saturation_rate(probabilities[1:2], labels[1:2]) == 0.0
    assert np.isnan(clip_saturation_rate(np.zeros((0, 2)), np.zeros(0)))


def test_to_probabilities_from_each_output_kind():
    logits = np.array([[2.0, 0.0, -1.0]])
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(to_probabilities(logits, "logits"), expected)
    np.testing.assert_allclose(to_probabilities(np.log(expected), "log_probabilities"), expected)
    np.testing.assert_allclose(to_probabilities(expected, "probabilities"), expected)
    np.testing.assert_allclose(to_probabilities(np.array([[0.0]]), "logits"), [[0.5, 0.5]])
    np.testing.assert_allclose(to_probabilities(np.array([[0.9]]), "probabilities"), [[0.1, 0.9]])


def test_float16_softmax_dead_zone_is_measured_as_the_loss_sees_it():
    """A float16 softmax rounds a true-class probability of ~1e-9 to exactly 0."""
    probabilities = keras.ops.convert_to_numpy(
        keras.ops.softmax(keras.ops.convert_to_tensor([[0.0, 21.0]], dtype="float16"))
    )
    assert probabilities[0, 0] == 0
    assert clip_saturation_rate(to_probabilities(probabilities, "probabilities"), [0]) == 1.0
