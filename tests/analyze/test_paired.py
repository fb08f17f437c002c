"""Paired statistics against values computed by hand, on run tables made by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from kerasce.analyze.comparison import CompareError
from kerasce.analyze.paired import (
    difference_verdict,
    display_paired,
    empty_paired,
    paired_differences,
    summarize_differences,
    wilcoxon_p,
)
from kerasce.analyze.tolerance import Difference


def runs(rows):
    """rows: (formulation, precision, seed, test_loss)."""
    frame = pd.DataFrame(
        rows, columns=["params.formulation", "params.precision", "params.seed", "metrics.test_loss"]
    )
    return frame.assign(
        run_id=[f"r{i}" for i in range(len(frame))], **{"params.seed": frame["params.seed"].astype(str)}
    )


def test_differences_of_three_seeds_by_hand():
    # softmax minus logits per seed: 1, 2, 3 -> mean 2, sd 1, half-width t(0.975, 2) / sqrt(3)
    table = runs(
        [("logits_ce", "float32", s, 10.0 * s) for s in (0, 1, 2)]
        + [("softmax_ce", "float32", s, 10.0 * s + s + 1) for s in (0, 1, 2)]
    )
    paired = paired_differences(table, ["formulation"], ["test_loss"])
    row = paired.iloc[0]
    assert row["formulation"] == "softmax_ce" and row["reference"] == "logits_ce" and row["n_pairs"] == 3
    half = 4.302652729911275 / math.sqrt(3)
    assert row["test_loss_diff_mean"] == pytest.approx(2.0)
    assert row["test_loss_diff_ci_low"] == pytest.approx(2.0 - half)
    assert row["test_loss_diff_ci_high"] == pytest.approx(2.0 + half)
    assert row["test_loss_diff_p"] == pytest.approx(0.25)  # all three positive: 2 x (1/2)^3
    assert difference_verdict(row, "test_loss") == "no detectable difference"  # 2 - 2.48 < 0


def test_two_pairs_give_a_wide_but_defined_interval():
    # differences 1 and 3: mean 2, sd sqrt(2), half-width t(0.975, 1) x sqrt(2) / sqrt(2) = 12.706
    stats = summarize_differences(np.array([1.0, 3.0]), "m")
    assert stats["m_diff_mean"] == 2.0 and stats["m_diff_n"] == 2
    assert stats["m_diff_ci_high"] - 2.0 == pytest.approx(12.706204736174707)
    assert stats["m_diff_p"] == pytest.approx(0.5)


def test_identical_runs_are_identical_with_p_one():
    table = runs([(f, "float32", s, 0.5 + s) for f in ("logits_ce", "softmax_ce") for s in range(5)])
    row = paired_differences(table, ["formulation"], ["test_loss"]).iloc[0]
    assert row["test_loss_identical"] and row["test_loss_diff_p"] == 1.0
    assert row["test_loss_diff_ci_low"] == row["test_loss_diff_ci_high"] == 0.0
    assert difference_verdict(row, "test_loss") == "identical"
    assert display_paired(
        paired_differences(table, ["formulation"], ["test_loss"]), ["formulation"], ["test_loss"]
    )["Δ test_loss"].tolist() == ["identical"]


def test_a_consistent_difference_over_five_seeds_differs():
    table = runs(
        [("logits_ce", "float32", s, 1.0 + 0.1 * s) for s in range(5)]
        + [("log_softmax_nll", "float32", s, 2.0 + 0.1 * s + 0.01 * s * s) for s in range(5)]
    )
    row = paired_differences(table, ["formulation"], ["test_loss"]).iloc[0]
    assert row["test_loss_diff_ci_low"] > 0 and difference_verdict(row, "test_loss") == "differs"
    assert row["test_loss_diff_p"] == pytest.approx(0.0625)  # exact: 2 x (1/2)^5


def test_pairs_agree_on_every_other_grid_key_and_the_seed():
    # the precision differs between cells: each softmax run pairs with the logits run of its precision
    table = runs(
        [("logits_ce", p, s, 1.0) for p in ("float32", "mixed_float16") for s in (0, 1)]
        + [("softmax_ce", "float32", s, 1.5) for s in (0, 1)]
        + [("softmax_ce", "mixed_float16", s, 3.0) for s in (0, 1)]
    )
    paired = paired_differences(table, ["formulation", "precision"], ["test_loss"])
    means = dict(zip(paired["precision"], paired["test_loss_diff_mean"], strict=True))
    assert means == {"float32": 0.5, "mixed_float16": 2.0}
    assert set(paired["n_pairs"]) == {2}


def test_binary_wirings_pair_with_logit_bce_and_an_explicit_reference_is_honoured():
    table = runs(
        [(f, "float32", 0, v) for f, v in (("logit_bce", 1.0), ("sigmoid_bce", 1.25), ("logits_ce", 2.0))]
    )
    paired = paired_differences(table, ["formulation"], ["test_loss"])
    assert paired[["formulation", "reference"]].values.tolist() == [["sigmoid_bce", "logit_bce"]]
    against = paired_differences(table, ["formulation"], ["test_loss"], reference="logits_ce")
    assert dict(zip(against["formulation"], against["test_loss_diff_mean"], strict=True)) == {
        "logit_bce": -1.0,
        "sigmoid_bce": -0.75,
    }


def test_ambiguous_partners_are_refused():
    table = runs(
        [
            ("logits_ce", "float32", 0, 1.0),
            ("logits_ce", "float32", 0, 1.1),
            ("softmax_ce", "float32", 0, 2.0),
        ]
    )
    table["params.precision"] = "float32"
    with pytest.raises(CompareError, match="cannot be paired"):
        paired_differences(table, ["formulation"], ["test_loss"])


def test_no_reference_runs_means_no_pairs():
    assert paired_differences(runs([("softmax_ce", "float32", 0, 1.0)]), ["formulation"], ["test_loss"]).empty
    assert math.isnan(wilcoxon_p(np.array([])))


def test_an_unknown_reference_names_the_choices_and_the_close_one():
    table = runs([("logits_ce", "float32", 0, 1.0), ("softmax_ce", "float32", 0, 2.0)])
    with pytest.raises(CompareError, match="did you mean 'logits_ce'"):
        paired_differences(table, ["formulation"], ["test_loss"], reference="logit_ce")


def test_float_noise_is_rounding_not_an_effect():
    # every pair off by a few 1e-9 in the same direction: the interval excludes 0, but |Δ| is far
    # below a millionth of the loss's scale (about 0.3 here), so the difference is float rounding
    table = runs(
        [("logits_ce", "float32", s, 0.2 + 0.1 * s) for s in range(3)]
        + [("softmax_ce", "float32", s, 0.2 + 0.1 * s + (2 + s) * 1e-9) for s in range(3)]
    )
    row = paired_differences(table, ["formulation"], ["test_loss"]).iloc[0]
    assert row["test_loss_diff_ci_low"] > 0 and not row["test_loss_identical"]
    assert row["test_loss_scale"] == pytest.approx(0.3)  # magnitude 0.3 beats the spread 0.1
    assert row["test_loss_diff_max_abs"] == pytest.approx(4e-9)
    assert difference_verdict(row, "test_loss") == Difference.ROUNDING
    assert display_paired(
        paired_differences(table, ["formulation"], ["test_loss"]), ["formulation"], ["test_loss"]
    )["Δ test_loss"].tolist() == ["≈ 0 (float rounding)"]


def test_effects_are_shown_rounded_to_their_interval():
    table = runs(
        [("logits_ce", "float32", s, 1.0) for s in range(3)]
        + [("softmax_ce", "float32", s, 1.0 + d) for s, d in enumerate((0.0102, 0.0121, 0.0112))]
    )
    paired = paired_differences(table, ["formulation"], ["test_loss"])
    assert display_paired(paired, ["formulation"], ["test_loss"])["Δ test_loss"].tolist() == [
        "+0.0112 [+0.0088, +0.0135]"
    ]


def test_a_row_without_the_tolerance_columns_is_judged_by_its_interval():
    row = {"test_loss_identical": False, "test_loss_diff_ci_low": 1e-9, "test_loss_diff_ci_high": 2e-9}
    assert difference_verdict(row, "test_loss") == Difference.DIFFERS


def test_without_pairs_the_table_keeps_its_columns(tmp_path):
    table = runs([("softmax_ce", "float32", 0, 1.0)])
    paired = paired_differences(table, ["formulation"], ["test_loss"])
    assert paired.empty and {"formulation", "reference", "n_pairs", "test_loss_diff_mean"} <= set(paired)
    (tmp_path / "paired.csv").write_text(empty_paired(["formulation"], ["test_loss"]).to_csv(index=False))
    back = pd.read_csv(tmp_path / "paired.csv")
    assert back.empty and list(back.columns)[:3] == ["formulation", "reference", "n_pairs"]


def test_a_pair_finite_on_one_side_only_makes_the_wiring_differ():
    # seed 2's softmax_ce loss is infinite where logits_ce's is not: the two finite pairs are
    # identical, but leaving the third out silently would call a breaking wiring identical
    table = runs(
        [("logits_ce", "float32", s, 0.2 + 0.1 * s) for s in range(3)]
        + [("softmax_ce", "float32", s, 0.2 + 0.1 * s) for s in range(2)]
        + [("softmax_ce", "float32", 2, math.inf)]
    )
    paired = paired_differences(table, ["formulation"], ["test_loss"])
    row = paired.iloc[0]
    assert row["test_loss_diff_n"] == 2 and row["test_loss_diff_one_sided"] == 1
    assert not row["test_loss_identical"] and difference_verdict(row, "test_loss") == Difference.DIFFERS
    assert display_paired(paired, ["formulation"], ["test_loss"])["Δ test_loss"].tolist() == [
        "+0 [+0, +0]; 1 pair finite on one side only"
    ]


def test_pairs_without_the_metric_on_either_side_are_left_out():
    table = runs(
        [("logits_ce", "float32", s, v) for s, v in ((0, 1.0), (1, 2.0), (2, math.nan))]
        + [("softmax_ce", "float32", s, v) for s, v in ((0, 1.0), (1, 2.0), (2, math.nan))]
    )
    row = paired_differences(table, ["formulation"], ["test_loss"]).iloc[0]
    assert (
        row["test_loss_diff_one_sided"] == 0 and difference_verdict(row, "test_loss") == Difference.IDENTICAL
    )
