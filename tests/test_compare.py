"""Comparison over a small grid of real runs in a temporary store."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from scipy import stats

from kerasce.compare import aggregate, default_group_keys, finished_cells, interpolated_precision, main
from kerasce.config import expand_grid, parse_config
from kerasce.runner import load_datasets, run_grid
from kerasce.tracking import StoreReader, Tracker


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """digits x {softmax_ce, logits_ce} x seeds {0, 1}, plus breast_cancer x logit_bce x seeds {0, 1}."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('compare') / 'mlflow.db'}"
    config, grid = parse_config(
        {
            "name": "cmp",
            "model": {"hidden_units": [8]},
            "train": {"epochs": 2},
            "grid": [
                {
                    "data.dataset": ["digits"],
                    "data.max_samples": [200],
                    "formulation": ["softmax_ce", "logits_ce"],
                    "seed": [0, 1],
                },
                {"data.dataset": ["breast_cancer"], "formulation": ["logit_bce"], "seed": [0, 1]},
            ],
        }
    )
    specs = expand_grid(config, grid)
    run_grid(specs, load_datasets(specs), Tracker(uri, "cmp"), config, quiet=True)
    Tracker(uri, "empty")  # an experiment with no runs
    return uri


def runs_of(uri):
    return finished_cells(StoreReader(uri).runs(["cmp"]))


def test_default_grouping_is_every_grid_key_but_the_seed(store):
    assert default_group_keys(runs_of(store)) == ["data.dataset", "data.max_samples", "formulation"]


def test_aggregates_match_values_computed_by_hand(store):
    runs = runs_of(store)
    table = aggregate(runs, ["data.dataset", "formulation"], ["test_loss"])
    client = MlflowClient(store)
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
        assert stats.t.ppf(0.975, 1) == pytest.approx(12.706204736)
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


@pytest.mark.parametrize("fmt", ["csv", "markdown", "html"])
def test_every_format_is_written_and_parses(store, tmp_path, capsys, fmt):
    code = main(
        [
            "--experiment",
            "cmp",
            "--tracking-uri",
            store,
            "--format",
            fmt,
            "--output",
            str(tmp_path),
            "--no-log",
        ]
    )
    assert code == 0
    assert "recovered_logits" in capsys.readouterr().out
    if fmt == "csv":
        table = pd.read_csv(tmp_path / "comparison.csv")
        assert len(table) == 3 and {"test_loss_mean", "test_loss_ci_low", "nan_rate"} <= set(table.columns)
    elif fmt == "markdown":
        lines = (tmp_path / "comparison.md").read_text().splitlines()
        assert len(lines) == 5 and all(line.startswith("|") for line in lines)
    else:
        page = (tmp_path / "comparison.html").read_text()
        assert page.startswith("<!doctype html>") and "<table" in page
        sources = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
        assert "http" not in "".join(sources) and "<script" not in page and "<link" not in page
    for figure in ("digits_pr_curves.png", "digits_reliability.png", "breast_cancer_loss_curves.png"):
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG"


def test_the_comparison_is_logged_as_a_run(store, capsys):
    assert main(["--experiment", "cmp", "--tracking-uri", store, "--no-figures"]) == 0
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("cmp").experiment_id
    logged = [r for r in client.search_runs([experiment]) if r.data.tags.get("kerasce.kind") == "comparison"]
    assert len(logged) == 1
    assert {"comparison.csv", "comparison.md", "comparison.html"} <= {
        a.path for a in client.list_artifacts(logged[0].info.run_id)
    }
    # a second comparison ignores the first one's run
    assert main(["--experiment", "cmp", "--tracking-uri", store, "--no-figures", "--no-log"]) == 0
    assert "6 runs in 3 groups" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--experiment", "empty"], "no finished kerasce runs"),
        (["--experiment", "nowhere"], "no experiment named 'nowhere'.*cmp"),
        (
            ["--experiment", "cmp", "--metric", "test_happiness"],
            "no run has metric test_happiness.*test_loss",
        ),
        (["--experiment", "cmp", "--group-by", "formulation"], "different datasets.*breast_cancer, digits"),
        (["--experiment", "cmp", "--group-by", "data.dataset,colour"], "'colour' is not a param"),
    ],
)
def test_nothing_to_compare_is_a_message_not_a_traceback(store, capsys, args, message):
    assert main([*args, "--tracking-uri", store, "--no-log", "--no-figures"]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_filter_selects_runs(store, capsys):
    code = main(
        [
            "--experiment",
            "cmp",
            "--tracking-uri",
            store,
            "--no-log",
            "--no-figures",
            "--filter",
            "params.formulation = 'softmax_ce'",
        ]
    )
    assert code == 0 and "2 runs in 1 groups" in capsys.readouterr().out


def test_each_run_has_the_intuition_figures(store):
    client = MlflowClient(store)
    run = runs_of(store).iloc[0]
    names = {a.path for a in client.list_artifacts(run["run_id"])}
    assert {"intuition_logits.png", "intuition_softmax_boxes.png", "intuition_losses.png"} <= names
    assert np.isfinite(run["metrics.initial_loss"])
