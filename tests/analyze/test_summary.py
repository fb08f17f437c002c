"""The summary of a comparison on runs made by hand: each wiring's verdict against its reference,
the effects shown under it, and the three renderings (terminal within 100 characters, Markdown)."""

import pandas as pd
from comparisons import KEYS, METRICS, hand_made_runs, hand_made_summary

from kerasce.analyze.comparison import aggregate
from kerasce.analyze.paired import paired_differences
from kerasce.analyze.summary import (
    NO_PAIRS,
    REFERENCE,
    TERMINAL_WIDTH,
    answer_lines,
    markdown_summary,
    sections,
    summarize,
    terminal_summary,
)
from kerasce.analyze.tolerance import Difference


def verdicts(summary) -> dict:
    return {(r["formulation"], r["precision"]): r["verdict"] for _, r in summary.iterrows()}


def test_each_wiring_gets_its_verdict_against_its_reference():
    summary = hand_made_summary()
    assert verdicts(summary) == {
        ("logits_ce", "float32"): REFERENCE,
        ("softmax_ce", "float32"): Difference.IDENTICAL,
        ("log_softmax_nll", "float32"): Difference.ROUNDING,
        ("logits_ce", "mixed_float16"): REFERENCE,
        ("softmax_ce", "mixed_float16"): Difference.DIFFERS,
        ("log_softmax_nll", "mixed_float16"): Difference.NOT_DETECTED,
    }
    # references first in each setting, then the wirings compared with them
    assert summary["formulation"].tolist()[0::3] == ["logits_ce", "logits_ce"]
    assert summary.loc[summary["verdict"] == REFERENCE, "reference"].tolist() == ["", ""]


def test_the_effects_under_a_verdict_are_the_headline_and_what_differs():
    rows = hand_made_summary().set_index(["formulation", "precision"])
    assert rows.loc[("softmax_ce", "float32"), "effects"] == ()
    (rounding,) = rows.loc[("log_softmax_nll", "float32"), "effects"]
    assert rounding.metric == "test_loss" and rounding.text == "|Δ| ≤ 2e-09"
    differs = rows.loc[("softmax_ce", "mixed_float16"), "effects"]
    # ECE shows no detectable difference: only the loss, which differs, is shown
    assert [(e.metric, e.verdict, e.direction) for e in differs] == [
        ("test_loss", Difference.DIFFERS, "worse")
    ]
    assert differs[0].text == "+0.0110 [+0.0085, +0.0135]"
    (not_detected,) = rows.loc[("log_softmax_nll", "mixed_float16"), "effects"]
    assert not_detected.verdict == Difference.NOT_DETECTED and not_detected.direction == ""


def test_the_answer_names_the_wirings_by_verdict():
    assert answer_lines(hand_made_summary(), KEYS) == [
        "precision = float32 — ≈ 0 (float rounding): log_softmax_nll; identical: softmax_ce",
        "precision = mixed_float16 — NaN/Inf events: log_softmax_nll; differs: softmax_ce; "
        "no detectable difference: log_softmax_nll",
    ]


def test_the_terminal_summary_fits_100_characters():
    text = terminal_summary(hand_made_summary(), KEYS)
    lines = text.splitlines()
    assert max(map(len, lines)) <= TERMINAL_WIDTH
    assert lines[0] == "In short:"
    assert any(line.startswith("  softmax_ce") and "differs vs logits_ce (n=3)" in line for line in lines)
    assert "      test_loss  +0.0110 [+0.0085, +0.0135]  worse" in lines


def test_long_names_still_fit_the_terminal():
    runs = hand_made_runs()
    long = "clipped_softmax_ce_with_a_much_longer_name"
    runs["params.formulation"] = runs["params.formulation"].replace("softmax_ce", long)
    runs.loc[runs["params.formulation"] == long, "metrics.test_loss"] += 0.5
    table = aggregate(runs, KEYS, METRICS)
    paired = paired_differences(runs, KEYS, METRICS, reference="logits_ce")
    text = terminal_summary(summarize(table, paired, KEYS, METRICS), KEYS)
    assert max(map(len, text.splitlines())) <= TERMINAL_WIDTH


