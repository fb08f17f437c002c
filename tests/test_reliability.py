"""Reliability with real processes and signals: resume, interruption, kill -9, parallel workers,
determinism. Each test starts the real CLI as a subprocess and inspects the store afterwards."""

import collections
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import SMOKE as SMOKE_CONFIG
from helpers import start_cli, store_client, wait_for_epochs
from mlflow.tracking import MlflowClient

from kerasce import api
from kerasce.tracking.reader import StoreReader

ONE_CELL = ["--set", "grid.formulation=['logits_ce']", "--set", "grid.precision=['float32']"]
LONG = ["--set", "data.max_samples=200", "--set", "train.epochs=120"]  # a cell lasts ~6 s
SERIAL = ["--jobs", "1"]  # one cell after another in the CLI's own process: one TensorFlow import

pytestmark = pytest.mark.slow


def finish(process, timeout=600):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def runs(uri, kind="cell"):
    client = store_client(uri)
    experiment = client.get_experiment_by_name("smoke")
    if experiment is None:
        return []
    return [
        r
        for r in client.search_runs([experiment.experiment_id], max_results=1000)
        if r.data.tags.get("kerasce.kind") == kind
    ]


def statuses(uri, kind="cell"):
    return collections.Counter(r.info.status for r in runs(uri, kind))


def finished_per_cell(uri):
    return collections.Counter(
        r.data.tags["kerasce.cell_hash"] for r in runs(uri) if r.info.status == "FINISHED"
    )


@pytest.fixture
def uri(tmp_path):
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


# Two cells one after the other: a long one that the signal interrupts, then a one-epoch one
LONG_THEN_SHORT = [*ONE_CELL, *LONG, *SERIAL, "--set", "grid.train.epochs=[120, 1]"]


def interrupt_the_long_cell(uri, signum, expected_code):
    """Start the grid and signal it once the long cell has logged epochs."""
    process = start_cli(uri, *LONG_THEN_SHORT)
    killed_run = wait_for_epochs(process, uri, lambda: runs(uri)).info.run_id
    process.send_signal(signum)
    code, output = finish(process, timeout=120)
    assert code == expected_code, output
    assert "marked KILLED" in output
    assert statuses(uri) == {"KILLED": 1} and statuses(uri, "grid") == {"KILLED": 1}
    assert len(MlflowClient(uri).get_metric_history(killed_run, "loss")) >= 2  # finished epochs were kept


def test_sigterm_marks_the_runs_killed_and_exits_143(uri):
    interrupt_the_long_cell(uri, signal.SIGTERM, 143)


def test_ctrl_c_marks_runs_killed_keeps_finished_epochs_and_a_repeat_resumes(uri):
    interrupt_the_long_cell(uri, signal.SIGINT, 130)
    code, output = finish(start_cli(uri, *LONG_THEN_SHORT))
    assert code == 0, output
    assert statuses(uri) == {"KILLED": 1, "FINISHED": 2}
    assert set(finished_per_cell(uri).values()) == {1}  # no duplicates


def test_kill_9_is_cleaned_up_by_the_next_invocation(uri):
    args = [*ONE_CELL, *LONG]
    process = start_cli(uri, *args)
    wait_for_epochs(process, uri, lambda: runs(uri))
    process.kill()
    process.wait()
    assert statuses(uri) == {"RUNNING": 1} and statuses(uri, "grid") == {"RUNNING": 1}
    code, output = finish(start_cli(uri, *args, quiet=False))
    assert code == 0, output[-2000:]
    assert "2 runs of dead processes marked KILLED" in output  # the cell and its parent
    assert statuses(uri) == {"KILLED": 1, "FINISHED": 1}
    assert statuses(uri, "grid") == {"KILLED": 1, "FINISHED": 1}


def histories(uri) -> dict:
    """{run name: [(losses, validation losses, weights hash) of each of its runs]}."""
    client, found = MlflowClient(uri), collections.defaultdict(list)
    for r in runs(uri):
        found[r.info.run_name].append(
            (
                [m.value for m in client.get_metric_history(r.info.run_id, "loss")],
                [m.value for m in client.get_metric_history(r.info.run_id, "val_loss")],
                r.data.tags["kerasce.weights_hash"],
            )
        )
    return dict(found)


