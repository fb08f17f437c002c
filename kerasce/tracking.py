"""The one module that talks to MLflow. Everything else hands it plain values.

Default store: SQLite at mlruns/mlflow.db, artifacts under mlruns/artifacts (MLflow 3 retired the
plain file store). `--tracking-uri` or MLFLOW_TRACKING_URI point elsewhere, a server included.
"""

import contextlib
import fcntl
import io
import math
import os
import sqlite3
import tempfile
import time
from pathlib import Path

# A tracking server that goes away must fail the current run within seconds, not minutes:
# bound MLflow's HTTP retries unless the user chose otherwise. (Read by MLflow per request.)
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")

import pandas as pd  # noqa: E402
import requests  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from kerasce.errors import KerasceError  # noqa: E402

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
MAX_BATCH = {"metrics": 1000, "params": 100, "tags": 100}  # MLflow's per-call limits
REACHABILITY_TIMEOUT = 5  # seconds to wait for a tracking server's /health at start
FIGURE_DPI = 80  # per-run figures: readable on screen, and rendering time grows with the pixels


class TrackingUnavailable(KerasceError):
    """The tracking server cannot be reached."""


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The URI given, else MLFLOW_TRACKING_URI, else the SQLite store in ./mlruns."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return uri


def _artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside its database, wherever the command was started."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "artifacts").as_uri()
    return None  # a server decides


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///").split("?")[0]) if uri.startswith("sqlite:///") else None


@contextlib.contextmanager
def _store_lock(uri: str):
    """Serialise store creation between processes: MLflow creates an empty SQLite store's tables
    on first use, and two processes doing that at once collide."""
    path = _sqlite_path(uri)
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def check_reachable(uri: str) -> None:
    """Fail fast, naming the URI, when a tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        requests.get(f"{uri.rstrip('/')}/health", timeout=REACHABILITY_TIMEOUT).raise_for_status()
    except requests.RequestException as error:
        raise TrackingUnavailable(f"cannot reach the MLflow tracking server at {uri}: {error}") from None


class Tracker:
    """An MLflow experiment to write runs into."""

    def __init__(self, tracking_uri: str | None, experiment_name: str):
        self.uri = resolve_tracking_uri(tracking_uri)
        self.experiment_name = experiment_name
        check_reachable(self.uri)
        with _store_lock(self.uri):
            self.client = MlflowClient(self.uri)
            self.client.search_experiments(max_results=1)  # creates an empty store's tables, under the lock
            self.experiment_id = self._experiment_id(experiment_name)
            path = _sqlite_path(self.uri)
            if path is not None:  # WAL: readers do not block the writers of parallel workers
                with contextlib.closing(sqlite3.connect(path)) as connection:
                    connection.execute("PRAGMA journal_mode=WAL")

    def _experiment_id(self, name: str) -> str:
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self.client.create_experiment(name, artifact_location=_artifact_root(self.uri))
        except MlflowException:  # created meanwhile by another process (a server has no file lock)
            return self.client.get_experiment_by_name(name).experiment_id

    def start_run(self, name: str, params: dict, tags: dict, parent_id: str | None = None) -> "RunLog":
        if parent_id:
            tags = {**tags, "mlflow.parentRunId": parent_id}
        run = self.client.create_run(self.experiment_id, run_name=name, tags=_text_values(tags))
        log = RunLog(self.client, run.info.run_id)
        log.log_params(params)
        return log

    def runs_by_tag(self, key: str, value: str) -> list[dict]:
        """Every run of the experiment with tag key=value: id, status and tags."""
        found, token = [], None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], f"tags.`{key}` = '{value}'", max_results=1000, page_token=token
            )
            found += [{"run_id": r.info.run_id, "status": r.info.status, "tags": r.data.tags} for r in page]
            token = page.token
            if not token:
                return found

    def end_run(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status)


class RunLog:
    """Writes to one run: metrics (finite values only), params, tags, artifacts, its end."""

    def __init__(self, client: MlflowClient, run_id: str):
        self.client, self.run_id = client, run_id
        self.pending = []  # asynchronous writes not yet confirmed

    def log_metrics(self, metrics: dict, step: int = 0) -> list[str]:
        """Log the finite values in one batch; returns the keys left out as NaN or infinite
        (the MLflow UI cannot show them; NaN events are recorded as data instead)."""
        finite = _finite_metrics(metrics, step)
        for start in range(0, len(finite), MAX_BATCH["metrics"]):
            self.client.log_batch(self.run_id, metrics=finite[start : start + MAX_BATCH["metrics"]])
        return [k for k, v in metrics.items() if v is None or not math.isfinite(v)]

    def log_epoch(self, metrics: dict, epoch: int) -> None:
        """One epoch's finite metrics and a heartbeat tag, in one write."""
        finite = _finite_metrics(metrics, epoch)
        # Written in the background while training goes on; finish() waits for every write.
        self.pending.append(
            self.client.log_batch(
                self.run_id,
                metrics=finite,
                tags=[RunTag("kerasce.heartbeat", str(time.time()))],
                synchronous=False,
            )
        )

    def log_params(self, params: dict) -> None:
        items = [Param(k, v) for k, v in _text_values(params).items()]
        for start in range(0, len(items), MAX_BATCH["params"]):
            self.client.log_batch(self.run_id, params=items[start : start + MAX_BATCH["params"]])

    def set_tags(self, tags: dict) -> None:
        items = [RunTag(k, v) for k, v in _text_values(tags).items()]
        for start in range(0, len(items), MAX_BATCH["tags"]):
            self.client.log_batch(self.run_id, tags=items[start : start + MAX_BATCH["tags"]])

    def log_text(self, text: str, path: str) -> None:
        self.client.log_text(self.run_id, text, path)

    def log_table(self, frame: pd.DataFrame, path: str) -> None:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        self.client.log_text(self.run_id, buffer.getvalue(), path)

    def log_figure(self, figure, path: str) -> None:
        import matplotlib.pyplot as plt

        self.client.log_figure(self.run_id, figure, path, save_kwargs={"dpi": FIGURE_DPI})
        plt.close(figure)

    def log_bytes(self, data: bytes, path: str) -> None:
        with tempfile.TemporaryDirectory() as directory:
            local = Path(directory) / Path(path).name
            local.write_bytes(data)
            self.client.log_artifact(self.run_id, str(local), str(Path(path).parent) if "/" in path else None)

    def log_file(self, local_path: str, directory: str | None = None) -> None:
        self.client.log_artifact(self.run_id, local_path, directory)

    def finish(self, status: str = "FINISHED") -> None:
        """End the run: FINISHED, FAILED or KILLED."""
        for operation in self.pending:
            operation.wait()
        self.pending.clear()
        self.client.set_terminated(self.run_id, status)


