"""Verdicts are computed from aggregated tables: checked here on tables made by hand."""

import pandas as pd

from kerasce.analyze.claims import backends_verdict, mixed_head_verdict, naive_overflow_verdict, overlap


def row(mean, low, high):
    return pd.Series({"m_mean": mean, "m_ci_low": low, "m_ci_high": high})


def test_intervals_overlap_or_not():
    assert overlap(row(1.0, 0.5, 1.5), row(1.4, 1.2, 1.6), "m")
    assert not overlap(row(1.0, 0.9, 1.1), row(2.0, 1.9, 2.1), "m")
    assert overlap(row(1.0, float("nan"), float("nan")), row(1.0, float("nan"), float("nan")), "m")


def test_overflow_is_supported_only_when_the_stable_wirings_stay_finite():
    table = pd.DataFrame(
        {
            "formulation": ["naive_softmax_ce", "naive_softmax_ce", "logits_ce"],
            "model.logit_scale": [1.0, 100.0, 100.0],
            "train.learning_rate": [0.001, 0.001, 0.001],
            "nan_rate": [0.0, 1.0, 0.0],
        }
    )
    verdict, reason = naive_overflow_verdict(table)
    assert verdict == "supported" and "1 of 2 settings" in reason
    table.loc[2, "nan_rate"] = 0.5
    assert naive_overflow_verdict(table)[0] == "not supported"


def test_mixed_head_verdict_reads_the_measured_paths():
    rows = [
        ("float32", False, "recovered_logits"),
        ("mixed_float16", False, "clipped_probabilities"),
        ("mixed_bfloat16", False, "clipped_probabilities"),
        ("mixed_float16", True, "recovered_logits"),
        ("mixed_bfloat16", True, "recovered_logits"),
    ]
    table = pd.DataFrame(rows, columns=["precision", "model.float32_head", "loss_path"]).assign(
        formulation="softmax_ce"
    )
    assert mixed_head_verdict(table)[0] == "supported"
    table.loc[3, "loss_path"] = "clipped_probabilities"
    assert mixed_head_verdict(table)[0] == "not supported"


def test_backends_verdict_needs_the_split_on_every_probability_head():
    rows = [
        ("softmax_ce", "tensorflow", "recovered_logits", 0.21),
        ("softmax_ce", "jax", "clipped_probabilities", 0.25),
        ("sigmoid_bce", "tensorflow", "recovered_logits", 0.11),
        ("sigmoid_bce", "jax", "clipped_probabilities", 0.12),
        ("logits_ce", "jax", "fused_logits", 0.21),
    ]
    table = pd.DataFrame(rows, columns=["formulation", "backend", "loss_path", "test_loss_mean"]).assign(
        precision="float32", **{"model.logit_scale": 1.0}
    )
    verdict, reason = backends_verdict(table)
    assert verdict == "supported" and "softmax_ce, logit scale 1.0: TensorFlow recovered_logits" in reason
    table.loc[1, "loss_path"] = "recovered_logits"
    assert backends_verdict(table)[0] == "not supported"
