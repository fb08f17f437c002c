"""The tracking write benchmark (kerasce/bench/writers.py) on a tiny SQLite run."""

import pytest
from mlflow.tracking import MlflowClient

from kerasce.bench.writers import EPOCHS, measure


@pytest.mark.slow
def test_concurrent_writers_write_every_run_completely(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = measure(uri, writers=2, runs=1)
    assert result["runs"] == 2 and result["runs_per_second"] > 0
    client = MlflowClient(uri)
    experiment = [e for e in client.search_experiments() if e.name.startswith("bench-writers-")][0]
    runs = client.search_runs([experiment.experiment_id])
    assert [r.info.status for r in runs] == ["FINISHED", "FINISHED"]
    assert len(client.get_metric_history(runs[0].info.run_id, "loss")) == EPOCHS
