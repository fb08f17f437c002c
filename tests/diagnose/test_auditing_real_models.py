"""The audit on the classifiers Keras users write (tests/real_models.py), with the paths measured
on this process's backend (`make test` runs this file on TensorFlow and on JAX): one-hot,
multi-hot and (n, 1) labels, label smoothing, focal losses, convolution and EinsumDense heads,
token inputs of variable length, a dict of inputs, several outputs, a loss kerasce does not know."""

import keras
import pytest
from real_models import FAMILIES

import kerasce.api

pytestmark = pytest.mark.backend

BACKEND = keras.backend.backend()
R, C, F = "recovered_logits", "clipped_probabilities", "fused_logits"
TF = BACKEND == "tensorflow"
PROBABILITIES = (R, C, C) if TF else (C, C, C)  # under float32, mixed_float16, mixed_bfloat16
EXPECTED = {  # {output: paths}
    "one_hot_softmax": {"predictions": PROBABILITIES},
    "smoothed_logits": {"logits": (F, F, F)},
    "smoothed_softmax": {"predictions": PROBABILITIES},
    "multi_label_sigmoid": {"tags": PROBABILITIES},
    "binary_column": {"probability": PROBABILITIES},
    "conv_head": {"predictions": PROBABILITIES},
    "einsum_head": {"head": PROBABILITIES},
    "text_classifier": {"predictions": PROBABILITIES},
    "wide_and_deep": {"click": PROBABILITIES},
    "auxiliary_heads": {"aux": (F, F, F), "main": PROBABILITIES},
    # the float32 softmax reaches the loss uncast under every policy: TensorFlow recovers there
    "float32_softmax_layer": {"predictions": (R, R, R) if TF else (C, C, C)},
    "binary_focal": {"probability": PROBABILITIES},
    # Keras' categorical focal loss makes a softmax inside and clips it, from_logits=True included
    "categorical_focal_logits": {"logits": (C, C, C)},
    "token_tagger": {"tags": PROBABILITIES},
    # Keras' ignore_class masks the probabilities before the loss: TensorFlow's recovery is lost
    "ignore_class_softmax": {"predictions": (C, C, C)},
}
LABELS = {
    "one_hot_softmax": "one_hot",
    "smoothed_logits": "one_hot",
    "multi_label_sigmoid": "multi_hot",
    "binary_column": "binary",
    "conv_head": "sparse",
    "wide_and_deep": "binary",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_family_is_measured(name):
    result = kerasce.api.audit(FAMILIES[name]())
    measured = {head.output: tuple(r.loss_path for r in result.rows_of(head.output)) for head in result.heads}
    assert measured == EXPECTED[name]
    if name in LABELS:
        assert result.head.label_format == LABELS[name]
    assert all((r.fix is None) == (r.status == "ok") for r in result.rows)


@pytest.mark.slow
def test_the_head_is_read_through_the_layers_that_keep_a_constant():
    head = kerasce.api.audit(FAMILIES["conv_head"](), precisions=("float32",)).head
    assert (head.logits_layer, head.layer_kind, head.passthrough) == (
        "logits_conv",
        "Conv2D",
        ("Flatten", "Dropout"),
    )
    assert head.describe() == "Conv2D(3) -> Flatten -> Dropout -> softmax layer"


@pytest.mark.slow
def test_several_outputs_get_a_row_group_each_and_the_regression_is_skipped():
    result = kerasce.api.audit(FAMILIES["auxiliary_heads"](), precisions=("float32",))
    assert [h.output for h in result.heads] == ["aux", "main"]
    assert result.skipped == [("size", "its loss mse is not a classification loss")]
    text = result.text()
    assert "output 'main': head: Dense(3, softmax)" in text and "output 'size' not audited" in text


@pytest.mark.slow
def test_the_loss_keeps_its_arguments_in_the_fix():
    result = kerasce.api.audit(FAMILIES["smoothed_softmax"](), precisions=("mixed_float16",))
    assert "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)" in result.rows[0].fix


@pytest.mark.slow
def test_a_loss_it_does_not_know_is_unclassified_with_the_reason():
    result = kerasce.api.audit(FAMILIES["unknown_loss"](), precisions=("float32",))
    row = result.rows[0]
    assert row.status == "unclassified" and "my_hinge is not a cross-entropy the probe knows" in row.loss_path
    assert "cannot tell which path my_hinge takes" in row.fix
