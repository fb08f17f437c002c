"""Executors behind one seam: the grid loop only iterates outcomes. Real runs through both
executors are in test_grid.py (in process) and test_reliability.py (worker processes)."""

import pytest

from kerasce.config import expand_grid, parse_config
from kerasce.errors import KerasceError
from kerasce.run.executors import InProcess, Local, ProcessPool, available_cores, worker_tasks
from kerasce.run.inputs import load_datasets
from kerasce.run.outcome import StoreRef
from kerasce.tracking.schema import RunStart
from kerasce.tracking.writer import Tracker


def cells(n, **grid):
    config, tables = parse_config(
        {"data": {"dataset": "digits", "max_samples": 200}, "grid": {"seed": list(range(n)), **grid}}
    )
    return expand_grid(config, tables)


def test_one_job_or_one_cell_runs_in_process_and_says_where():
    assert Local(1, {}).describe(cells(10)) == "in this process"
    assert Local(4, {}).describe(cells(1)) == "in this process"
    assert Local(4, {}).describe(cells(3)) == "in 3 worker processes"
    assert InProcess().describe(cells(5)) == "in this process"
    assert 1 <= available_cores()


def test_each_backend_gets_its_own_workers():
    mixed = cells(2, backend=["tensorflow", "jax"])
    assert ProcessPool(2).describe(mixed) == "in 2 worker processes (tensorflow, jax)"
    assert Local(1, {}).describe(mixed) == "tensorflow in this process, jax in 1 worker process"
    with pytest.raises(KerasceError, match="cells on jax need worker processes"):
        next(InProcess().run(mixed, StoreRef("sqlite:///unused.db", "x", "parent")))


def test_a_workers_task_is_a_cell_groups_seeds_split_only_to_keep_every_worker_busy():
    grid = cells(3, formulation=["softmax_ce", "logits_ce"], precision=["float32", "mixed_float16"])
    tasks = worker_tasks(grid, jobs=2)
    assert sorted(s.run_name for task in tasks for s in task) == sorted(s.run_name for s in grid)
    assert len(tasks) == 4 and all(len({s.group_key for s in task}) == 1 for task in tasks)
    assert [len(task) for task in worker_tasks(grid, jobs=4)] == [2, 1] * 4  # a task: an eighth
    one_group = worker_tasks(cells(20), jobs=2)
    assert [len(task) for task in one_group] == [5, 5, 5, 5]


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
