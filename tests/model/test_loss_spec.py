"""A compiled loss's exact value in float64, with its own arguments, hand-computed on the probe's
logits (the true class at -100, another at +100)."""

import math

import numpy as np
import pytest

from kerasce.model.loss_spec import LossSpec, exact_loss, probe_labels
from kerasce.vocabulary import LabelFormat

PROBE = np.array([[100.0, -100.0] + [0.0] * 8])  # ten classes


def spec(family, **arguments):
    return LossSpec(family, family, from_logits=True, arguments=arguments)


def test_sparse_and_one_hot_labels_give_the_same_exact_loss():
    sparse = probe_labels(spec("sparse_categorical_crossentropy"), LabelFormat.SPARSE, PROBE)
    one_hot = probe_labels(spec("categorical_crossentropy"), LabelFormat.ONE_HOT, PROBE)
    assert sparse.tolist() == [1] and one_hot.argmax(axis=-1).tolist() == [1]
    for family, labels in (
        ("sparse_categorical_crossentropy", sparse),
        ("categorical_crossentropy", one_hot),
    ):
        assert exact_loss(spec(family), PROBE, labels) == pytest.approx(200.0)


def test_label_smoothing_moves_the_exact_loss():
    # targets 0.9 + 0.01 on the true class, 0.01 elsewhere: 0.91 * 200 + 8 * 0.01 * 100 + 0.01 * 0
    one_hot = probe_labels(spec("categorical_crossentropy"), LabelFormat.ONE_HOT, PROBE)
    smoothed = exact_loss(spec("categorical_crossentropy", label_smoothing=0.1), PROBE, one_hot)
    assert smoothed == pytest.approx(190.0)


def test_multi_hot_labels_are_one_binary_problem_per_unit():
    logits = np.array([[100.0, -100.0, 0.0, 0.0]])
    labels = probe_labels(spec("binary_crossentropy"), LabelFormat.MULTI_HOT, logits)
    assert labels.tolist() == [[0.0, 1.0, 0.0, 0.0]]
    # 100 for each of the two probe units, log 2 for the two at logit 0, averaged over units
    assert exact_loss(spec("binary_crossentropy"), logits, labels) == pytest.approx(
        (200 + 2 * math.log(2)) / 4
    )


def test_focal_losses_keep_their_gamma_and_alpha():
    one_hot = probe_labels(spec("categorical_focal_crossentropy"), LabelFormat.ONE_HOT, PROBE)
    # the true class has p ~ e^-200: (1 - p)^gamma = 1, so alpha * 200
    assert exact_loss(spec("categorical_focal_crossentropy", alpha=0.5), PROBE, one_hot) == pytest.approx(
        100.0
    )
    binary = spec("binary_focal_crossentropy", apply_class_balancing=True, alpha=0.25, gamma=2.0)
    assert exact_loss(binary, np.array([[-100.0]]), np.array([[1.0]])) == pytest.approx(25.0)
    # a confident right answer: the focal factor (1 - p_t)^2 makes it vanish
    assert exact_loss(binary, np.array([[100.0]]), np.array([[1.0]])) < 1e-80


def test_sum_reduction_and_the_class_axis():
    logits = np.repeat(PROBE, 3, axis=0)
    labels = np.ones(3, dtype=int)
    assert exact_loss(
        spec("sparse_categorical_crossentropy", reduction="sum"), logits, labels
    ) == pytest.approx(600)
    channels_first = PROBE.T[None]  # (1, 10, 1): classes on axis 1
    one_hot = probe_labels(spec("categorical_crossentropy", axis=1), LabelFormat.ONE_HOT, channels_first)
    assert one_hot.shape == (1, 10, 1) and one_hot[0, 1, 0] == 1
    assert exact_loss(spec("categorical_crossentropy", axis=1), channels_first, one_hot) == pytest.approx(
        200.0
    )


def test_a_loss_it_does_not_know_has_no_reference():
    unknown = LossSpec("my_loss", None)
    assert unknown.label_format(3) is None and unknown.describe() == "my_loss"
    with pytest.raises(ValueError, match="not a cross-entropy"):
        exact_loss(unknown, PROBE, [1])


def test_a_loss_is_described_as_it_is_written():
    smoothed = LossSpec(
        "CategoricalCrossentropy", "categorical_crossentropy", False, {"label_smoothing": 0.1}
    )
    assert smoothed.describe() == "CategoricalCrossentropy(label_smoothing=0.1)"
    assert (
        smoothed.describe(from_logits=True)
        == "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"
    )
    assert spec("binary_crossentropy").label_format(1) == LabelFormat.BINARY
    assert spec("binary_crossentropy").label_format(4) == LabelFormat.MULTI_HOT
