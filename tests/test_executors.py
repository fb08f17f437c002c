"""Executors behind one seam: the grid loop only iterates outcomes. Real runs through both
executors are in test_grid.py (in process) and test_reliability.py (worker processes)."""

import pytest

from kerasce.config import expand_grid, parse_config
from kerasce.run.executors import InProcess, ProcessPool, executor_for
from kerasce.run.inputs import load_datasets
from kerasce.run.job import StoreRef
from kerasce.tracking.schema import RunStart
from kerasce.tracking.writer import Tracker


def test_one_job_or_one_cell_runs_in_process():
    assert isinstance(executor_for(1, 10, {}), InProcess)
    assert isinstance(executor_for(4, 1, {}), InProcess)
    pool = executor_for(2, 10, {})
    assert isinstance(pool, ProcessPool) and pool.jobs == 2


@pytest.mark.slow
def test_in_process_yields_one_outcome_per_cell(tmp_path):
    config, tables = parse_config(
        {
            "data": {"dataset": "digits", "max_samples": 200},
            "model": {"hidden_units": [4]},
            "train": {"epochs": 1, "figures": False},
            "grid": {"seed": [0, 1]},
        }
    )
    specs = expand_grid(config, tables)
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "exec")
    parent = tracker.start_run(RunStart("parent", {}, {}))
    outcomes = list(InProcess(load_datasets(specs)).run(specs, StoreRef(tracker.uri, "exec", parent.run_id)))
    assert [o.status for o in outcomes] == ["FINISHED", "FINISHED"]
    assert [o.run_name for o in outcomes] == [s.run_name for s in specs]
