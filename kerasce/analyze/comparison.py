"""Comparing runs: grid-cell runs (a DataFrame from the reader) grouped and aggregated into
tables, and their artifacts overlaid into figures.

Runs are grouped by every grid key except the seed (or by --group-by); each metric gets its
mean, standard deviation, number of seeds and a 95% confidence interval (Student's t), beside
the share of runs with NaN events and the loss path the runs took.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kerasce.analyze.comparison_figures import (
    loss_band_figure,
    overlaid_pr_figure,
    overlaid_reliability_figure,
)
from kerasce.analyze.rounding import format_estimate
from kerasce.errors import KerasceError
from kerasce.evaluate.run_figures import png_bytes
from kerasce.tracking.schema import Artifact, Kind, Tag

NOT_GROUPING = {"seed", "name"}  # params that never define a group
DERIVED_PARAMS = ("formulation.", "dataset.")  # params that follow from the config, not choices
RECALL_GRID = np.linspace(0, 1, 101)
COMPARISON_DPI = 100
LOSS_CURVE_METRIC = "val_loss"


class CompareError(KerasceError):
    """Nothing sensible to compare: no runs, an unknown metric, datasets mixed in one group."""


def finished_cells(runs: pd.DataFrame) -> pd.DataFrame:
    """The grid-cell runs that finished (parents, comparisons and failed runs left out)."""
    kind = f"tags.{Tag.KIND}"
    if runs.empty or kind not in runs:
        return runs.iloc[0:0]
    return runs[(runs[kind] == Kind.CELL) & (runs["status"] == "FINISHED")]


def default_group_keys(runs: pd.DataFrame) -> list[str]:
    """Config params that vary between the runs, except the seed: the grid keys."""
    keys = []
    for column in sorted(c for c in runs.columns if c.startswith("params.")):
        key = column.removeprefix("params.")
        if key in NOT_GROUPING or key.startswith(DERIVED_PARAMS):
            continue
        if runs[column].nunique(dropna=False) > 1:
            keys.append(key)
    return keys


def check_comparable(runs: pd.DataFrame, group_keys: list[str], metrics: list[str]) -> list[str]:
    """Raise CompareError for what cannot be compared; returns the metrics present."""
    if runs.empty:
        raise CompareError("no finished kerasce runs to compare (run `python -m kerasce.experiment` first)")
    datasets = sorted(runs.get("params.data.dataset", pd.Series(dtype=str)).dropna().unique())
    if len(datasets) > 1 and "data.dataset" not in group_keys:
        raise CompareError(
            f"runs from different datasets ({', '.join(datasets)}) would be mixed in one group; "
            "add data.dataset to --group-by or select one with "
            "--filter \"params.`data.dataset` = 'NAME'\""
        )
    missing = [key for key in group_keys if f"params.{key}" not in runs]
    if missing:
        raise CompareError(
            f"--group-by {missing[0]!r} is not a param of these runs; params: "
            + ", ".join(sorted(c.removeprefix("params.") for c in runs if c.startswith("params.")))
        )
    present = [m for m in metrics if f"metrics.{m}" in runs and runs[f"metrics.{m}"].notna().any()]
    if not present:
        available = sorted(c.removeprefix("metrics.") for c in runs if c.startswith("metrics."))
        raise CompareError(
            f"no run has metric {', '.join(metrics)}; metrics available: {', '.join(available)}"
        )
    return present


def grouped_runs(runs: pd.DataFrame, group_keys: list[str]):
    """(values tuple, runs) per group of the given params; one group of all runs when there are none.
    Tables and figures group the same way, missing values included."""
    if not group_keys:
        yield (), runs
        return
    for values, group in runs.groupby([f"params.{k}" for k in group_keys], sort=True, dropna=False):
        yield (values if isinstance(values, tuple) else (values,)), group


def aggregate(runs: pd.DataFrame, group_keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per group: n_runs, nan_rate, loss_path, and mean/std/n/ci_low/ci_high per metric."""
    rows = []
    for values, group in grouped_runs(runs, group_keys):
        paths = sorted(group[f"tags.{Tag.LOSS_PATH}"].dropna().unique())
        row = dict(zip(group_keys, values, strict=True))
        row.update(
            n_runs=len(group),
            nan_rate=float((group["metrics.nan_event_count"].fillna(0) > 0).mean()),
            loss_path="/".join(paths),
            paths_differ=len(paths) > 1,
        )
        for metric in metrics:
            row.update(summarize(group.get(f"metrics.{metric}", pd.Series(dtype=float)), metric))
        rows.append(row)
    return pd.DataFrame(rows)


def summarize(values: pd.Series, name: str) -> dict:
    """Mean, std, count and 95% t-interval of the non-missing values."""
    values = values.dropna().astype(float)
    n = len(values)
    mean = values.mean() if n else math.nan
    std = values.std(ddof=1) if n > 1 else math.nan
    half = stats.t.ppf(0.975, n - 1) * std / math.sqrt(n) if n > 1 else math.nan
    return {
        f"{name}_mean": mean,
        f"{name}_std": std,
        f"{name}_n": n,
        f"{name}_ci_low": mean - half,
        f"{name}_ci_high": mean + half,
    }


