"""The grid loop in process against a real temporary store: a failing cell does not stop the grid."""

import dataclasses

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from kerasce.config import expand_grid, parse_config
from kerasce.run.grid import run_grid
from kerasce.run.inputs import load_datasets
from kerasce.tracking.writer import Tracker


@pytest.mark.slow
@pytest.mark.slow
def test_a_cell_that_raises_is_failed_with_its_traceback_and_the_grid_goes_on(tmp_path):
    config, grid = parse_config(
        {
            "name": "failing",
            "data": {"dataset": "digits", "max_samples": 200},
            "model": {"hidden_units": [8]},
            "train": {"epochs": 1, "figures": False},
            "grid": {"seed": [0, 1]},
        }
    )
    specs = expand_grid(config, grid)
    datasets = load_datasets(specs)
    # Seed 0's validation split gets the wrong width: Keras itself raises inside fit.
    broken_key = specs[0].dataset_key
    broken = datasets[broken_key]
    datasets[broken_key] = dataclasses.replace(broken, x_val=np.zeros((len(broken.y_val), 3), np.float32))
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "failing")
    result = run_grid(specs, datasets, tracker, config, quiet=True)
    assert [o.status for o in result.outcomes] == ["FAILED", "FINISHED"]
    client = MlflowClient(tracker.uri)
    runs = {r.info.run_name: r for r in client.search_runs([tracker.experiment_id])}
    failed = runs[specs[0].run_name]
    assert failed.info.status == "FAILED"
    traceback_file = client.download_artifacts(failed.info.run_id, "traceback.txt", str(tmp_path))
    assert "Traceback" in open(traceback_file).read()
    finished = runs[specs[1].run_name]
    assert finished.info.status == "FINISHED"
    # train.figures = false: the figures' data is logged, the PNGs are not
    artifacts = {a.path for a in client.list_artifacts(finished.info.run_id)}
    assert {"pr_curve.csv", "reliability.csv", "history.csv"} <= artifacts
    assert not any(path.endswith(".png") for path in artifacts)
    parent = next(r for r in runs.values() if r.data.tags.get("kerasce.kind") == "grid")
    assert parent.info.status == "FAILED" and parent.data.tags["kerasce.failed_cells"] == "1"
