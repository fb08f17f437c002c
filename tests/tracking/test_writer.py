"""The tracking writer against a real temporary SQLite store, read back through MLflow's client."""

import math

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from kerasce.tracking.schema import EXPERIMENT_KIND, EXPERIMENT_KIND_TAG, InputSplit, RunRecord, RunStart, Tag
from kerasce.tracking.writer import Tracker, open_experiment


@pytest.fixture
def tracker(tmp_path):
    return Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "writer")


def test_a_run_is_started_streamed_and_completed_from_plain_records(tracker, tmp_path):
    parent = tracker.start_run(RunStart("parent", {}, {Tag.KIND: "grid"}))
    run = tracker.start_run(
        RunStart("cell", {"train.epochs": 2, "empty": None}, {Tag.KIND: "cell"}, parent.run_id)
    )
    run.log_epoch(0, {"loss": 1.0, "val_loss": math.nan})
    run.log_epoch(1, {"loss": 0.5, "val_loss": 0.7})
    record = RunRecord(
        metrics={"test_loss": 0.4},
        tags={Tag.LOSS_PATH: "fused_logits"},
        texts={"history.csv": "epoch,loss\n0,1.0\n", "nested/notes.txt": "hello"},
        images={"figure.png": b"\x89PNG fake"},
    )
    run.complete(record)
    with pytest.raises(RuntimeError, match="shutdown"):  # the epoch-write thread is stopped
        run.background.submit(print)
    client = MlflowClient(tracker.uri)
    stored = client.get_run(run.run_id)
    assert stored.info.status == "FINISHED" and stored.info.run_name == "cell"
    assert stored.data.params == {"train.epochs": "2", "empty": ""}
    assert (
        stored.data.tags[Tag.PARENT_RUN] == parent.run_id
        and stored.data.tags[Tag.LOSS_PATH] == "fused_logits"
    )
    assert Tag.HEARTBEAT in stored.data.tags
    assert [m.value for m in client.get_metric_history(run.run_id, "loss")] == [1.0, 0.5]
    assert [m.step for m in client.get_metric_history(run.run_id, "val_loss")] == [1]  # NaN left out
    assert stored.data.metrics["test_loss"] == 0.4
    paths = {a.path for a in client.list_artifacts(run.run_id)} | {
        a.path for a in client.list_artifacts(run.run_id, "nested")
    }
    assert {"history.csv", "figure.png", "nested/notes.txt"} <= paths


def test_a_failed_record_ends_the_run_failed(tracker):
    run = tracker.start_run(RunStart("cell", {}, {}))
    run.complete(RunRecord(texts={"traceback.txt": "Traceback ..."}, status="FAILED"))
    assert MlflowClient(tracker.uri).get_run(run.run_id).info.status == "FAILED"


def test_runs_are_found_by_tag_and_ended(tracker):
    first = tracker.start_run(RunStart("a", {}, {Tag.KIND: "cell"}))
    tracker.start_run(RunStart("b", {}, {Tag.KIND: "grid"}))
    found = tracker.runs_by_tag(Tag.KIND, "cell")
    assert [r["run_id"] for r in found] == [first.run_id] and found[0]["status"] == "RUNNING"
    tracker.end_run(first.run_id, "KILLED")
    assert tracker.runs_by_tag(Tag.KIND, "cell")[0]["status"] == "KILLED"


def test_one_tracker_per_store_and_experiment_in_a_process(tracker):
    assert open_experiment(tracker.uri, "writer") is open_experiment(tracker.uri, "writer")
    assert open_experiment(tracker.uri, "writer").experiment_id == tracker.experiment_id


def test_dataset_inputs_are_logged_with_digest_and_context(tracker):
    features, targets = np.zeros((5, 3), dtype="float32"), np.arange(5)
    inputs = [InputSplit(f"d-{c}", "f1ngerprint", c, "sklearn", features, targets) for c in ("train", "test")]
    run = tracker.start_run(RunStart("cell", {}, {}, inputs=inputs))
    run.finish()
    stored = MlflowClient(tracker.uri).get_run(run.run_id).inputs.dataset_inputs
    found = {i.dataset.name: (i.dataset.digest, {t.key: t.value for t in i.tags}) for i in stored}
    assert found == {
        "d-train": ("f1ngerprint", {Tag.DATA_CONTEXT: "train"}),
        "d-test": ("f1ngerprint", {Tag.DATA_CONTEXT: "test"}),
    }
    assert '"features_shape": [5, 3]' in stored[0].dataset.profile


def test_experiments_declare_their_kind_and_link_to_the_training_view(tmp_path):
    uri = f"sqlite:///{tmp_path / 'kind.db'}"
    client = MlflowClient(uri)
    older = client.create_experiment("older")  # as an earlier kerasce left it: no kind tag
    for name in ("fresh", "older"):
        tracker = Tracker(uri, name)
        assert client.get_experiment(tracker.experiment_id).tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    assert Tracker(uri, "older").runs_link() == (
        f"http://127.0.0.1:5000/#/experiments/{older}?workflowType=machine_learning"
    )
