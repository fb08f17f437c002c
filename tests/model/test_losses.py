"""Every formulation's compiled loss against float64 references (docs/numerics.md)."""

import keras
import numpy as np
import pytest
from helpers import logit_model, per_sample_loss
from scipy.special import expit, softmax

from kerasce.model.losses import NaiveCrossentropy, NegativeLogLikelihood, make_loss
from kerasce.model.numerics import CLIP_CEILING, EPSILON, reference_crossentropy

# Keras recovers the logits behind a softmax/sigmoid output on TensorFlow only (docs/numerics.md):
# on JAX and PyTorch softmax_ce and sigmoid_bce take the clipped probability path like the
# clipped_* ones.
RECOVERED = ["softmax_ce", "sigmoid_bce"]
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
EXACT = ["logits_ce", "log_softmax_nll", "logit_bce"] + (RECOVERED if ON_TENSORFLOW else [])
CLIPPED = ["clipped_softmax_ce", "clipped_sigmoid_bce"] + ([] if ON_TENSORFLOW else RECOVERED)
rng = np.random.default_rng(0)


def logits_and_labels(name, scale):
    n_classes = 2 if "bce" in name else 4
    units = 1 if "bce" in name else n_classes
    return rng.normal(0, scale, size=(12, units)), rng.integers(0, n_classes, size=12), n_classes


def clipped_reference(logits, labels):
    """Keras' probability path: probabilities clipped to [eps, 1 - eps] in float32.

    In float32, 1 - 1e-7 rounds to 1 - 1.19e-7, so a sigmoid's negatives saturate at 15.94,
    not 16.12: the clip ceiling is asymmetric.
    """
    low, high = np.float32(EPSILON), np.float32(1) - np.float32(EPSILON)
    if logits.shape[-1] == 1:
        p = np.clip(expit(logits[:, 0]).astype(np.float32), low, high)
        return np.where(labels == 1, -np.log(p), -np.log(np.float32(1) - p))
    p_true = softmax(logits.astype(np.float64), axis=-1)[np.arange(len(labels)), labels]
    return -np.log(np.clip(p_true.astype(np.float32), low, high))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXACT + CLIPPED + ["naive_softmax_ce"])
def test_moderate_logits_match_the_float64_reference(name):
    logits, labels, n_classes = logits_and_labels(name, scale=3.0)
    losses = per_sample_loss(logit_model(name, n_classes), logits, labels)
    np.testing.assert_allclose(losses, reference_crossentropy(logits, labels), rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXACT)
def test_stable_formulations_stay_exact_on_extreme_logits(name):
    logits, labels, n_classes = logits_and_labels(name, scale=300.0)
    losses = per_sample_loss(logit_model(name, n_classes), logits, labels)
    np.testing.assert_allclose(losses, reference_crossentropy(logits, labels), rtol=1e-5, atol=1e-3)
    assert losses.max() > 100  # the test reaches the region where clipping would show


@pytest.mark.slow
@pytest.mark.parametrize("name", CLIPPED)
def test_clipped_formulations_saturate_at_minus_log_epsilon(name):
    logits, labels, n_classes = logits_and_labels(name, scale=300.0)
    losses = per_sample_loss(logit_model(name, n_classes), logits, labels)
    np.testing.assert_allclose(losses, clipped_reference(logits, labels), rtol=1e-3, atol=1e-3)
    assert np.isclose(losses.max(), CLIP_CEILING, atol=0.01)
    assert reference_crossentropy(logits, labels).max() > 100


BIG = np.array([80.0, 87.0, 88.0, 88.5, 88.7, 88.75, 89.0, 100.0, 1000.0])


# TensorFlow's and XLA's CPU kernels flush subnormal floats to zero; PyTorch's keep them (measured)
FLUSHES_SUBNORMALS = keras.backend.backend() != "torch"


def textbook_float32(z):
    """exp(z) / sum(exp(z)) in float32, with flush-to-zero where the backend's CPU kernels do it."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z.astype(np.float32))
        p = e / e.sum(axis=1, keepdims=True)
    return np.where(np.abs(p) < np.finfo(np.float32).tiny, np.float32(0), p) if FLUSHES_SUBNORMALS else p


@pytest.mark.slow
def test_naive_softmax_overflows_exactly_where_float32_exp_does():
    logits = np.stack([BIG, np.zeros_like(BIG), np.zeros_like(BIG)], axis=1)
    model = logit_model("naive_softmax_ce", 3)
    outputs = keras.ops.convert_to_numpy(model(logits.astype("float32")))
    with np.errstate(over="ignore"):  # the overflow is what the test looks for
        overflowed = ~np.isfinite(np.exp(BIG.astype(np.float32)))
    assert np.array_equal(~np.isfinite(outputs).all(axis=1), overflowed)
    assert 0 < overflowed.sum() < len(BIG)  # the sweep straddles ln(float32 max) = 88.72


@pytest.mark.slow
def test_naive_loss_is_inf_where_the_true_class_probability_underflows():
    logits = np.stack([BIG, np.zeros_like(BIG), np.zeros_like(BIG)], axis=1)
    labels = np.ones(len(BIG), dtype=int)
    losses = per_sample_loss(logit_model("naive_softmax_ce", 3), logits, labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        textbook = -np.log(textbook_float32(logits)[:, 1])
    assert np.array_equal(np.isfinite(losses), np.isfinite(textbook))
    # flushed: inf once p < 1.18e-38 (z > 87.3); kept subnormal: only once exp(z) overflows (z > 88.72)
    finite = 2 if FLUSHES_SUBNORMALS else 5
    assert np.isfinite(losses[:finite]).all() and not np.isfinite(losses[finite:]).any()
    stable = per_sample_loss(logit_model("logits_ce", 3), logits, labels)
    np.testing.assert_allclose(stable, reference_crossentropy(logits, labels), rtol=1e-5)


@pytest.mark.parametrize("loss_class", [NegativeLogLikelihood, NaiveCrossentropy])
def test_custom_losses_round_trip_through_get_config(loss_class):
    original = loss_class(name="custom", reduction="sum")
    restored = loss_class.from_config(original.get_config())
    assert restored.get_config() == original.get_config()
    revived = keras.losses.deserialize(keras.losses.serialize(original))
    assert isinstance(revived, loss_class) and revived.reduction == "sum"


def test_pure_nll_matches_hand_computed_values():
    log_probabilities = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]], dtype="float32"))
    losses = NegativeLogLikelihood(reduction=None)(np.array([0, 1]), log_probabilities)
    np.testing.assert_allclose(np.asarray(losses), [np.log(2), -np.log(0.8)], rtol=1e-6)


def test_make_loss_follows_the_formulation():
    from kerasce.config.formulations import get_formulation

    assert make_loss(get_formulation("logits_ce")).get_config()["from_logits"] is True
    assert make_loss(get_formulation("softmax_ce")).get_config()["from_logits"] is False
    assert isinstance(make_loss(get_formulation("log_softmax_nll")), NegativeLogLikelihood)
