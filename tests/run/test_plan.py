"""Resume planning against a real store whose runs the writer made: finished cells are skipped,
runs of dead writers are marked KILLED and their cells run again; and the claim at a cell's start
that keeps two invocations from training one cell."""

import os
import subprocess

from kerasce.config import expand_grid, parse_config
from kerasce.run.inputs import load_datasets
from kerasce.run.outcome import StoreRef
from kerasce.run.plan import claim_cell, plan_grid
from kerasce.run.provenance import process_start_time, process_tags
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


def live_process_tags():
    """Tags of another live process on this machine: what a second invocation's claim carries."""
    sleeper = subprocess.Popen(["sleep", "120"])
    return sleeper, {**process_tags(), Tag.PID: sleeper.pid, Tag.PID_START: process_start_time(sleeper.pid)}


def claim(tracker, spec, datasets, parent="grid-A", rerun=False):
    identity = spec.identity(datasets[spec.dataset_key].fingerprint)
    start = RunStart(
        spec.run_name, {}, {Tag.KIND: Kind.CELL, Tag.CELL_HASH: identity, **process_tags()}, parent
    )
    return claim_cell(tracker, start, identity, StoreRef(tracker.uri, "plan", parent, rerun))


def test_a_cell_another_invocation_has_is_not_claimed_twice(tmp_path):
    specs, datasets, tracker = grid(tmp_path)
    cell_run(tracker, specs[0], datasets, "FINISHED", **{Tag.PARENT_RUN: "grid-B"})
    sleeper, live = live_process_tags()
    try:
        cell_run(tracker, specs[1], datasets, "RUNNING", **live, **{Tag.PARENT_RUN: "grid-B"})
        assert claim(tracker, specs[0], datasets) == "FINISHED already by another invocation"
        assert claim(tracker, specs[1], datasets).startswith(f"being trained by process {sleeper.pid} on ")
        assert claim(tracker, specs[1], datasets, rerun=True).startswith("being trained by process")
    finally:
        sleeper.kill()
        sleeper.wait()
    taken_over = claim(tracker, specs[1], datasets)  # its owner died: the cell is free again
    assert not isinstance(taken_over, str)
    statuses = sorted(r["status"] for r in tracker.runs_by_tag(Tag.CELL_HASH, cell_hash(specs[1], datasets)))
    assert statuses == ["KILLED", "RUNNING"]


def test_a_rerun_trains_again_but_never_twice_in_one_grid(tmp_path):
    specs, datasets, tracker = grid(tmp_path)
    cell_run(tracker, specs[0], datasets, "FINISHED", **{Tag.PARENT_RUN: "grid-B"})
    assert not isinstance(claim(tracker, specs[0], datasets, rerun=True), str)
    cell_run(tracker, specs[1], datasets, "FINISHED", **{Tag.PARENT_RUN: "grid-A"})
    assert claim(tracker, specs[1], datasets, rerun=True) == "FINISHED already"


def test_a_dead_attempt_of_the_same_grid_is_ended_and_its_cell_claimed(tmp_path):
    """A Ray task retried after its worker died: the attempt it left RUNNING is KILLED."""
    specs, datasets, tracker = grid(tmp_path)
    sleeper, live = live_process_tags()  # alive, but it is this grid's own earlier attempt
    try:
        earlier = cell_run(tracker, specs[2], datasets, "RUNNING", **live, **{Tag.PARENT_RUN: "grid-A"})
        assert not isinstance(claim(tracker, specs[2], datasets), str)
        assert tracker.client.get_run(earlier).info.status == "KILLED"
    finally:
        sleeper.kill()
        sleeper.wait()


def cell_hash(spec, datasets):
    return spec.identity(datasets[spec.dataset_key].fingerprint)
