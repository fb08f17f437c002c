"""Paired comparisons: every wiring against a reference wiring trained on the same seed, data split
and initial weights, so the per-seed difference removes what the seed alone does.

For each run of a compared wiring, its partner is the reference run that agrees on every other
grid key and the seed. Per group: the mean difference (run minus reference), its 95% t-interval,
the Wilcoxon signed-rank p-value (exact for small n), whether every pair was identical, and the
class of the difference by the tolerance rule (analyze/tolerance.py).
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from kerasce.analyze.comparison import CompareError, default_group_keys, grouped_runs
from kerasce.analyze.rounding import format_interval, rounded
from kerasce.analyze.tolerance import Difference, classify, metric_scale, one_sided
from kerasce.config.formulations import FORMULATIONS, logit_twin
from kerasce.errors import choices_message

TWIN = "twin"  # each wiring against its from-logits twin: logits_ce or logit_bce
PAIR_KEY = "formulation"
DATASET_KEY = "data.dataset"


def facet_keys(group_keys: list[str]) -> list[str]:
    """The grid keys that make a setting: every group key but the dataset and the wiring."""
    return [k for k in group_keys if k not in (DATASET_KEY, PAIR_KEY)]


def varying_keys(frame: pd.DataFrame, keys: list[str], prefix: str = "") -> list[str]:
    """The keys that take more than one value in `frame` (a missing value counts as one): within a
    dataset, a key of another dataset's grid (all missing) or one held fixed tells no setting apart."""
    return [k for k in keys if prefix + k in frame and frame[prefix + k].nunique(dropna=False) > 1]


def reference_of(formulation: str, reference: str) -> str:
    if reference == TWIN:
        return logit_twin(formulation) if formulation in FORMULATIONS else formulation
    return reference


def paired_runs(runs: pd.DataFrame, reference: str = TWIN) -> pd.DataFrame:
    """The runs that have a reference partner, each with `partner_id` (its partner's run_id) and
    `reference` (the partner's wiring). Raises CompareError when partners are ambiguous."""
    if reference != TWIN and reference not in FORMULATIONS:
        raise CompareError(choices_message("--reference", reference, [TWIN, *FORMULATIONS]))
    keys = [f"params.{k}" for k in default_group_keys(runs) if k != PAIR_KEY] + ["params.seed"]
    formulation = runs[f"params.{PAIR_KEY}"]
    runs = runs.assign(reference=[reference_of(f, reference) for f in formulation])
    compared = runs[runs["reference"] != formulation]
    references = runs[formulation.isin(set(compared["reference"]))][keys + ["params.formulation", "run_id"]]
    duplicated = references.duplicated(keys + ["params.formulation"])
    if duplicated.any():
        raise CompareError(
            "runs cannot be paired: several reference runs share one cell and seed "
            f"({references[duplicated].iloc[0]['params.formulation']}); select one with --filter"
        )
    merged = compared.merge(
        references.rename(columns={"run_id": "partner_id", "params.formulation": "reference"}),
        on=keys + ["reference"],
        how="inner",
    )
    return merged


SUMMARY_COLUMNS = (
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
    "diff_n",
    "diff_p",
    "diff_max_abs",
    "diff_one_sided",
    "identical",
    "scale",
    "difference",
)


def paired_differences(runs: pd.DataFrame, group_keys: list[str], metrics: list[str], reference=TWIN):
    """One row per group of compared runs: the reference, n_pairs, and per metric the mean
    difference with its interval, p-value, whether all pairs were identical, the metric's scale
    and the class of the difference. Without pairs: no rows, the same columns."""
    pairs = paired_runs(runs, reference)
    if pairs.empty:
        return empty_paired(group_keys, metrics)
    values = runs.set_index("run_id")
    rows = []
    for group_values, group in grouped_runs(pairs, group_keys):
        row = dict(zip(group_keys, group_values, strict=True))
        row.update(reference="/".join(sorted(group["reference"].unique())), n_pairs=len(group))
        for metric in metrics:
            column = f"metrics.{metric}"
            if column not in values:
                continue
            partner = values.loc[group["partner_id"], column].to_numpy(float)
            own = group[column].to_numpy(float)
            summary = summarize_differences(
                own - partner, metric, metric_scale(partner), one_sided(own, partner)
            )
            row.update(summary)
        rows.append(row)
    return pd.DataFrame(rows)