def test_parallel_workers_give_bit_identical_results_repeats_skip_and_rerun_forces(tmp_path):
    """--jobs 1 and --jobs 2 are two independent invocations of the same grid: equal histories
    and weight hashes show both determinism and that the workers change nothing. Repeating the
    command skips the finished cells; --rerun trains them again, to the same bits."""
    args = [*ONE_CELL, "--set", "train.epochs=3", "--set", "grid.seed=[0, 1]"]
    serial, parallel = (f"sqlite:///{tmp_path / name / 'mlflow.db'}" for name in ("serial", "parallel"))
    assert finish(start_cli(serial, *args, "--jobs", "1"))[0] == 0
    code, output = finish(start_cli(parallel, *args, "--jobs", "2"))
    assert code == 0, output
    assert histories(serial) == histories(parallel)
    code, output = finish(start_cli(serial, *args, *SERIAL, quiet=False))
    assert code == 0 and "0 to run, 2 skipped (already FINISHED)" in output
    code, output = finish(start_cli(serial, *args, *SERIAL, "--rerun"))
    assert code == 0, output
    assert statuses(serial) == {"FINISHED": 4} and set(finished_per_cell(serial).values()) == {2}
    assert histories(serial) == {name: entries * 2 for name, entries in histories(parallel).items()}
    hashes = {name: entries[0][2] for name, entries in histories(parallel).items()}
    assert hashes["digits / logits_ce / float32 / seed 0"] != hashes["digits / logits_ce / float32 / seed 1"]
    assert len(hashes) == 2
    pids = {r.data.tags["kerasce.pid"] for r in runs(parallel)}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # two worker processes did the work


ONE_EPOCH = ["--set", "train.epochs=1", *SERIAL]


def test_three_invocations_of_one_grid_at_once_train_each_cell_once_and_readers_never_fail(uri):
    processes = [start_cli(uri, *ONE_EPOCH, quiet=False) for _ in range(3)]
    reads = 0  # the MLflow UI and compare read a store while grids create it and write to it
    while any(process.poll() is None for process in processes):
        if os.path.exists(uri.removeprefix("sqlite:///")):
            StoreReader(uri).client.search_runs(["0", "1"], max_results=1000)
            reads += 1
    results = [finish(p) for p in processes]
    assert [code for code, _ in results] == [0, 0, 0], [out[-1500:] for _, out in results]
    per_cell = finished_per_cell(uri)
    assert len(per_cell) == 4 and set(per_cell.values()) == {1}  # the smoke grid's 4 cells, once each
    assert statuses(uri) == {"FINISHED": 4} and reads > 10
    skipped = sum(out.count(": skipped, ") for _, out in results)
    assert skipped == 8 - sum(out.count("0 to run") * 4 for _, out in results)  # 12 plans, 4 trained
    assert "Traceback" not in "".join(out for _, out in results)


# Where a new store is made: a grid's first seconds (on this machine 2-6 s after launch, while
# MLflow builds its tables). KERASCE_FAULT_POINTS=30 sweeps more points.
FAULT_POINTS = int(os.environ.get("KERASCE_FAULT_POINTS", "3"))  # one per signal
FAULT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGKILL)
ONE_SHORT_CELL = [*ONE_CELL, *ONE_EPOCH]


@pytest.mark.parametrize("point", range(FAULT_POINTS))
def test_an_interrupt_in_a_new_stores_first_seconds_leaves_a_store_that_resumes(tmp_path, point):
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    process = start_cli(uri, *ONE_SHORT_CELL)
    time.sleep(1.5 + 4.5 * point / max(FAULT_POINTS - 1, 1))
    process.send_signal(FAULT_SIGNALS[point % len(FAULT_SIGNALS)])
    code, output = finish(process)
    assert code in (0, 130, 143, -signal.SIGKILL) and "Traceback" not in output, output
    overrides = [arg for arg in ONE_SHORT_CELL if "=" in arg]
    result = api.run_grid(api.load_grid(SMOKE_CONFIG, overrides), uri)  # the repeat
    assert all(o.status in ("FINISHED", "SKIPPED") for o in result.outcomes)
    assert finished_per_cell(uri) == {next(iter(finished_per_cell(uri))): 1}
    assert not [name for name in os.listdir(tmp_path / "store") if name.endswith(".creating")]


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system: a grid fills it within its first cells. Needs root (CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_ends_the_grid_in_one_line_and_freeing_space_resumes_it(small_disk):
    uri = f"sqlite:///{small_disk / 'mlflow.db'}"
    code, output = finish(start_cli(uri, *ONE_EPOCH))
    assert code == 3, output
    assert f"error: disk full writing to {small_disk}" in output and "Traceback" not in output
    assert "repeat the command to resume" in output
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    result = api.run_grid(api.load_grid(SMOKE_CONFIG, ["train.epochs=1"]), uri)  # the repeat
    assert {o.status for o in result.outcomes} == {"FINISHED"}
    assert set(finished_per_cell(uri).values()) == {1} and len(finished_per_cell(uri)) == 4
    assert "RUNNING" not in statuses(uri) and "RUNNING" not in statuses(uri, "grid")


def test_a_store_on_a_read_only_file_system_is_refused_before_any_run(small_disk):
    uri = f"sqlite:///{small_disk / 'mlflow.db'}"
    make_store = f"from kerasce.tracking.writer import Tracker; Tracker({uri!r}, 'smoke')"
    subprocess.run([sys.executable, "-c", make_store], check=True)  # this process keeps no file open
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    code, output = finish(start_cli(uri, *ONE_SHORT_CELL))
    store = small_disk / "mlflow.db"
    assert code == 2
    assert (
        output.strip() == f"error: cannot write the store {store}: {small_disk} is on a read-only file system"
    )
