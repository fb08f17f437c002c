"""Curves of differences: each wiring's validation loss (per epoch) and interpolated precision (per
recall) minus its reference's on the same seed, with the mean and 95% interval over seeds, and
drawn as one figure per dataset faceted by the other grid keys (precision, backend, logit scale...).

A wiring whose every pair has the same curve as its reference (identical, or within the rounding
tolerance of analyze/tolerance.py) is not drawn: the figure lists it as identical. Points finite on
one side only (an infinite validation loss, a run that stopped early) have no difference to draw:
the panel names the wirings that have them.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kerasce.analyze.comparison import COMPARISON_DPI, RECALL_GRID, RunCurves, grouped_runs
from kerasce.analyze.comparison_figures import difference_figure
from kerasce.analyze.paired import DATASET_KEY, PAIR_KEY, facet_keys, paired_runs, varying_keys
from kerasce.analyze.tolerance import Difference, metric_scale, one_sided, zero_class
from kerasce.evaluate.run_figures import png_bytes

LOSS, PR = "loss", "precision"  # the two curves: validation loss per epoch, precision per recall
FIGURE_SUFFIX = "differences.png"


@dataclass(frozen=True)
class CurveDifference:
    """One wiring's curve minus its reference's, over the seeds of one setting."""

    formulation: str
    reference: str
    x: np.ndarray  # epochs or recall levels
    mean: np.ndarray
    low: np.ndarray  # 95% t-interval; NaN where fewer than two pairs have the point
    high: np.ndarray
    n_pairs: int
    zero: Difference | None  # IDENTICAL or ROUNDING when nothing is worth drawing
    one_sided: int = 0  # pairs with a point finite on one side only (left out there, listed on the panel)


def loss_matrix(curves: dict[str, RunCurves], run_ids) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, runs x epochs) of validation loss; NaN after a run's last epoch (a run may stop)."""
    table = pd.concat([curves[r].loss.rename(i) for i, r in enumerate(run_ids)], axis=1).sort_index()
    return table.index.to_numpy(float), table.to_numpy(float).T


def precision_matrix(curves: dict[str, RunCurves], run_ids) -> tuple[np.ndarray, np.ndarray]:
    return RECALL_GRID, np.array([curves[r].precision for r in run_ids], dtype=float)


CURVES = {LOSS: loss_matrix, PR: precision_matrix}


def pointwise_interval(differences: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: mean over the finite rows and its 95% t-interval (NaN with fewer than two)."""
    finite = np.isfinite(differences)
    n = finite.sum(axis=0)
    filled = np.where(finite, differences, 0.0)
    mean = np.divide(filled.sum(axis=0), n, out=np.full(n.shape, np.nan), where=n > 0)
    squares = np.where(finite, (differences - mean) ** 2, 0.0).sum(axis=0)
    std = np.sqrt(np.divide(squares, n - 1, out=np.full(n.shape, np.nan), where=n > 1))
    t = np.array([stats.t.ppf(0.975, k - 1) if k > 1 else math.nan for k in n])
    half = t * std / np.sqrt(np.maximum(n, 1))
    return mean, mean - half, mean + half


def curve_difference(curves, pairs: pd.DataFrame, kind: str) -> CurveDifference:
    """The difference curve of one group of pairs (runs of one wiring in one setting)."""
    n = len(pairs)
    x, values = CURVES[kind](curves, [*pairs["run_id"], *pairs["partner_id"]])  # one epoch axis for both
    runs, references = values[:n], values[n:]
    differences = runs - references
    mean, low, high = pointwise_interval(differences)
    mismatched = one_sided(runs, references)
    return CurveDifference(
        pairs["params.formulation"].iloc[0],
        "/".join(sorted(pairs["reference"].unique())),
        x,
        mean,
        low,
        high,
        n,
        None if mismatched else zero_class(differences, metric_scale(references)),
        mismatched,
    )


def differences_by_setting(curves, runs: pd.DataFrame, group_keys: list[str], reference: str) -> dict:
    """{dataset: {setting (tuple of (key, value)): {kind: [CurveDifference per wiring]}}}."""
    pairs = paired_runs(runs, reference)
    found: dict = {}
    if pairs.empty:
        return found
    for (dataset,), in_dataset in grouped_runs(pairs, [DATASET_KEY]):
        facets = varying_keys(in_dataset, facet_keys(group_keys), prefix="params.")
        for values, in_setting in grouped_runs(in_dataset, facets):
            setting = tuple(zip(facets, values, strict=True))
            panel = found.setdefault(str(dataset), {}).setdefault(setting, {LOSS: [], PR: []})
            for _, group in grouped_runs(in_setting, [PAIR_KEY]):
                for kind in (LOSS, PR):
                    panel[kind].append(curve_difference(curves, group, kind))
    return found


def difference_figures(curves, runs: pd.DataFrame, group_keys: list[str], reference: str) -> dict:
    """{'<dataset>_differences.png': PNG bytes} for every dataset with pairs."""
    images = {}
    for dataset, settings in differences_by_setting(curves, runs, group_keys, reference).items():
        figure = difference_figure(settings, f"{dataset}: each wiring minus its reference, same seeds")
        images[f"{dataset}_{FIGURE_SUFFIX}"] = png_bytes(figure, dpi=COMPARISON_DPI)
    return images
