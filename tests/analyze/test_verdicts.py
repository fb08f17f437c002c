"""Regimes and verdicts are computed from aggregated and paired tables: checked on tables made by hand."""

import pandas as pd

from kerasce.analyze.verdicts import (
    backends_verdict,
    binary_heads_verdict,
    imbalance_verdict,
    mixed_head_verdict,
    naive_overflow_verdict,
    overflow_regime,
    saturation_regime,
)


def difference(mean, low, high, n=5, p=0.5, metric="test_loss", identical=False):
    return {
        f"{metric}_diff_mean": mean,
        f"{metric}_diff_ci_low": low,
        f"{metric}_diff_ci_high": high,
        f"{metric}_diff_n": n,
        f"{metric}_diff_p": p,
        f"{metric}_identical": identical,
    }


def test_overflow_regime_needs_stable_logits_past_the_float32_exp_range():
    table = pd.DataFrame(
        {
            "formulation": ["naive_softmax_ce", "logits_ce", "naive_softmax_ce", "logits_ce"],
            "model.logit_scale": [1.0, 1.0, 100.0, 100.0],
            "train.learning_rate": [0.001] * 4,
            "peak_abs_logit_mean": [5.0, 5.0, float("nan"), 150.0],
            "nan_rate": [0.0, 0.0, 1.0, 0.0],
        }
    )
    reached, note = overflow_regime(table)
    assert reached.tolist() == [False, False, True, True] and "88.72" in note
    verdict, reason = naive_overflow_verdict(table.assign(regime_reached=reached), pd.DataFrame())
    assert verdict == "supported" and "hit NaN/Inf in 1 (logit scale 100.0" in reason
    table.loc[3, "nan_rate"] = 0.5
    assert naive_overflow_verdict(table.assign(regime_reached=reached), pd.DataFrame())[0] == "not supported"


def imbalance_tables(saturation: float, ap_difference: tuple):
    rows = [("log_softmax_nll", "log_probabilities"), ("clipped_softmax_ce", "clipped_probabilities")]
    table = pd.DataFrame(rows, columns=["formulation", "loss_path"]).assign(
        precision="float32",
        **{"model.logit_scale": 30.0, "peak_clip_saturation_rate_mean": [0.05, saturation]},
    )
    paired = pd.DataFrame(
        [
            {
                "formulation": "clipped_softmax_ce",
                "precision": "float32",
                "model.logit_scale": 30.0,
                "reference": "log_softmax_nll",
                **difference(*ap_difference, metric="test_average_precision"),
            }
        ]
    )
    return table, paired


def test_the_imbalance_claim_counts_only_where_the_clipped_path_saturated():
    table, paired = imbalance_tables(0.03, (-0.1, -0.15, -0.05))
    reached, _ = saturation_regime(table)
    assert reached.all()
    verdict, reason = imbalance_verdict(table.assign(regime_reached=reached), paired)
    assert verdict == "supported where the probability path is clipped (clipped_softmax_ce under float32)"
    assert "peak saturation 3.0%" in reason and "Δ AP -0.1 [-0.15, -0.05] (n=5, p=0.5)" in reason
    table, paired = imbalance_tables(0.03, (0.01, -0.02, 0.04))
    assert imbalance_verdict(table.assign(regime_reached=reached), paired)[0] == "not supported"
    table, _ = imbalance_tables(0.0, (-0.1, -0.15, -0.05))
    assert not saturation_regime(table)[0].any()  # the report then says "not tested"


def test_binary_heads_are_supported_by_identical_float32_pairs_and_no_difference_elsewhere():
    table = pd.DataFrame(
        [
            (f, p, path)
            for f, p, path in [
                ("softmax_ce", "float32", "recovered_logits"),
                ("softmax_ce", "mixed_float16", "clipped_probabilities"),
            ]
        ],
        columns=["formulation", "precision", "loss_path"],
    ).assign(**{"model.logit_scale": 1.0})
    paired = pd.DataFrame(
        [
            {
                "formulation": "softmax_ce",
                "precision": "float32",
                "model.logit_scale": 1.0,
                "reference": "logits_ce",
                **difference(0.0, 0.0, 0.0, p=1.0, identical=True),
            },
            {
                "formulation": "softmax_ce",
                "precision": "mixed_float16",
                "model.logit_scale": 1.0,
                "reference": "logits_ce",
                **difference(0.01, -0.02, 0.04),
            },
        ]
    )
    verdict, reason = binary_heads_verdict(table, paired)
    assert verdict == "supported" and "every pair is identical" in reason
    assert "no paired difference is detectable" in reason
    paired.loc[1, ["test_loss_diff_ci_low", "test_loss_diff_ci_high"]] = [0.005, 0.02]
    verdict, reason = binary_heads_verdict(table, paired)  # worse where clipped: the "safe" part
    assert verdict == "supported"
    assert "the probability head trains worse than its twin (softmax_ce under mixed_float16" in reason
    paired.loc[1, ["test_loss_diff_mean", "test_loss_diff_ci_low", "test_loss_diff_ci_high"]] = [
        -0.1,
        -0.2,
        -0.05,
    ]
    verdict, _ = binary_heads_verdict(table, paired)
    assert verdict.startswith("not supported: the probability head trains better for softmax_ce")


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
    assert mixed_head_verdict(table, pd.DataFrame())[0] == "supported"
    table.loc[3, "loss_path"] = "clipped_probabilities"
    assert mixed_head_verdict(table, pd.DataFrame())[0] == "not supported"


def test_backends_verdict_needs_the_split_on_every_probability_head():
    rows = [
        ("softmax_ce", "tensorflow", "recovered_logits"),
        ("softmax_ce", "jax", "clipped_probabilities"),
        ("sigmoid_bce", "tensorflow", "recovered_logits"),
        ("sigmoid_bce", "jax", "clipped_probabilities"),
        ("logits_ce", "jax", "fused_logits"),
    ]
    table = pd.DataFrame(rows, columns=["formulation", "backend", "loss_path"]).assign(
        precision="float32", **{"model.logit_scale": 1.0}
    )
    paired = pd.DataFrame(
        [
            {
                "formulation": "softmax_ce",
                "backend": "jax",
                "precision": "float32",
                "model.logit_scale": 1.0,
                **difference(0.5, 0.2, 0.8, p=0.06),
            }
        ]
    )
    verdict, reason = backends_verdict(table, paired)
    assert verdict == "supported"
    assert (
        "softmax_ce, logit scale 1.0: TensorFlow recovered_logits (Δ test loss against its twin -)" in reason
    )
    assert "JAX clipped_probabilities (Δ +0.5 [+0.2, +0.8] (n=5, p=0.06))" in reason
    table.loc[1, "loss_path"] = "recovered_logits"
    assert backends_verdict(table, paired)[0] == "not supported"