def display_table(table: pd.DataFrame, group_keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """The aggregate as people read it: `mean ± half-width` per metric, rounded to the digits the
    interval supports; `(n=k)` only where fewer runs than the group's have the metric."""
    shown = table[group_keys + ["n_runs", "nan_rate", "loss_path"]].copy()
    shown["nan_rate"] = [f"{rate:.0%}" for rate in table["nan_rate"]]
    for metric in metrics:
        shown[metric] = [
            shown_estimate(
                row[f"{metric}_mean"],
                row[f"{metric}_ci_high"] - row[f"{metric}_mean"],
                row[f"{metric}_n"],
                row["n_runs"],
            )
            for _, row in table.iterrows()
        ]
    return shown


def shown_estimate(mean: float, half: float, n: int, n_runs: int) -> str:
    if not n:
        return "-"
    return format_estimate(mean, half) + (f" (n={n})" if n != n_runs else "")


def group_label(row, group_keys) -> str:
    return " / ".join(str(row[k]) for k in group_keys) or "all runs"


def interpolated_precision(curve: pd.DataFrame) -> np.ndarray:
    """Precision on RECALL_GRID (the best precision at recall >= r), averaged over the classes."""
    per_class = []
    for _, rows in curve.groupby("class"):
        order = np.argsort(rows["recall"].to_numpy())
        recall, precision = rows["recall"].to_numpy()[order], rows["precision"].to_numpy()[order]
        best_from_here = np.maximum.accumulate(precision[::-1])[::-1]
        index = np.searchsorted(recall, RECALL_GRID, side="left")
        per_class.append(
            np.where(index < len(recall), best_from_here[np.minimum(index, len(recall) - 1)], 0.0)
        )
    return np.mean(per_class, axis=0) if per_class else np.full(len(RECALL_GRID), np.nan)


def pooled_reliability(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Reliability bins pooled over runs: counts added, accuracy and confidence count-weighted."""
    stacked = pd.concat(tables)
    stacked = stacked[stacked["count"] > 0].assign(
        correct=lambda t: t["accuracy"] * t["count"], confident=lambda t: t["mean_confidence"] * t["count"]
    )
    pooled = stacked.groupby("bin")[["count", "correct", "confident"]].sum()
    return pd.DataFrame(
        {
            "count": pooled["count"],
            "accuracy": pooled["correct"] / pooled["count"],
            "mean_confidence": pooled["confident"] / pooled["count"],
        }
    ).reset_index()


@dataclass(frozen=True)
class RunCurves:
    """What the comparison figures read of one run: interpolated precision on RECALL_GRID (NaN when
    its predictions were not finite), the validation loss per epoch, the reliability bins or None."""

    precision: np.ndarray
    loss: pd.Series  # indexed by epoch
    reliability: pd.DataFrame | None


def read_curves(reader, runs: pd.DataFrame, loss_metric: str = LOSS_CURVE_METRIC) -> dict[str, RunCurves]:
    """{run_id: RunCurves}: every run's artifacts read once, for the overlaid and difference figures."""
    curves = {}
    for run_id in runs["run_id"]:
        history = reader.table(run_id, Artifact.HISTORY)
        # a run whose predictions were not finite has no reliability table
        has_reliability = Artifact.RELIABILITY in reader.artifact_paths(run_id)
        reliability = reader.table(run_id, Artifact.RELIABILITY) if has_reliability else None
        curves[run_id] = RunCurves(
            interpolated_precision(reader.table(run_id, Artifact.PR_CURVE)),
            history.set_index("epoch")[loss_metric],
            reliability,
        )
    return curves


def curves_by_group(curves: dict[str, RunCurves], runs: pd.DataFrame, group_keys: list[str]) -> dict:
    """Per group label: mean PR curve, pooled reliability, and loss per epoch (mean, std) over seeds."""
    by_group = {}
    for values, group in grouped_runs(runs, group_keys):
        label = " / ".join(map(str, values)) or "all runs"
        chosen = [curves[run_id] for run_id in group["run_id"]]
        pr = [c.precision for c in chosen]
        reliability = [c.reliability for c in chosen if c.reliability is not None]
        history = (
            (pd.concat([c.loss for c in chosen]).groupby(level=0).agg(["mean", "std", "count"]))
            .rename_axis("epoch")
            .reset_index()
        )
        by_group[label] = {
            # runs whose predictions were not finite have no PR curve
            "precision": np.nanmean(pr, axis=0) if np.isfinite(pr).any() else None,
            "reliability": pooled_reliability(reliability) if reliability else None,
            "loss": history,
        }
    return by_group


def comparison_figures(curves: dict, title: str) -> dict:
    """{file name: Figure} for the overlaid PR, reliability and loss-curve figures."""
    return {
        "pr_curves.png": overlaid_pr_figure(
            RECALL_GRID,
            {k: v["precision"] for k, v in curves.items() if v["precision"] is not None},
            f"Precision-recall, test split: {title}",
        ),
        "reliability.png": overlaid_reliability_figure(
            {k: v["reliability"] for k, v in curves.items()}, f"Reliability, test split: {title}"
        ),
        "loss_curves.png": loss_band_figure(
            {k: v["loss"] for k, v in curves.items()},
            LOSS_CURVE_METRIC,
            f"Validation loss per epoch: {title}",
        ),
    }


def figures_per_dataset(
    reader, runs: pd.DataFrame, group_keys: list[str], curves: dict | None = None
) -> dict:
    """{file name: PNG bytes}: one set of overlaid figures per dataset, so axes never mix datasets.
    `curves` (from read_curves) saves reading the artifacts again."""
    curves = read_curves(reader, runs) if curves is None else curves
    keys = [k for k in group_keys if k != "data.dataset"]
    images = {}
    for dataset, subset in runs.groupby("params.data.dataset"):
        by_group = curves_by_group(curves, subset, keys)
        for name, figure in comparison_figures(by_group, str(dataset)).items():
            images[f"{dataset}_{name}"] = png_bytes(figure, dpi=COMPARISON_DPI)
    return images
