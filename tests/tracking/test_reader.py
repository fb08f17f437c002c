"""Reading runs back through MLflow's public API, from a store the writer filled."""

import socket

import pytest

from kerasce.compare import main as compare_main
from kerasce.errors import KerasceError
from kerasce.tracking.reader import StoreReader
from kerasce.tracking.schema import RunRecord, RunStart, Tag
from kerasce.tracking.writer import Tracker


def test_runs_and_their_tables_come_back_as_dataframes(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run = Tracker(uri, "read").start_run(RunStart("cell", {"seed": 1}, {Tag.KIND: "cell"}))
    run.complete(RunRecord(metrics={"test_loss": 0.25}, texts={"history.csv": "epoch,loss\n0,1.5\n1,0.5\n"}))
    reader = StoreReader(uri)
    assert reader.experiment_names() == ["Default", "read"]
    runs = reader.runs(["read"])
    assert list(runs["params.seed"]) == ["1"] and list(runs["metrics.test_loss"]) == [0.25]
    assert list(reader.table(run.run_id, "history.csv")["loss"]) == [1.5, 0.5]
    assert reader.artifact_paths(run.run_id) == {"history.csv"}
    assert reader.runs(["read"], "params.seed = '2'").empty


def test_an_unknown_experiment_names_the_ones_there(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    Tracker(uri, "present")
    with pytest.raises(KerasceError, match="no experiment named 'absent'.*present"):
        StoreReader(uri).runs(["absent"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_comparing_a_store_that_is_not_there_or_broken_is_one_line(tmp_path, capsys):
    mistyped = tmp_path / "mlrun" / "mlflow.db"
    corrupted = tmp_path / "corrupted.db"
    corrupted.write_bytes(b"\x00\x01 not a database" * 50)
    for uri, code, message in [
        (f"sqlite:///{mistyped}", 2, f"error: no store at {mistyped}"),
        (f"sqlite:///{corrupted}", 2, f"error: {corrupted} is not an SQLite database"),
        (f"http://127.0.0.1:{free_port()}", 3, "error: cannot reach the MLflow tracking server"),
    ]:
        assert compare_main(["--tracking-uri", uri, "--no-figures"]) == code
        err = capsys.readouterr().err.strip()
        assert err.startswith(message) and len(err.splitlines()) == 1, err
    assert not mistyped.parent.exists()  # a reader never creates a store
