"""Grouping and aggregation over the shared store of finished runs, and curve maths by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from kerasce.analyze.comparison import aggregate, default_group_keys, finished_cells, interpolated_precision
from kerasce.tracking.reader import StoreReader


def runs_of(uri):
    return finished_cells(StoreReader(uri).runs(["cmp"]))


@pytest.mark.slow
def test_default_grouping_is_every_grid_key_but_the_seed(finished_store):
    assert default_group_keys(runs_of(finished_store)) == ["data.dataset", "data.max_samples", "formulation"]


@pytest.mark.slow
def test_aggregates_match_values_computed_by_hand(finished_store):
    runs = runs_of(finished_store)
    table = aggregate(runs, ["data.dataset", "formulation"], ["test_loss"])
    client = MlflowClient(finished_store)
    by_hand = {}
    for run in client.search_runs([client.get_experiment_by_name("cmp").experiment_id]):
        if run.data.tags.get("kerasce.kind") == "cell":
            key = (run.data.params["data.dataset"], run.data.params["formulation"])
            by_hand.setdefault(key, []).append(run.data.metrics["test_loss"])
    assert len(table) == 3
    for _, row in table.iterrows():
        values = by_hand[(row["data.dataset"], row["formulation"])]
        mean, std = sum(values) / 2, math.sqrt(sum((v - sum(values) / 2) ** 2 for v in values))  # n - 1 = 1
        half = 12.706204736 * std / math.sqrt(2)  # t(0.975, 1 dof)
        assert row["test_loss_n"] == 2 and row["n_runs"] == 2
        assert row["test_loss_mean"] == pytest.approx(mean)
        assert row["test_loss_std"] == pytest.approx(std)
        assert row["test_loss_ci_high"] == pytest.approx(mean + half)
    paths = dict(zip(table["formulation"], table["loss_path"], strict=True))
    assert paths == {
        "softmax_ce": "recovered_logits",
        "logits_ce": "fused_logits",
        "logit_bce": "fused_logits",
    }
    assert (table["nan_rate"] == 0).all()


def test_interpolated_precision_by_hand():
    curve = pd.DataFrame({"class": "a", "recall": [1.0, 0.5, 0.5, 0.0], "precision": [0.5, 0.5, 1.0, 1.0]})
    precision = interpolated_precision(curve)
    assert precision[0] == 1.0 and precision[50] == 1.0 and precision[51] == 0.5 and precision[-1] == 0.5


@pytest.mark.slow
def test_each_cell_group_has_the_intuition_figures_and_each_run_its_own_curves(finished_store):
    client = MlflowClient(finished_store)
    intuition = {"intuition_logits.png", "intuition_softmax_boxes.png", "intuition_losses.png"}
    for _, run in runs_of(finished_store).iterrows():
        names = {a.path for a in client.list_artifacts(run["run_id"])}
        assert {"pr_curve.png", "reliability.png"} <= names
        assert (intuition <= names) == (run["params.seed"] == "0")  # the first seed draws its group's
        assert np.isfinite(run["metrics.initial_loss"])
