"""A SQLite store: checked before use, created whole or not at all (tracking/sqlite.py)."""

import sqlite3

import pytest
from mlflow.tracking import MlflowClient

from kerasce.tracking.sqlite import CREATING, StoreError, check_existing, head_revision, prepare
from kerasce.tracking.store import open_store
from kerasce.tracking.writer import Tracker


def uri_of(path) -> str:
    return f"sqlite:///{path}"


def test_a_new_store_is_built_aside_then_renamed_into_place(tmp_path):
    path = tmp_path / "store" / "mlflow.db"
    path.parent.mkdir()
    (path.parent / f"mlflow.db{CREATING}").write_bytes(b"half a store from a killed start")
    prepare(path, (tmp_path / "artifacts").as_uri(), create=True)
    assert sorted(p.name for p in path.parent.iterdir()) == ["mlflow.db", "mlflow.db.lock"]
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check_existing(path)  # complete, this MLflow's schema
    assert MlflowClient(uri_of(path)).search_experiments()


def test_an_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "mlflow.db"
    path.touch()
    open_store(uri_of(path))
    check_existing(path)


def test_a_reader_never_creates_a_store(tmp_path):
    path = tmp_path / "typo" / "mlflow.db"
    with pytest.raises(StoreError, match="no store at .*typo/mlflow.db"):
        open_store(uri_of(path), create=False)
    assert not path.parent.exists()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.mkdir(), "is a directory; name the database file inside it"),
        (lambda p: p.write_bytes(b"\x00garbage" * 100), "is not an SQLite database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000), "damaged SQLite database"),
    ],
)
def test_a_path_that_is_no_store_is_named(tmp_path, make, message):
    path = tmp_path / "mlflow.db"
    make(path)
    with pytest.raises(StoreError, match=message):
        open_store(uri_of(path))


def test_a_store_whose_parent_is_a_file_or_under_proc_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot create the store .*file is a file, not a folder"):
        open_store(uri_of(tmp_path / "file" / "mlflow.db"))
    with pytest.raises(StoreError, match="cannot (create|write) the store /proc/"):
        open_store("sqlite:////proc/kerasce/mlflow.db")


def half_created(path, runs: int) -> None:
    """What an interrupted migration of an older kerasce left: some tables, an old schema version."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE experiments (experiment_id INTEGER)")
        connection.execute("CREATE TABLE runs (run_uuid TEXT)")
        connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        connection.execute("INSERT INTO alembic_version VALUES ('451aebb31d03')")
        connection.executemany("INSERT INTO runs VALUES (?)", [(str(i),) for i in range(runs)])


def test_a_half_created_store_is_explained_with_the_command_that_mends_it(tmp_path):
    empty, used = tmp_path / "empty.db", tmp_path / "used.db"
    half_created(empty, runs=0)
    half_created(used, runs=3)
    with pytest.raises(StoreError, match=f"half-created.*holds no runs.*rm {empty}"):
        open_store(uri_of(empty))
    with pytest.raises(
        StoreError, match=f"schema 451aebb31d03, this MLflow needs {head_revision()}.*mlflow db upgrade"
    ):
        open_store(uri_of(used))


def test_a_tracker_and_a_reader_share_the_store_it_created(tmp_path):
    uri = uri_of(tmp_path / "s" / "mlflow.db")
    tracker = Tracker(uri, "e")
    open_store(uri, create=False)
    assert tracker.client.get_experiment_by_name("e") is not None
