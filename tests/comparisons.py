"""Comparisons made by hand (no store, no training), for the summary, page and output tests."""

import pandas as pd

from kerasce.analyze.comparison import aggregate, display_table
from kerasce.analyze.paired import display_paired, paired_differences
from kerasce.analyze.summary import summarize
from kerasce.api import Comparison

KEYS = ["formulation", "precision"]
METRICS = ["test_loss", "test_ece"]
LOSS = [0.20, 0.25, 0.30]
ECE = [0.05, 0.06, 0.07]
PATHS = {
    ("logits_ce", "float32"): "fused_logits",
    ("softmax_ce", "float32"): "recovered_logits",
    ("log_softmax_nll", "float32"): "log_probabilities",
    ("logits_ce", "mixed_float16"): "fused_logits",
    ("softmax_ce", "mixed_float16"): "clipped_probabilities",
    ("log_softmax_nll", "mixed_float16"): "log_probabilities",
}
# per cell: what is added to the reference's loss and ECE on seeds 0, 1, 2
SHIFTS = {
    ("softmax_ce", "float32"): ([0, 0, 0], [0, 0, 0]),  # identical
    ("log_softmax_nll", "float32"): ([1e-9, -2e-9, 0], [0, 0, 0]),  # float rounding
    ("softmax_ce", "mixed_float16"): ([0.010, 0.012, 0.011], [0.001, -0.002, 0.0005]),  # loss differs
    ("log_softmax_nll", "mixed_float16"): ([0.01, -0.02, 0.005], [0, 0, 0]),  # nothing detectable
}

# non-finite batches of a run: one seed of log_softmax_nll under mixed_float16 (beside no effect)
NON_FINITE = {("log_softmax_nll", "mixed_float16", 1): 2}


def hand_made_runs() -> pd.DataFrame:
    rows = []
    for (formulation, precision), path in PATHS.items():
        loss_shift, ece_shift = SHIFTS.get((formulation, precision), ([0] * 3, [0] * 3))
        for seed in range(3):
            rows.append(
                {
                    "run_id": f"{formulation}-{precision}-{seed}",
                    "params.formulation": formulation,
                    "params.precision": precision,
                    "params.seed": str(seed),
                    "tags.kerasce.loss_path": path,
                    "metrics.nan_event_count": float(NON_FINITE.get((formulation, precision, seed), 0)),
                    "metrics.test_loss": LOSS[seed] + loss_shift[seed],
                    "metrics.test_ece": ECE[seed] + ece_shift[seed],
                }
            )
    return pd.DataFrame(rows)


def hand_made_summary() -> pd.DataFrame:
    runs = hand_made_runs()
    return summarize(aggregate(runs, KEYS, METRICS), paired_differences(runs, KEYS, METRICS), KEYS, METRICS)


def hand_made_comparison(runs: pd.DataFrame | None = None, images: dict | None = None) -> Comparison:
    """A Comparison of hand_made_runs() (or `runs`), as kerasce.api.compare builds one."""
    from kerasce.analyze.outputs import comparison_texts

    runs = hand_made_runs() if runs is None else runs
    table = aggregate(runs, KEYS, METRICS)
    paired = paired_differences(runs, KEYS, METRICS)
    comparison = Comparison(
        title="hand-made: 18 runs in 6 groups",
        group_keys=KEYS,
        table=table,
        shown=display_table(table, KEYS, METRICS),
        notes=["a note"],
        images=images or {},
        paired=paired,
        paired_shown=display_paired(paired, KEYS, METRICS),
        summary=summarize(table, paired, KEYS, METRICS),
        metrics=METRICS,
    )
    comparison.texts = comparison_texts(comparison)
    return comparison
