"""The Ray executor: unit checks, then the real CLI on a real local Ray cluster (2 CPUs, started by
this module) into a real `mlflow server` on PostgreSQL (tests/conftest.py: team_server), with
faults injected: a worker killed with -9, the driver interrupted, the tracking server restarted."""

import collections
import os
import signal
import socket
import tempfile
import time
from pathlib import Path

import pytest
from helpers import start_cli, wait_for_epochs
from mlflow.tracking import MlflowClient

from kerasce.command import COMMAND_ENVIRONMENT
from kerasce.run.ray_executor import RayExecutor, RayUnavailable, check_address
from kerasce.tracking import team_server as server

SMALL = ["--set", "data.max_samples=200", "--set", "train.figures=false"]
ONE_WIRING = ["--set", "grid.formulation=['logits_ce']", "--set", "grid.precision=['float32']"]
LONG = [*ONE_WIRING, *SMALL, "--set", "train.epochs=100"]  # a cell lasts ~6 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_address_is_refused_within_seconds_naming_it():
    address = f"127.0.0.1:{free_port()}"
    started = time.time()
    with pytest.raises(RayUnavailable, match=f"cannot reach the Ray cluster at --ray-address {address}"):
        check_address(address)
    assert time.time() - started < 6


def test_each_task_gets_its_cpu_share_retries_backend_and_the_commands_settings(monkeypatch):
    for name in COMMAND_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")  # as the command set it
    options = RayExecutor(ray=None, cpus_per_cell=1).task_options("jax")
    env = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "KERAS_BACKEND": "jax"}
    assert options == {"num_cpus": 1, "max_retries": 3, "runtime_env": {"env_vars": env}}


