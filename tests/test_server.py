"""Against a real `mlflow server` on loopback, started and stopped by the tests."""

import collections
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from helpers import start_cli
from mlflow.tracking import MlflowClient

from kerasce.config import expand_grid, parse_config
from kerasce.run.grid import run_grid
from kerasce.run.inputs import load_datasets
from kerasce.run.outcome import CellOutcome
from kerasce.tracking.store import TrackingUnavailable
from kerasce.tracking.writer import Tracker

GRID = [
    "--set",
    "grid.formulation=['logits_ce']",
    "--set",
    "grid.precision=['float32']",
    "--set",
    "grid.seed=[0, 1, 2]",
    "--set",
    "data.max_samples=200",
    "--set",
    "train.epochs=12",
    "--set",
    "train.figures=false",
    "--jobs",
    "1",  # one cell at a time, so the server goes away with one cell finished and one under way
]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# MLflow 3's server also starts a pool of GenAI job runners (huey consumers) by default: eight
# processes kerasce never uses, which a terminated server can leave behind.
SERVER_ENV = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


@contextlib.contextmanager
def mlflow_server(directory: Path, port: int):
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{directory / 'server.db'}",
        "--artifacts-destination",
        str(directory / "artifacts"),
        "--workers",
        "1",
    ]
    with open(directory / f"server-{time.time()}.log", "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=SERVER_ENV)
        try:
            deadline = time.time() + 90
            while time.time() < deadline:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                        break
                assert server.poll() is None, "mlflow server exited"
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def cli(uri, *args, timeout=600):
    """(exit code, stderr, seconds) of a whole CLI invocation."""
    started = time.time()
    process = start_cli(uri, *args)
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err, time.time() - started


def cell_statuses(uri):
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("smoke")
    found = client.search_runs([experiment.experiment_id]) if experiment else []
    return [
        (r.info.status, r.data.tags.get("kerasce.cell_hash"))
        for r in found
        if r.data.tags.get("kerasce.kind") == "cell"
    ]


def test_unreachable_server_fails_before_training_naming_the_uri():
    uri = f"http://127.0.0.1:{free_port()}"
    code, err, seconds = cli(uri, *GRID)
    assert code == 3
    assert f"cannot reach the MLflow tracking server at {uri}" in err
    assert seconds < 60  # TensorFlow's import included; the check itself waits at most 5 s


def test_server_lost_mid_grid_fails_cleanly_and_a_later_invocation_resumes(tmp_path):
    port = free_port()
    with mlflow_server(tmp_path, port) as uri:
        process = start_cli(uri, *GRID)
        deadline = time.time() + 300
        while time.time() < deadline:  # wait for one cell to finish and the next to be under way
            statuses = collections.Counter(status for status, _ in cell_statuses(uri))
            if statuses["FINISHED"] >= 1 and statuses["RUNNING"] >= 1:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the grid did not get under way")
    lost_at = time.time()  # the server is stopped here
    _, err = process.communicate(timeout=180)
    assert process.returncode == 3, err[-2000:]
    assert "repeat the command once the server is back" in err
    assert time.time() - lost_at < 120  # bounded retries, nothing hangs at exit
    with mlflow_server(tmp_path, port) as uri:
        code, err, _ = cli(uri, *GRID)
        assert code == 0, err[-2000:]
        statuses = cell_statuses(uri)
    counts = collections.Counter(status for status, _ in statuses)
    assert counts["FINISHED"] == 3 and counts["RUNNING"] == 0
    finished_cells = [cell for status, cell in statuses if status == "FINISHED"]
    assert len(set(finished_cells)) == 3  # each cell finished exactly once: nothing lost or duplicated


class ServerGoesAwayAfterTheCells:
    """An executor (the grid loop's seam) whose cells all end, after which the server stops."""

    def __init__(self, server):
        self.server = server

    def describe(self, cells):
        return "here"

    def run(self, cells, store):
        self.server.__exit__(None, None, None)
        for spec in cells:
            yield CellOutcome(spec.run_name, "FAILED", "its writes failed: the database went first")


def test_a_server_lost_after_the_last_cell_ends_the_grid_as_unavailable(tmp_path):
    config, tables = parse_config({"name": "late", "data": {"dataset": "digits"}, "grid": {"seed": [0]}})
    specs = expand_grid(config, tables)
    server = mlflow_server(tmp_path, free_port())
    tracker = Tracker(server.__enter__(), "late")
    with pytest.raises(TrackingUnavailable, match="cannot reach the MLflow tracking server"):
        run_grid(
            specs, load_datasets(specs), tracker, config, ServerGoesAwayAfterTheCells(server), quiet=True
        )
