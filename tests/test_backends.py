"""End to end on two Keras backends: one grid, cells of each backend in workers started with that
backend, read back through MLflow. The loss path is measured on each: TensorFlow recovers a
softmax head's logits in float32, JAX does not."""

import subprocess
import sys

import mlflow
import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow

GRID = """
name = "two-backends"
[data]
dataset = "digits"
max_samples = 200
[model]
hidden_units = [8]
[train]
epochs = 1
figures = false

[[grid]]
formulation = ["softmax_ce", "logits_ce"]
backend = ["tensorflow", "jax"]

[[grid]]
formulation = ["naive_softmax_ce"]
backend = ["tensorflow", "jax"]
"model.logit_scale" = [1e5]
"""


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backends")
    (folder / "grid.toml").write_text(GRID)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kerasce.experiment",
            "--config",
            str(folder / "grid.toml"),
            "--tracking-uri",
            uri,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tensorflow in 2 worker processes, jax in 2 worker processes" in result.stdout
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["two-backends"], output_format="pandas")
    runs = runs[runs["tags.kerasce.kind"] == "cell"]
    return {(r["params.formulation"], r["params.backend"]): r for _, r in runs.iterrows()}


def test_every_cell_finished_once_on_its_backend(cells):
    assert len(cells) == 6 and {r["status"] for r in cells.values()} == {"FINISHED"}
    for (_, backend), run in cells.items():
        assert run["tags.kerasce.keras_backend"] == backend


def test_the_loss_path_is_measured_per_backend(cells):
    assert cells[("softmax_ce", "tensorflow")]["tags.kerasce.loss_path"] == "recovered_logits"
    assert cells[("softmax_ce", "jax")]["tags.kerasce.loss_path"] == "clipped_probabilities"
    assert cells[("logits_ce", "tensorflow")]["tags.kerasce.loss_path"] == "fused_logits"
    assert cells[("logits_ce", "jax")]["tags.kerasce.loss_path"] == "fused_logits"


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_an_overflowing_head_records_nan_events_on_both_backends(cells, backend):
    run = cells[("naive_softmax_ce", backend)]
    assert run["metrics.nan_event_count"] > 0 and run["tags.kerasce.nan_status"] == "stopped"