def empty_paired(group_keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """The paired table without rows: its CSV is a header that pandas reads back."""
    columns = [*group_keys, "reference", "n_pairs"]
    columns += [f"{metric}_{suffix}" for metric in metrics for suffix in SUMMARY_COLUMNS]
    return pd.DataFrame(columns=columns)


def summarize_differences(
    difference: np.ndarray, name: str, scale: float = 0.0, one_sided_pairs: int = 0
) -> dict:
    """Mean, 95% t-interval, Wilcoxon p, identity and class of paired differences (NaN pairs
    dropped); `scale` is the metric's scale the rounding tolerance is relative to;
    `one_sided_pairs` the pairs dropped because one side only was finite (they make it differ)."""
    difference = difference[np.isfinite(difference)]
    n = len(difference)
    mean = float(difference.mean()) if n else math.nan
    half = stats.t.ppf(0.975, n - 1) * difference.std(ddof=1) / math.sqrt(n) if n > 1 else math.nan
    return {
        f"{name}_diff_mean": mean,
        f"{name}_diff_ci_low": mean - half,
        f"{name}_diff_ci_high": mean + half,
        f"{name}_diff_n": n,
        f"{name}_diff_p": wilcoxon_p(difference),
        f"{name}_diff_max_abs": float(np.abs(difference).max()) if n else math.nan,
        f"{name}_diff_one_sided": one_sided_pairs,
        f"{name}_identical": bool(n) and not one_sided_pairs and bool(np.all(difference == 0)),
        f"{name}_scale": scale,
        f"{name}_difference": str(classify(difference, scale, mean - half, mean + half, one_sided_pairs)),
    }


def wilcoxon_p(difference: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value; 1 when every difference is zero, NaN without pairs."""
    nonzero = difference[difference != 0]
    if not len(difference):
        return math.nan
    if not len(nonzero):
        return 1.0
    return float(stats.wilcoxon(nonzero, alternative="two-sided").pvalue)


def difference_verdict(row, metric: str) -> Difference:
    """The class of a metric's difference: the tolerance rule's when the row has it, else from
    the identity and the interval alone (identical, differs, no detectable difference)."""
    if isinstance(row.get(f"{metric}_difference"), str):
        return Difference(row[f"{metric}_difference"])
    if row.get(f"{metric}_identical"):
        return Difference.IDENTICAL
    low, high = row[f"{metric}_diff_ci_low"], row[f"{metric}_diff_ci_high"]
    if math.isnan(low):
        return Difference.TOO_FEW
    return Difference.DIFFERS if low > 0 or high < 0 else Difference.NOT_DETECTED


def format_difference(row, metric: str) -> str:
    """'+0.0123 [-0.004, +0.029] (n=5, p=0.31)' or 'identical (n=5)'."""
    n = row.get(f"{metric}_diff_n", 0)
    if not n:
        return "-"
    if row[f"{metric}_identical"]:
        return f"identical (n={n})"
    mean, low, high = (row[f"{metric}_diff_{k}"] for k in ("mean", "ci_low", "ci_high"))
    interval = "" if math.isnan(low) else f" [{low:+.3g}, {high:+.3g}]"
    return f"{mean:+.4g}{interval} (n={n}, p={row[f'{metric}_diff_p']:.2g})"


def metric_has_pairs(row, metric: str) -> bool:
    """Whether any pair has the metric: finite on both sides, or on one side only."""
    return bool(row.get(f"{metric}_diff_n", 0) or row.get(f"{metric}_diff_one_sided", 0))


def one_sided_note(row, metric: str) -> str:
    """'1 pair finite on one side only' (left out of the mean), or ''."""
    count = row.get(f"{metric}_diff_one_sided", 0)
    return f"{count} pair{'s' * (count > 1)} finite on one side only" if count else ""


def shown_difference(row, metric: str) -> str:
    """A paired cell as people read it: 'identical', '≈ 0 (float rounding)', or the difference
    and its interval rounded to the digits the interval supports, with the pairs finite on one
    side only; '-' without pairs."""
    if not metric_has_pairs(row, metric):
        return "-"
    verdict = difference_verdict(row, metric)
    if verdict.is_zero:
        return str(verdict)
    mean, low, high = (row[f"{metric}_diff_{k}"] for k in ("mean", "ci_low", "ci_high"))
    if verdict == Difference.TOO_FEW or (row[f"{metric}_diff_n"] == 1):
        shown = f"{rounded(mean, sign=True)} (1 pair)"
    else:
        shown = format_interval(mean, low, high)
    note = one_sided_note(row, metric)
    return "; ".join(part for part in (shown if math.isfinite(mean) else "", note) if part)


def display_paired(table: pd.DataFrame, group_keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """The paired table as people read it: one `difference [interval]` column per metric."""
    if table.empty:
        return table
    shown = table[group_keys + ["reference", "n_pairs"]].copy()
    for metric in metrics:
        if f"{metric}_diff_n" in table:
            shown[f"Δ {metric}"] = [shown_difference(row, metric) for _, row in table.iterrows()]
    return shown
