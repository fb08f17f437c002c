"""The loss path, measured on real compiled models on the test process's backend
(docs/numerics.md, "The loss path Keras takes")."""

import keras
import numpy as np
import pytest

from kerasce.config.formulations import get_formulation
from kerasce.model.loss_path import detect_loss_path
from kerasce.model.models import build_model, compile_model
from kerasce.model.numerics import CLIP_CEILING
from kerasce.model.probe_reading import LossPathError, ProbeReading, classify_loss_path, observed_output_kind
from kerasce.vocabulary import LossPath

pytestmark = pytest.mark.backend

FUSED_LOGITS, RECOVERED_LOGITS = LossPath.FUSED_LOGITS, LossPath.RECOVERED_LOGITS
CLIPPED_PROBABILITIES, LOG_PROBABILITIES, NAIVE = (
    LossPath.CLIPPED_PROBABILITIES,
    LossPath.LOG_PROBABILITIES,
    LossPath.NAIVE,
)

# Measured with Keras 3.15.1 (docs/numerics.md): the logit recovery is TensorFlow's
# alone, and only where the softmax/sigmoid output reaches the loss uncast (float32, or a
# float32 head under a mixed policy); JAX and PyTorch (2.13, CPU) never recover. Columns follow
# PRECISIONS.
PRECISIONS = [
    ("float32", False),
    ("mixed_float16", False),
    ("mixed_bfloat16", False),
    ("mixed_float16", True),  # with a float32 head
]
INVARIANT_PATHS = {  # the same on every backend and precision
    "logits_ce": FUSED_LOGITS,
    "logit_bce": FUSED_LOGITS,
    "log_softmax_nll": LOG_PROBABILITIES,
    "clipped_softmax_ce": CLIPPED_PROBABILITIES,
    "clipped_sigmoid_bce": CLIPPED_PROBABILITIES,
    "naive_softmax_ce": NAIVE,
}
PROBABILITY_HEAD_PATHS = {  # softmax_ce and sigmoid_bce, one path per PRECISIONS column
    "tensorflow": (RECOVERED_LOGITS, CLIPPED_PROBABILITIES, CLIPPED_PROBABILITIES, RECOVERED_LOGITS),
    "jax": (CLIPPED_PROBABILITIES,) * len(PRECISIONS),
    "torch": (CLIPPED_PROBABILITIES,) * len(PRECISIONS),
}
BACKEND = keras.backend.backend()


def compiled(name, precision="float32", n_classes=3, **options):
    formulation = get_formulation(name)
    n_classes = 2 if formulation.task == "binary" else n_classes
    model = build_model(formulation, 5, n_classes, hidden_units=(8,), precision=precision, **options)
    return compile_model(model, formulation, precision=precision)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(INVARIANT_PATHS) + ["sigmoid_bce", "softmax_ce"])
@pytest.mark.parametrize("column, precision, float32_head", [(i, *p) for i, p in enumerate(PRECISIONS)])
def test_detected_loss_path(name, column, precision, float32_head):
    model = compiled(name, precision, float32_head=float32_head)
    expected = INVARIANT_PATHS.get(name) or PROBABILITY_HEAD_PATHS[BACKEND][column]
    assert detect_loss_path(model) == expected


@pytest.mark.slow
def test_detection_does_not_depend_on_logit_scale_and_restores_weights():
    model = compiled("softmax_ce", logit_scale=50.0)
    before = [w.copy() for w in model.get_weights()]
    assert detect_loss_path(model) == PROBABILITY_HEAD_PATHS[BACKEND][0]
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def reading(loss, kind="probabilities", exact=200.0, on_probabilities=CLIP_CEILING, on_logits=1.55):
    return ProbeReading(loss, exact, on_probabilities, on_logits, kind)


def test_an_unexplained_probe_loss_is_an_error_not_a_guess():
    with pytest.raises(LossPathError, match="neither"):
        classify_loss_path(reading(42.0), from_logits=False)


def test_each_reference_names_its_path():
    assert classify_loss_path(reading(200.0), False) == RECOVERED_LOGITS
    assert classify_loss_path(reading(200.0, "logits"), True) == FUSED_LOGITS
    assert classify_loss_path(reading(16.1181), False) == CLIPPED_PROBABILITIES
    assert classify_loss_path(reading(float("inf")), False) == NAIVE
    assert "second time" in classify_loss_path(reading(1.55), from_logits=True)
    # a loss that clips inside even from logits (Keras' focal losses): Keras on the bare logits
    assert classify_loss_path(reading(4.03, "logits", on_logits=4.03), True) == CLIPPED_PROBABILITIES
    assert "reads them as probabilities" in classify_loss_path(reading(16.1, "logits"), from_logits=False)
    log_probabilities = classify_loss_path(reading(1.0986, "log_probabilities"), from_logits=False)
    assert log_probabilities.startswith("unclassified (the loss has from_logits=False on log_probabilities")
    same = ProbeReading(0.0, 0.0, 0.0, None, "probabilities")  # nothing to tell apart
    assert "cannot tell them apart" in classify_loss_path(same, False)


def test_output_kind_is_read_off_the_values():
    assert observed_output_kind(np.array([[0.7, 0.2, 0.1]])) == "probabilities"
    assert observed_output_kind(np.log(np.array([[0.7, 0.2, 0.1]]))) == "log_probabilities"
    assert observed_output_kind(np.array([[3.0, -1.0, 0.5]])) == "logits"
    assert observed_output_kind(np.array([[0.3]])) == "probabilities"
    assert observed_output_kind(np.array([[-4.0]])) == "logits"
    assert observed_output_kind(np.array([[0.9, 0.8, 0.0]]), elementwise=True) == "probabilities"


def saturated_linear_losses(activation, from_logits) -> list[float]:
    """A saturated 4->3 linear model (docs/numerics.md), trained 3 epochs: the loss per epoch."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(0.0, 50.0, size=(256, 4)).astype("float32"), rng.integers(0, 3, size=256)
    keras.utils.set_random_seed(0)
    head = keras.layers.Dense(3, activation, kernel_initializer=keras.initializers.RandomNormal(0.0, 10.0, 0))
    model = keras.Sequential([keras.Input((4,)), head])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    return model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0).history["loss"]


@pytest.mark.slow
def test_softmax_output_trains_like_logits_on_tensorflow_and_stalls_on_jax_and_torch():
    logits = saturated_linear_losses(None, from_logits=True)
    softmax = saturated_linear_losses("softmax", from_logits=False)
    assert logits[-1] < logits[0] / 5  # the fused logits path trains
    if BACKEND == "tensorflow":  # the logits behind the softmax are recovered: the same curve
        np.testing.assert_allclose(softmax, logits, rtol=1e-6)
    else:  # clipped probabilities: most samples sit at the clip ceiling with zero gradient
        assert abs(softmax[-1] - softmax[0]) < 0.02 * softmax[0] and softmax[0] < CLIP_CEILING