def _finite_metrics(metrics: dict, step: int) -> list:
    now = int(time.time() * 1000)
    return [Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None and math.isfinite(v)]


def _text_values(mapping: dict) -> dict:
    return {k: "" if v is None else str(v) for k, v in mapping.items()}


class StoreReader:
    """Reads runs back through MLflow's public API (search_runs and the client)."""

    def __init__(self, tracking_uri: str | None):
        # One artifact at a time is read: MLflow's per-download progress bar would only be noise.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        import mlflow

        self.uri = resolve_tracking_uri(tracking_uri)
        with _store_lock(self.uri):
            self.client = MlflowClient(self.uri)
            self.client.search_experiments(max_results=1)
        mlflow.set_tracking_uri(self.uri)
        self._mlflow = mlflow

    def experiment_names(self) -> list[str]:
        return sorted(e.name for e in self.client.search_experiments())

    def runs(self, experiment_names: list[str], filter_string: str = "") -> pd.DataFrame:
        """All runs of the named experiments as one DataFrame (params.*, metrics.*, tags.* columns)."""
        known = set(self.experiment_names())
        missing = [name for name in experiment_names if name not in known]
        if missing:
            raise KerasceError(
                f"no experiment named {missing[0]!r} in {self.uri}; "
                f"experiments there: {', '.join(sorted(known)) or 'none'}"
            )
        return self._mlflow.search_runs(
            experiment_names=experiment_names, filter_string=filter_string, output_format="pandas"
        )

    def table(self, run_id: str, path: str) -> pd.DataFrame:
        """A CSV artifact of a run as a DataFrame."""
        return pd.read_csv(io.StringIO(self._mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")))


@contextlib.contextmanager
def keras_autolog_run(tracking_uri: str, experiment_name: str):
    """An active MLflow run with mlflow.keras.autolog() on: the baseline kerasce is measured against."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_name)
    mlflow.keras.autolog(silent=True)
    try:
        with mlflow.start_run():
            yield
    finally:
        mlflow.keras.autolog(disable=True)


def log_synthetic_runs(tracker: "Tracker", template: dict, count: int) -> None:
    """`count` runs shaped like `template` (params, tags, metrics), for timing what reads them."""
    for index in range(count):
        run = tracker.start_run(
            f"synthetic {index}", template["params"], {**template["tags"], "kerasce.kind": "cell"}
        )
        run.log_metrics({k: v * (1 + 0.01 * (index % 7)) for k, v in template["metrics"].items()})
        run.finish()
