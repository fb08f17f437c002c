"""The one module that talks to MLflow. Everything else hands it plain values.

Default store: SQLite at mlruns/mlflow.db, artifacts under mlruns/artifacts (MLflow 3 retired the
plain file store). `--tracking-uri` or MLFLOW_TRACKING_URI point elsewhere, a server included.
"""

import io
import math
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
MAX_BATCH = {"metrics": 1000, "params": 100, "tags": 100}  # MLflow's per-call limits


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


class Tracker:
    """An MLflow experiment to write runs into."""

    def __init__(self, tracking_uri: str | None, experiment_name: str):
        self.uri = resolve_tracking_uri(tracking_uri)
        self.client = MlflowClient(self.uri)
        experiment = self.client.get_experiment_by_name(experiment_name)
        if experiment is None:
            self.experiment_id = self.client.create_experiment(
                experiment_name, artifact_location=_artifact_root(self.uri)
            )
        else:
            self.experiment_id = experiment.experiment_id

    def start_run(self, name: str, params: dict, tags: dict, parent_id: str | None = None) -> "RunLog":
        if parent_id:
            tags = {**tags, "mlflow.parentRunId": parent_id}
        run = self.client.create_run(self.experiment_id, run_name=name, tags=_text_values(tags))
        log = RunLog(self.client, run.info.run_id)
        log.log_params(params)
        return log


class RunLog:
    """Writes to one run: metrics (finite values only), params, tags, artifacts, its end."""

    def __init__(self, client: MlflowClient, run_id: str):
        self.client, self.run_id = client, run_id

    def log_metrics(self, metrics: dict, step: int = 0) -> list[str]:
        """Log the finite values in one batch; returns the keys left out as NaN or infinite
        (the MLflow UI cannot show them; NaN events are recorded as data instead)."""
        now = int(time.time() * 1000)
        finite = [
            Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None and math.isfinite(v)
        ]
        for start in range(0, len(finite), MAX_BATCH["metrics"]):
            self.client.log_batch(self.run_id, metrics=finite[start : start + MAX_BATCH["metrics"]])
        return [k for k, v in metrics.items() if v is None or not math.isfinite(v)]

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

        self.client.log_figure(self.run_id, figure, path)
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
        self.client.set_terminated(self.run_id, status)


def _text_values(mapping: dict) -> dict:
    return {k: "" if v is None else str(v) for k, v in mapping.items()}


class StoreReader:
    """Reads runs back through MLflow's public API (search_runs and the client)."""

    def __init__(self, tracking_uri: str | None):
        # One artifact at a time is read: MLflow's per-download progress bar would only be noise.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        import mlflow

        self.uri = resolve_tracking_uri(tracking_uri)
        self.client = MlflowClient(self.uri)
        mlflow.set_tracking_uri(self.uri)
        self._mlflow = mlflow

    def experiment_names(self) -> list[str]:
        return sorted(e.name for e in self.client.search_experiments())

    def runs(self, experiment_names: list[str], filter_string: str = "") -> pd.DataFrame:
        """All runs of the named experiments as one DataFrame (params.*, metrics.*, tags.* columns)."""
        known = set(self.experiment_names())
        missing = [name for name in experiment_names if name not in known]
        if missing:
            raise LookupError(
                f"no experiment named {missing[0]!r} in {self.uri}; "
                f"experiments there: {', '.join(sorted(known)) or 'none'}"
            )
        return self._mlflow.search_runs(
            experiment_names=experiment_names, filter_string=filter_string, output_format="pandas"
        )

    def table(self, run_id: str, path: str) -> pd.DataFrame:
        """A CSV artifact of a run as a DataFrame."""
        return pd.read_csv(io.StringIO(self._mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")))
