"""Cells as Ray tasks (--executor ray): on a cluster (`--ray-address`), or on a local Ray instance
started and stopped with the grid.

Each cell is one task with its CPU share and its backend in the task's runtime environment
(KERAS_BACKEND: Ray starts workers per environment, so one cluster runs a mixed-backend grid). A
task whose worker process dies is retried; the cell's claim (run/plan.py) makes a retry end the
dead attempt's run KILLED and never produce a second FINISHED run. Ctrl-C cancels the tasks: a
running one gets a KeyboardInterrupt, so its run ends KILLED as in any other executor. Ray is
imported only here, and only when this executor is chosen.
"""

import contextlib
import functools
import logging
import os
import signal
import socket
from collections.abc import Iterator

from kerasce.command import COMMAND_ENVIRONMENT
from kerasce.config.spec import RunSpec
from kerasce.errors import KerasceError
from kerasce.run.executors import POLL_SECONDS, available_cores, by_backend, limit_threads
from kerasce.run.outcome import CellOutcome, StoreRef
from kerasce.vocabulary import Outcome, RunStatus

RETRIES = 3  # attempts after a worker died, per cell
CONNECT_TIMEOUT = 5  # seconds for an address to accept a connection before ray.init is tried
CANCEL_WAIT = 30  # seconds for cancelled tasks to mark their runs KILLED before they are killed
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class RayUnavailable(KerasceError):
    """Ray is not installed, or the cluster cannot be reached."""


def check_address(address: str) -> None:
    """Fail within seconds, naming the address, when nothing listens there (ray.init would wait
    for a minute). "auto" is left to Ray, which answers at once when no cluster runs here."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT).close()
    except (OSError, ValueError) as error:
        raise RayUnavailable(
            f"cannot reach the Ray cluster at --ray-address {address}: {error}; start one with "
            "`ray start --head` there, or leave out --ray-address for a local Ray instance"
        ) from None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--executor ray needs the ray package; pip install -e '.[ray]'") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, cpus: int | None = None):
    """Ray, connected to the cluster at `address` (host:port, ray://host:port or auto), or to a
    local instance of `cpus` CPUs (default: this process's cores) started here and stopped after."""
    if address:
        check_address(address)
    if not address or address.removeprefix("ray://").rpartition(":")[0] in LOOPBACK:
        # Ray treats a loopback node address as "no cluster" only when told; then its servers
        # listen on 127.0.0.1 instead of every interface. Read when ray is imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _import_ray()
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}  # workers' TF chatter stays out
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(address="local", num_cpus=cpus or available_cores(), include_dashboard=False, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise RayUnavailable(f"cannot connect to the Ray cluster at {address or 'local'}: {error}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def ray_cell(spec: RunSpec, store: StoreRef, threads: int):
    """The task: one cell in a Ray worker whose KERAS_BACKEND the runtime environment set. A lost
    tracking server comes back as a value, so the driver ends the grid with it."""
    from kerasce.run.cell import run_cell

    try:
        return run_cell(spec, store, worker_cache(threads))
    except KerasceError as error:
        return error


@functools.cache
def worker_cache(threads: int):
    """The Ray worker process's ProcessCache, reused across its tasks; the first task sets the
    process up (SIGINT, the framework, its threads)."""
    from kerasce.framework import import_keras_quietly
    from kerasce.run.cell import ProcessCache

    _interruptible()
    import_keras_quietly()
    limit_threads(os.environ.get("KERAS_BACKEND", "tensorflow"), threads)
    return ProcessCache()


def _interruptible() -> None:
    """Ray cancels a running task by interrupting its main thread, which Python ignores when the
    worker inherited an ignored SIGINT (a cluster started from a background shell or nohup)."""
    with contextlib.suppress(ValueError):  # not the main thread: nothing to restore
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def command_environment() -> dict:
    return {name: os.environ[name] for name in COMMAND_ENVIRONMENT if name in os.environ}


class RayExecutor:
    """Cells as tasks of a connected Ray (see ray_session), `cpus_per_cell` CPUs each."""

    def __init__(self, ray, cpus_per_cell: float = 1, retries: int = RETRIES):
        self.ray, self.cpus_per_cell, self.retries = ray, cpus_per_cell, retries
        self.pending, self.store = [], None

    def describe(self, cells: list[RunSpec]) -> str:
        cpus = int(self.ray.cluster_resources().get("CPU", 0))
        nodes = sum(1 for node in self.ray.nodes() if node["Alive"])
        groups = by_backend(cells)
        on = f", {', '.join(groups)}" if len(groups) > 1 else ""
        where = f"{nodes} node{'s' if nodes > 1 else ''} ({cpus} CPUs, {self.cpus_per_cell:g} per cell{on})"
        return f"as Ray tasks on {where}"

    def task_options(self, backend: str) -> dict:
        return {
            "num_cpus": self.cpus_per_cell,
            # Retried on system failures only (a dead worker); a cell's own error is a FAILED run.
            "max_retries": self.retries,
            # the command's settings (bounded MLflow retries) travel with the task: a cluster's
            # workers do not inherit this process's environment
            "runtime_env": {"env_vars": {**command_environment(), "KERAS_BACKEND": backend}},
        }

    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        task, threads = self.ray.remote(ray_cell), max(1, int(self.cpus_per_cell))
        self.store = store
        specs = {
            task.options(**self.task_options(spec.resolved.backend)).remote(spec, store, threads): spec
            for spec in cells
        }
        self.pending = list(specs)
        try:
            while self.pending:
                done, self.pending = self.ray.wait(self.pending, num_returns=1, timeout=POLL_SECONDS)
                for ref in done:
                    yield self._outcome(ref, specs[ref])
        finally:
            self.cancel()

    def _outcome(self, ref, spec: RunSpec) -> CellOutcome:
        try:
            result = self.ray.get(ref)
        except self.ray.exceptions.RayError as error:  # its worker died on every attempt, or the task broke
            reason = str(error).strip().splitlines()[0][:300]
            return CellOutcome(
                spec.run_name, Outcome.FAILED, f"FAILED {spec.run_name}: Ray task failed: {reason}"
            )
        if isinstance(result, KerasceError):
            raise result
        return result

    def cancel(self) -> None:
        """Cancel the tasks not yet done: a running one gets a KeyboardInterrupt and ends its run
        KILLED; one that does not end in time is killed, and its run marked KILLED from here."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        for ref in pending:
            self.ray.cancel(ref)
        _, stuck = self.ray.wait(pending, num_returns=len(pending), timeout=CANCEL_WAIT)
        for ref in stuck:
            self.ray.cancel(ref, force=True)
        if stuck:
            with contextlib.suppress(KerasceError):  # a tracking server that is gone: resume cleans up
                end_running_cells(self.store)


def end_running_cells(store: StoreRef) -> None:
    """Mark KILLED the cell runs of this grid invocation still RUNNING (their tasks were killed)."""
    from kerasce.tracking.schema import Tag
    from kerasce.tracking.writer import open_experiment

    tracker = open_experiment(store.tracking_uri, store.experiment_name)
    for run in tracker.runs_by_tag(Tag.PARENT_RUN, store.parent_run_id):
        if run["status"] == RunStatus.RUNNING:
            tracker.end_run(run["run_id"], RunStatus.KILLED)