def test_the_cli_fails_before_any_run_on_an_unreachable_address(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    started = time.time()
    process = start_cli(uri, "--executor", "ray", "--ray-address", address)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    assert f"cannot reach the Ray cluster at --ray-address {address}" in err
    assert time.time() - started < 30  # Python and MLflow imports included; the check is 5 s at most
    assert not (tmp_path / "mlflow.db").exists()  # nothing written


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray cluster of 2 CPUs on loopback, shared by this module's tests."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # before ray is imported: loopback only
    import ray

    # When this suite runs from a background shell (as CI may), SIGINT is ignored here and in the
    # workers this starts: the executor's tasks restore it, which the interrupt test relies on.
    context = ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield context.address_info["gcs_address"]
    ray.shutdown()


def cli(uri, address, experiment, *args, timeout=600, quiet=True):
    process = start_cli(
        uri,
        "--executor",
        "ray",
        "--ray-address",
        address,
        "--experiment-name",
        experiment,
        *args,
        quiet=quiet,
    )
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def runs(uri, experiment, kind="cell"):
    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    every = client.search_runs([found.experiment_id], max_results=1000)
    return [r for r in every if r.data.tags.get("kerasce.kind") == kind]


def statuses(uri, experiment, kind="cell"):
    return collections.Counter(r.info.status for r in runs(uri, experiment, kind))


def failures(uri, experiment) -> str:
    """The tracebacks of the experiment's FAILED cell runs, for an assertion's message."""
    client, texts = MlflowClient(uri), []
    for r in runs(uri, experiment):
        if r.info.status == "FAILED":
            with tempfile.TemporaryDirectory() as folder:
                texts.append(
                    Path(client.download_artifacts(r.info.run_id, "traceback.txt", folder)).read_text()
                )
    return "\n".join(texts)


def finished_per_cell(uri, experiment):
    return collections.Counter(
        r.data.tags["kerasce.cell_hash"] for r in runs(uri, experiment) if r.info.status == "FINISHED"
    )


@pytest.mark.slow
def test_a_mixed_backend_grid_runs_on_the_cluster_into_postgres_once_per_cell(ray_address, team_server):
    uri = team_server.url
    args = [*ONE_WIRING, *SMALL, "--set", "train.epochs=1", "--set", "grid.backend=['tensorflow', 'jax']"]
    code, output = cli(uri, ray_address, "ray-grid", *args)
    assert code == 0, output[-3000:]
    cells = runs(uri, "ray-grid")
    assert statuses(uri, "ray-grid") == {"FINISHED": 2} and statuses(uri, "ray-grid", "grid") == {
        "FINISHED": 1
    }
    assert set(finished_per_cell(uri, "ray-grid").values()) == {1}
    backends = collections.Counter(r.data.tags["kerasce.keras_backend"] for r in cells)
    assert backends == {"tensorflow": 1, "jax": 1}  # each task got its backend from its runtime env
    assert all(r.data.params["backend"] == r.data.tags["kerasce.keras_backend"] for r in cells)


@pytest.mark.slow
def test_a_worker_killed_with_9_is_retried_and_its_cell_finishes_once(ray_address, team_server):
    uri = team_server.url
    process = start_cli(
        uri, "--executor", "ray", "--ray-address", ray_address, "--experiment-name", "ray-kill", *LONG
    )
    victim = wait_for_epochs(process, uri, lambda: runs(uri, "ray-kill"))
    os.kill(int(victim.data.tags["kerasce.pid"]), signal.SIGKILL)  # the Ray worker process running the cell
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, (out + err)[-3000:]
    assert statuses(uri, "ray-kill") == {"FINISHED": 1, "KILLED": 1}  # the dead attempt KILLED, none RUNNING
    assert MlflowClient(uri).get_run(victim.info.run_id).info.status == "KILLED"
    assert set(finished_per_cell(uri, "ray-kill").values()) == {1}


@pytest.mark.slow
def test_interrupting_the_driver_kills_the_runs_and_a_repeat_resumes(ray_address, team_server):
    uri, args = team_server.url, [*LONG, "--set", "grid.seed=[0, 1]"]
    process = start_cli(
        uri, "--executor", "ray", "--ray-address", ray_address, "--experiment-name", "ray-int", *args
    )
    wait_for_epochs(process, uri, lambda: runs(uri, "ray-int"))
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 130, (out + err)[-3000:]
    # the cell under way is KILLED; the other may have finished before the signal (cells are short)
    killed = statuses(uri, "ray-int")
    assert killed["KILLED"] >= 1 and killed["RUNNING"] == 0, killed
    assert set(killed) <= {"KILLED", "FINISHED"}, failures(uri, "ray-int")
    assert statuses(uri, "ray-int", "grid") == {"KILLED": 1}
    code, output = cli(uri, ray_address, "ray-int", *args)
    assert code == 0, output[-3000:]
    assert statuses(uri, "ray-int")["FINISHED"] == 2 and statuses(uri, "ray-int")["RUNNING"] == 0
    assert set(finished_per_cell(uri, "ray-int").values()) == {1}


@pytest.mark.slow
def test_a_tracking_server_restart_mid_grid_exits_3_and_a_repeat_resumes(ray_address, team_server):
    # two cells side by side on the 2 CPUs: a one-epoch one finishes while the long one is under way
    uri, args = team_server.url, [*LONG, "--set", "grid.train.epochs=[100, 1]"]
    process = start_cli(
        uri, "--executor", "ray", "--ray-address", ray_address, "--experiment-name", "ray-lost", *args
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        counts = statuses(uri, "ray-lost")
        if counts["FINISHED"] >= 1 and counts["RUNNING"] >= 1:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the grid did not get under way")
    server.stop(team_server.data_dir)  # the mlflow server and its PostgreSQL
    out, err = process.communicate(timeout=300)
    assert process.returncode == 3, (out + err)[-3000:]
    assert "repeat the command once the server is back" in err
    server.start(team_server)  # same data directory: the runs so far are still there
    code, output = cli(uri, ray_address, "ray-lost", *args)
    assert code == 0, output[-3000:]
    counts = statuses(uri, "ray-lost")
    assert counts["FINISHED"] == 2 and counts["RUNNING"] == 0
    assert set(finished_per_cell(uri, "ray-lost").values()) == {1}  # nothing lost or duplicated