def test_the_markdown_summary_bolds_what_differs():
    markdown = markdown_summary(hand_made_summary(), KEYS)
    assert markdown.startswith("## Summary")
    assert "### precision = mixed_float16" in markdown and "| **differs** " in markdown
    assert "test_loss +0.0110 [+0.0085, +0.0135] worse" in markdown


def test_without_pairs_the_summary_says_so():
    runs = hand_made_runs()
    runs = runs[runs["params.formulation"] != "logits_ce"]
    summary = summarize(
        aggregate(runs, KEYS, METRICS), paired_differences(runs, KEYS, METRICS), KEYS, METRICS
    )
    assert set(summary["verdict"]) == {"no reference run"}
    assert terminal_summary(summary, KEYS) == NO_PAIRS
    assert NO_PAIRS.removeprefix("Summary: ") in markdown_summary(summary, KEYS)


def test_settings_are_named_by_the_keys_that_vary_within_their_dataset():
    # digits varies precision and fixes max_samples; breast_cancer has no max_samples and one
    # wiring, logit_bce, which is its own twin: a reference, not a wiring without one
    digits = hand_made_runs().assign(**{"params.data.dataset": "digits", "params.data.max_samples": "200"})
    cancer = digits[digits["params.formulation"] == "logits_ce"].assign(
        **{"params.data.dataset": "breast_cancer", "params.data.max_samples": None},
        **{"params.formulation": "logit_bce", "params.precision": "float32"},
    )
    runs = pd.concat([digits, cancer.assign(run_id=cancer["run_id"] + "-bc")], ignore_index=True)
    keys = ["data.dataset", "data.max_samples", *KEYS]
    summary = summarize(
        aggregate(runs, keys, METRICS), paired_differences(runs, keys, METRICS), keys, METRICS
    )
    assert [heading for heading, _ in sections(summary, keys)] == [
        "breast_cancer",
        "digits · precision = float32",
        "digits · precision = mixed_float16",
    ]
    assert summary.loc[summary["formulation"] == "logit_bce", "verdict"].tolist() == [REFERENCE]
    lines = terminal_summary(summary, keys).splitlines()
    assert lines[1:4] == [
        "  digits · precision = float32 — ≈ 0 (float rounding): log_softmax_nll; identical: softmax_ce",
        "  digits · precision = mixed_float16 — NaN/Inf events: log_softmax_nll; differs: softmax_ce; no",
        "      detectable difference: log_softmax_nll",
    ]


def test_runs_with_nan_events_are_named_whatever_the_verdict():
    # one of three log_softmax_nll runs under mixed_float16 met non-finite batches; its metrics
    # show no detectable difference, and the summary still says so in every rendering
    summary = hand_made_summary()
    notes = dict(zip(summary["formulation"] + " " + summary["precision"], summary["non_finite"], strict=True))
    assert notes["log_softmax_nll mixed_float16"] == "NaN/Inf events in 1 of 3 runs"
    assert {note for name, note in notes.items() if name != "log_softmax_nll mixed_float16"} == {""}
    lines = terminal_summary(summary, KEYS).splitlines()
    at = lines.index("  log_softmax_nll  log_probabilities      no detectable difference vs logits_ce (n=3)")
    assert lines[at + 1] == "      NaN/Inf events in 1 of 3 runs"
    assert "| **NaN/Inf events in 1 of 3 runs**<br>test_loss " in markdown_summary(summary, KEYS)


def test_markdown_cells_escape_the_pipes_of_abs():
    markdown = markdown_summary(hand_made_summary(), KEYS)
    assert "within float rounding (\\|Δ\\| ≤ 2e-09): test_loss" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| log_softmax_nll | log_prob"))
    assert row.replace("\\|", "").count("|") == 7  # six columns


def test_a_wiring_with_a_loss_finite_on_one_side_only_differs_without_a_direction():
    runs = hand_made_runs()
    runs.loc[runs["run_id"] == "softmax_ce-float32-2", "metrics.test_loss"] = float("inf")
    summary = summarize(
        aggregate(runs, KEYS, METRICS), paired_differences(runs, KEYS, METRICS), KEYS, METRICS
    )
    row = summary.set_index(["formulation", "precision"]).loc[("softmax_ce", "float32")]
    assert row["verdict"] == Difference.DIFFERS
    (loss,) = row["effects"]
    assert loss.text == "+0 [+0, +0]; 1 pair finite on one side only" and loss.direction == ""
