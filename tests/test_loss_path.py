"""The loss path, measured on real compiled models (shared/NUMERICS.md sections 1-2)."""

import numpy as np
import pytest

from kerasce.model.formulations import get_formulation
from kerasce.model.loss_path import (
    CLIPPED_PROBABILITIES,
    FUSED_LOGITS,
    LOG_PROBABILITIES,
    NAIVE,
    RECOVERED_LOGITS,
    LossPathError,
    classify_loss_path,
    detect_loss_path,
    observed_output_kind,
)
from kerasce.model.models import build_model, compile_model

EXPECTED_PATHS = {
    # name: (float32, mixed_float16)
    "softmax_ce": (RECOVERED_LOGITS, CLIPPED_PROBABILITIES),
    "logits_ce": (FUSED_LOGITS, FUSED_LOGITS),
    "log_softmax_nll": (LOG_PROBABILITIES, LOG_PROBABILITIES),
    "clipped_softmax_ce": (CLIPPED_PROBABILITIES, CLIPPED_PROBABILITIES),
    "naive_softmax_ce": (NAIVE, NAIVE),
    "sigmoid_bce": (RECOVERED_LOGITS, CLIPPED_PROBABILITIES),
    "logit_bce": (FUSED_LOGITS, FUSED_LOGITS),
    "clipped_sigmoid_bce": (CLIPPED_PROBABILITIES, CLIPPED_PROBABILITIES),
}


def compiled(name, precision="float32", n_classes=3, **options):
    formulation = get_formulation(name)
    n_classes = 2 if formulation.task == "binary" else n_classes
    model = build_model(formulation, 5, n_classes, hidden_units=(8,), precision=precision, **options)
    return compile_model(model, formulation, precision=precision)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_PATHS))
@pytest.mark.parametrize("precision_index, precision", [(0, "float32"), (1, "mixed_float16")])
def test_detected_loss_path(name, precision_index, precision):
    assert detect_loss_path(compiled(name, precision)) == EXPECTED_PATHS[name][precision_index]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["softmax_ce", "sigmoid_bce"])
def test_float32_head_restores_recovery_under_mixed_precision(name):
    assert detect_loss_path(compiled(name, "mixed_float16", float32_head=True)) == RECOVERED_LOGITS
    assert detect_loss_path(compiled(name, "mixed_bfloat16")) == CLIPPED_PROBABILITIES


@pytest.mark.slow
def test_detection_does_not_depend_on_logit_scale_and_restores_weights():
    model = compiled("softmax_ce", logit_scale=50.0)
    before = [w.copy() for w in model.get_weights()]
    assert detect_loss_path(model) == RECOVERED_LOGITS
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_an_unexplained_probe_loss_is_an_error_not_a_guess():
    with pytest.raises(LossPathError, match="neither"):
        classify_loss_path(42.0, 200.0, np.array([[1.0, 0.0, 0.0]]))


def test_output_kind_is_read_off_the_values():
    assert observed_output_kind(np.array([[0.7, 0.2, 0.1]])) == "probabilities"
    assert observed_output_kind(np.log(np.array([[0.7, 0.2, 0.1]]))) == "log_probabilities"
    assert observed_output_kind(np.array([[3.0, -1.0, 0.5]])) == "logits"
    assert observed_output_kind(np.array([[0.3]])) == "probabilities"
    assert observed_output_kind(np.array([[-4.0]])) == "logits"
