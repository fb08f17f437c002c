"""Resume planning against a real store whose runs the writer made: finished cells are skipped,
runs of dead writers are marked KILLED and their cells run again."""

import os

from kerasce.config import expand_grid, parse_config
from kerasce.run.inputs import load_datasets
from kerasce.run.plan import plan_grid
from kerasce.run.provenance import process_tags
from kerasce.tracking.schema import Kind, RunStart, Tag
from kerasce.tracking.writer import Tracker


def grid(tmp_path):
    config, tables = parse_config(
        {"name": "plan", "data": {"dataset": "digits", "max_samples": 200}, "grid": {"seed": [0, 1, 2, 3]}}
    )
    specs = expand_grid(config, tables)
    return specs, load_datasets(specs), Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "plan")


def cell_run(tracker, spec, datasets, status, **tags):
    identity = spec.identity(datasets[spec.dataset_key].fingerprint)
    run = tracker.start_run(
        RunStart(spec.run_name, {}, {Tag.KIND: Kind.CELL, Tag.CELL_HASH: identity, **tags})
    )
    if status != "RUNNING":
        run.finish(status)
    return run.run_id


def test_finished_skipped_live_left_dead_killed_and_rerun(tmp_path):
    specs, datasets, tracker = grid(tmp_path)
    cell_run(tracker, specs[0], datasets, "FINISHED")
    cell_run(tracker, specs[1], datasets, "RUNNING", **process_tags())  # this live process
    dead = {Tag.HOST: os.uname().nodename, Tag.PID: 999999, Tag.PID_START: "1"}
    dead_id = cell_run(tracker, specs[2], datasets, "RUNNING", **dead)
    cell_run(tracker, specs[3], datasets, "FAILED")
    plan = plan_grid(tracker, specs, datasets)
    assert plan.skipped == 1 and plan.running_elsewhere == 1 and plan.marked_killed == 1
    assert [s.run_name for s in plan.to_run] == [specs[2].run_name, specs[3].run_name]
    assert tracker.client.get_run(dead_id).info.status == "KILLED"
    assert plan.summary(4) == (
        "4 cells: 2 to run, 1 skipped (already FINISHED), 1 running in another live process, "
        "1 runs of dead processes marked KILLED"
    )


def test_rerun_runs_every_cell(tmp_path):
    specs, datasets, tracker = grid(tmp_path)
    cell_run(tracker, specs[0], datasets, "FINISHED")
    assert len(plan_grid(tracker, specs, datasets, rerun=True).to_run) == 4
