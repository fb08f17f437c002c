"""Each measured path's status, and the fix the audit prints for it."""

import keras

from kerasce.diagnose.auditing import AuditRow
from kerasce.diagnose.fixes import fix_for, loss_class
from kerasce.model.compiled_loss import loss_spec
from kerasce.model.heads import Head
from kerasce.vocabulary import status_of

SCCE = loss_spec(keras.losses.SparseCategoricalCrossentropy())
SOFTMAX = Head("predictions", "predictions", "Dense", "softmax", None, (), 10, SCCE)
SEPARATE = Head("probabilities", "logits", "Dense", "softmax", "probabilities", (), 10, SCCE)
SMOOTHED = loss_spec(keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
CONV = Head("act", "conv", "Conv2D", "softmax", "act", ("Flatten",), 10, SMOOTHED)


def rows(*paths, backend="tensorflow"):
    precisions = ("float32", "mixed_float16", "mixed_bfloat16")
    return [
        AuditRow("out", backend, p, path, status_of(path)) for p, path in zip(precisions, paths, strict=True)
    ]


def test_statuses():
    assert [status_of(p) for p in ("fused_logits", "log_probabilities", "recovered_logits")] == [
        "ok",
        "ok",
        "fragile",
    ]
    assert status_of("clipped_probabilities") == "clipped" and status_of("unclassified (x)") == "unclassified"


def test_mixed_precision_clipping_gets_the_float32_head_fix_where_float32_recovers():
    audited = rows("recovered_logits", "clipped_probabilities", "clipped_probabilities")
    fix = fix_for(SOFTMAX, audited[1], audited)
    assert "dtype=\"float32\" to 'predictions'" in fix and "from_logits=True" in fix
    assert "TensorFlow recovers" in fix_for(SOFTMAX, audited[0], audited)


def test_clipping_without_recovery_gets_the_logits_fix_only():
    audited = rows(*["clipped_probabilities"] * 3, backend="jax")
    fix = fix_for(SEPARATE, audited[1], audited)
    assert "dtype" not in fix
    assert fix.startswith("remove the 'probabilities' layer and compile with SparseCategoricalCrossentropy(")


def test_fine_rows_need_no_fix_and_binary_heads_name_their_loss():
    audited = rows(*["fused_logits"] * 3)
    assert fix_for(SOFTMAX, audited[0], audited) is None
    binary = Head("p", "p", "Dense", "sigmoid", None, (), 1, loss_spec(keras.losses.BinaryCrossentropy()))
    assert loss_class(binary) == "BinaryCrossentropy"


def test_the_fix_keeps_the_losss_own_arguments():
    audited = rows(*["clipped_probabilities"] * 3, backend="jax")
    fix = fix_for(CONV, audited[0], audited)
    assert fix.startswith("remove the 'act' layer and compile with ")
    assert "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)" in fix
