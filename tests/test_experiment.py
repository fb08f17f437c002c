"""End to end: the real CLI into a temporary SQLite store, read back through MLflow's public API."""

import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from kerasce.experiment import main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.toml"
ARTIFACTS = [
    "config.json",
    "history.csv",
    "nan_events.csv",
    "pr_curve.csv",
    "pr_curve.png",
    "reliability.csv",
    "reliability.png",
    "test_predictions.csv",
]


def cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "kerasce.experiment", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def store(tmp_path):
    return f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"


def child_runs(uri, experiment):
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="pandas")
    return runs[runs["tags.kerasce.kind"] == "cell"].set_index("tags.mlflow.runName")


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("smoke")
    result = cli("--config", SMOKE, "--tracking-uri", store(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    return store(tmp_path), result


@pytest.mark.slow
def test_smoke_grid_has_one_finished_run_per_cell_under_a_parent(smoke_store):
    uri, result = smoke_store
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["smoke"], output_format="pandas")
    cells, parents = runs[runs["tags.kerasce.kind"] == "cell"], runs[runs["tags.kerasce.kind"] == "grid"]
    assert len(parents) == 1 and len(cells) == 4
    assert set(runs["status"]) == {"FINISHED"}
    assert set(cells["tags.mlflow.parentRunId"]) == set(parents["run_id"])
    assert "digits / logits_ce / mixed_float16 / seed 0" in set(cells["tags.mlflow.runName"])
    assert "4 of 4 runs finished" in result.stdout
    experiment_id = mlflow.get_experiment_by_name("smoke").experiment_id
    link = f"Runs: http://127.0.0.1:5000/#/experiments/{experiment_id}?workflowType=machine_learning"
    assert link in result.stdout and "python -m kerasce.ui --tracking-uri" in result.stdout
    assert "Traceback" not in result.stderr  # workers exit on their own after their last cell
    # a quiet console: no TensorFlow/absl C++ lines, no MLflow table-creation notices
    assert not re.search(
        r"^[EIW]0000 |absl::InitializeLog|cuInit|Creating initial MLflow", result.stderr, re.M
    )


@pytest.mark.slow
def test_params_tags_and_loss_paths(smoke_store):
    cells = child_runs(smoke_store[0], "smoke")
    row = cells.loc["digits / softmax_ce / float32 / seed 0"]
    assert row["params.train.epochs"] == "2" and row["params.formulation.head_units"] == "10"
    assert row["params.formulation.from_logits"] == "False" and row["params.dataset.n_test"] == "60"
    for tag in [
        "dataset_fingerprint",
        "cell_hash",
        "version.tensorflow",
        "version.keras",
        "version.mlflow",
        "version.numpy",
        "version.python",
        "keras_backend",
        "onednn",
        "deterministic",
        "git_commit",
    ]:
        assert row[f"tags.kerasce.{tag}"], tag
    assert row["tags.kerasce.nan_status"] == "none"
    assert row["tags.kerasce.loss_path"] == "recovered_logits"
    assert (
        cells.loc["digits / softmax_ce / mixed_float16 / seed 0", "tags.kerasce.loss_path"]
        == "clipped_probabilities"
    )
    assert (
        cells.loc["digits / logits_ce / mixed_float16 / seed 0", "tags.kerasce.loss_path"] == "fused_logits"
    )
    assert cells["tags.kerasce.cell_hash"].nunique() == 4


@pytest.mark.slow
def test_metric_histories_have_one_point_per_epoch(smoke_store):
    uri = smoke_store[0]
    client = MlflowClient(uri)
    run_id = child_runs(uri, "smoke").loc["digits / logits_ce / float32 / seed 0", "run_id"]
    for key in [
        "loss",
        "val_loss",
        "accuracy",
        "val_accuracy",
        "val_average_precision",
        "clip_saturation_rate",
        "max_abs_logit",
        "grad_norm",
        "nonfinite_batches",
    ]:
        assert [m.step for m in client.get_metric_history(run_id, key)] == [0, 1], key
    metrics = client.get_run(run_id).data.metrics
    assert metrics["ln_num_classes"] == pytest.approx(math.log(10))
    for key in [
        "initial_loss",
        "test_loss",
        "test_accuracy",
        "test_average_precision_macro",
        "test_average_precision_micro",
        "test_ece",
        "test_brier",
        "test_nll",
        "nan_event_count",
    ]:
        assert math.isfinite(metrics[key]), key


@pytest.mark.slow
def test_artifacts_exist_and_parse(smoke_store, tmp_path):
    uri = smoke_store[0]
    client = MlflowClient(uri)
    run_id = child_runs(uri, "smoke").loc["digits / softmax_ce / float32 / seed 0", "run_id"]
    assert {a.path for a in client.list_artifacts(run_id)} >= set(ARTIFACTS)
    local = Path(client.download_artifacts(run_id, "", str(tmp_path)))
    assert json.loads((local / "config.json").read_text())["formulation"] == "softmax_ce"
    assert len(pd.read_csv(local / "history.csv")) == 2
    assert list(pd.read_csv(local / "pr_curve.csv").columns) == ["class", "threshold", "precision", "recall"]
    assert len(pd.read_csv(local / "reliability.csv")) == 15
    assert pd.read_csv(local / "nan_events.csv").empty
    predictions = pd.read_csv(local / "test_predictions.csv")
    assert predictions.shape == (60, 11)
    np.testing.assert_allclose(predictions.filter(like="p_").sum(axis=1), 1.0, rtol=1e-6)
    for figure in ("pr_curve.png", "reliability.png"):
        assert (local / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_naive_cell_records_nan_events_and_stops_while_others_are_unaffected(tmp_path):
    uri = store(tmp_path)
    result = cli(
        "--config",
        SMOKE,
        "--tracking-uri",
        uri,
        "--quiet",
        "--set",
        "grid.formulation=['naive_softmax_ce', 'logits_ce']",
        "--set",
        "grid.precision=['float32']",
        "--set",
        "model.logit_scale=100.0",
        "--set",
        "train.epochs=3",
        "--jobs",
        "1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    cells = child_runs(uri, "smoke")
    naive = cells.loc["digits / naive_softmax_ce / float32 / seed 0"]
    stable = cells.loc["digits / logits_ce / float32 / seed 0"]
    assert naive["status"] == "FINISHED" and naive["tags.kerasce.nan_status"] == "stopped"
    assert naive["metrics.nan_event_count"] > 0 and naive["metrics.first_nan_step"] == 0
    assert naive["metrics.epochs_completed"] == 1 and naive["tags.kerasce.loss_path"] == "naive"
    events = pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"runs:/{naive['run_id']}/nan_events.csv")))
    assert len(events) == naive["metrics.nan_event_count"] and set(events["nonfinite"]) <= {
        "loss",
        "gradient",
    }
    assert stable["tags.kerasce.nan_status"] == "none" and stable["metrics.epochs_completed"] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "absent.toml"], "config file not found"),
        (["--set", "train.epochs=0"], "train.epochs: 0 must be greater than 0"),
        (["--set", "train.epochs=ten"], "train.epochs: expected an integer"),
        (["--set", "trian.epochs=3"], "trian"),
        (["--set", "grid.formulation=['softmax']"], "formulation: 'softmax'"),
        (["--set", "grid.formulation=['logit_bce']"], "single-unit binary head.*10 classes"),
        (
            ["--set", "data.dataset=csv", "--set", "data.path='absent.csv'", "--set", "data.label_column=y"],
            "file not found: absent.csv",
        ),
        (["--set", "grid.seed=[]"], "non-empty list"),
        (["--tracking-uri", "runs_folder"], "names a folder.*sqlite:///runs_folder/mlflow.db"),
        (["--tracking-uri", "ftp://host/x"], "scheme: 'ftp' is not valid"),
        (["--tracking-uri", "sqlite:////proc/kerasce/mlflow.db"], "cannot create the store /proc/kerasce"),
        (["--set", "seed=4294967296"], "below 2\\*\\*32"),
    ],
)
def test_bad_input_is_one_clear_error_and_leaves_no_store(tmp_path, capsys, args, message):
    uri = store(tmp_path)
    code = main(["--config", str(SMOKE), "--tracking-uri", uri, *args])
    assert code == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "store").exists()


def test_malformed_toml_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[grid\nseed = [0]\n")
    assert main(["--config", str(bad), "--tracking-uri", store(tmp_path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_dry_run_and_list_formulations_train_nothing(tmp_path, capsys):
    assert main(["--config", str(SMOKE), "--tracking-uri", store(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 runs" in out and "digits / softmax_ce / mixed_float16 / seed 0" in out
    assert not (tmp_path / "store").exists()
    assert main(["--list-formulations"]) == 0
    assert "naive_softmax_ce" in capsys.readouterr().out


def test_help_explains_and_shows_an_example():
    result = subprocess.run(
        [sys.executable, "-m", "kerasce.experiment", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    for word in ["--config", "--set", "--tracking-uri", "--dry-run", "--list-formulations", "examples:"]:
        assert word in result.stdout


@pytest.mark.slow
def test_a_grid_with_a_body_starts_without_tensorflows_start_up_lines():
    result = cli("--config", "experiments/cnn_digits.toml", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
