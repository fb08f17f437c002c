"""Writing runs: a run is started from a RunStart, streams its epochs, and is completed from a
RunRecord in as few MLflow calls as it can (one batch of metrics and tags, one artifact upload)."""

import functools
import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from kerasce.tracking.schema import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    InputSplit,
    RunRecord,
    RunStart,
    Tag,
    runs_url,
)
from kerasce.tracking.store import (
    artifact_root,
    collector_paused,
    open_store,
    resolve_tracking_uri,
    store_lock,
)

MAX_BATCH = {"metrics": 1000, "params": 100, "tags": 100}  # MLflow's per-call limits


class Tracker:
    """An MLflow experiment to write runs into (created if missing)."""

    def __init__(self, tracking_uri: str | None, experiment_name: str):
        self.uri = resolve_tracking_uri(tracking_uri)
        self.experiment_name = experiment_name
        open_store(self.uri, create=True)
        self.client = MlflowClient(self.uri)
        with store_lock(self.uri):  # two processes creating one experiment: one creates it
            self.experiment_id = self._experiment_id(experiment_name)

    def _experiment_id(self, name: str) -> str:
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            if EXPERIMENT_KIND_TAG not in experiment.tags:  # made by an older kerasce, or by hand
                self.client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
            return experiment.experiment_id
        try:
            return self.client.create_experiment(
                name, artifact_location=artifact_root(self.uri), tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
            )
        except MlflowException:  # created meanwhile by another process (a server has no file lock)
            return self.client.get_experiment_by_name(name).experiment_id

    def runs_link(self, ui_address: str = "http://127.0.0.1:5000") -> str:
        """A link that opens this experiment's runs in the UI's model-training view. A server's
        own address is its UI's; a SQLite store's UI is the one `make ui` starts."""
        base = self.uri if self.uri.startswith(("http://", "https://")) else ui_address
        return runs_url(base, self.experiment_id)

    def start_run(self, start: RunStart) -> "RunWriter":
        """Create the run with its tags and params."""
        tags = {**start.tags, Tag.PARENT_RUN: start.parent_id} if start.parent_id else start.tags
        run = self.client.create_run(self.experiment_id, run_name=start.name, tags=_text_values(tags))
        writer = RunWriter(self.client, run.info.run_id)
        params = [Param(k, v) for k, v in _text_values(start.params).items()]
        for chunk in _chunks(params, MAX_BATCH["params"]):
            self.client.log_batch(writer.run_id, params=chunk)
        if start.inputs:
            self.client.log_inputs(writer.run_id, datasets=[_dataset_input(split) for split in start.inputs])
        return writer

    def runs_by_tag(self, key: str, value: str) -> list[dict]:
        """Every run of the experiment with tag key=value: id, status and tags."""
        found, token = [], None
        while True:
            with collector_paused():
                page = self.client.search_runs(
                    [self.experiment_id], f"tags.`{key}` = '{value}'", max_results=1000, page_token=token
                )
            found += [{"run_id": r.info.run_id, "status": r.info.status, "tags": r.data.tags} for r in page]
            token = page.token
            if not token:
                return found

    def end_run(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status)


@functools.cache
def open_experiment(tracking_uri: str, experiment_name: str) -> Tracker:
    """One Tracker per store and experiment in this process (worker processes reuse theirs)."""
    return Tracker(tracking_uri, experiment_name)


class RunWriter:
    """Writes to one run: its epochs as they finish, then its record, then its end."""

    def __init__(self, client: MlflowClient, run_id: str):
        self.client, self.run_id = client, run_id
        self.pending = []  # epoch writes under way, not yet confirmed
        # One thread of our own rather than log_batch(synchronous=False): ending a run that used
        # MLflow's asynchronous queue waits for its logging thread's poll, a second at a time.
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kerasce-epochs")

    def log_epoch(self, epoch: int, metrics: dict) -> None:
        """One epoch's finite metrics and a heartbeat tag, written in the background while the next
        epoch trains. At most one write is pending: the previous epoch's has had a whole epoch to
        finish, and a tracking server that went away surfaces at the next epoch instead of after
        a queue of writes has each used up its retries."""
        self._wait()
        self.pending.append(
            self.background.submit(
                self.client.log_batch,
                self.run_id,
                metrics=_finite_metrics(metrics, epoch),
                tags=[RunTag(Tag.HEARTBEAT, str(time.time()))],
            )
        )

    def complete(self, record: RunRecord) -> None:
        """Write the record (metrics and tags in batches, artifacts in one upload), then end the run."""
        self.write(record)
        self.finish(record.status)

    def write(self, record: RunRecord) -> None:
        """Write the record's metrics, tags and artifacts; the run stays open."""
        self._wait()
        metrics = _finite_metrics(record.metrics, 0)
        tags = [RunTag(k, v) for k, v in _text_values(record.tags).items()]
        for chunk in _chunks(metrics, MAX_BATCH["metrics"]):
            self.client.log_batch(self.run_id, metrics=chunk)
        for chunk in _chunks(tags, MAX_BATCH["tags"]):
            self.client.log_batch(self.run_id, tags=chunk)
        self.upload({**record.texts, **record.images, **record.files})

    def upload(self, artifacts: dict) -> None:
        """Artifacts {path: text or bytes} in one call."""
        if not artifacts:
            return
        with tempfile.TemporaryDirectory() as directory:
            for path, content in artifacts.items():
                local = Path(directory) / path
                local.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, str):
                    local.write_text(content)
                else:
                    local.write_bytes(content)
            self.client.log_artifacts(self.run_id, directory)

    def finish(self, status: str = "FINISHED") -> None:
        """End the run: FINISHED, FAILED or KILLED."""
        self.close()
        self.client.set_terminated(self.run_id, status)

    def close(self) -> None:
        """Confirm the epoch writes under way and stop their thread; the run stays open."""
        self._wait()
        self.background.shutdown()

    def _wait(self) -> None:
        pending, self.pending = self.pending, []  # a failed write is reported once, not again
        for write in pending:
            write.result()


def _dataset_input(split: InputSplit) -> DatasetInput:
    """MLflow's dataset record of a split: name, digest, source, and the arrays' schema and shape."""
    # Imported here, in the processes that train: with mlflow.data loaded, creating a client
    # imports TensorFlow (MLflow's dataset plugins), which a grid's parent process must not.
    import mlflow.data
    from mlflow.data.code_dataset_source import CodeDatasetSource

    dataset = mlflow.data.from_numpy(
        split.features,
        targets=split.targets,
        name=split.name,
        digest=split.digest,
        source=CodeDatasetSource({"source": split.source}),
    )
    return DatasetInput(dataset._to_mlflow_entity(), tags=[InputTag(Tag.DATA_CONTEXT, split.context)])


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _finite_metrics(metrics: dict, step: int) -> list:
    """NaN and Inf are left out: the MLflow UI cannot show them (NaN events are recorded as data)."""
    now = int(time.time() * 1000)
    return [Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None and math.isfinite(v)]


def _text_values(mapping: dict) -> dict:
    return {k: "" if v is None else str(v) for k, v in mapping.items()}
