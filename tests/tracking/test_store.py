"""Where runs are stored, and a tracking server that does not answer."""

import gc
import socket

import pytest

from kerasce.tracking.sqlite import StoreError
from kerasce.tracking.store import (
    TrackingUnavailable,
    artifact_root,
    check_reachable,
    check_uri,
    collector_paused,
    resolve_tracking_uri,
    writes_to,
)


def test_the_default_store_is_sqlite_in_mlruns(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == "sqlite:///mlruns/mlflow.db"
    assert not (tmp_path / "mlruns").exists()  # resolving a URI creates nothing
    assert artifact_root("sqlite:///mlruns/mlflow.db") == (tmp_path / "mlruns" / "artifacts").as_uri()
    assert artifact_root("http://127.0.0.1:5000") is None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example:5000")
    assert resolve_tracking_uri() == "http://example:5000"


@pytest.mark.parametrize(
    "uri, message",
    [
        ("mlruns2", "names a folder.*sqlite:///mlruns2/mlflow.db"),
        ("runs/store.db", "sqlite:///runs/store.db"),
        ("file:///tmp/mlruns", "retired file store.*sqlite:////tmp/mlruns/mlflow.db"),
        ("ftp://host/runs", "scheme: 'ftp' is not valid; choose one of: sqlite, http"),
        ("sqlite://store.db", "a SQLite store is a file"),
        ("sqlite:///:memory:", "a SQLite store is a file"),
    ],
)
def test_a_uri_that_names_no_usable_store_says_what_would(uri, message):
    with pytest.raises(StoreError, match=message):
        check_uri(uri)


def test_an_unreachable_server_is_named():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TrackingUnavailable, match=f"http://127.0.0.1:{port}"):
        check_reachable(f"http://127.0.0.1:{port}")


def test_a_write_that_fails_because_the_server_went_away_says_so():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TrackingUnavailable, match="repeat the command once the server is back"):
        with writes_to(f"http://127.0.0.1:{port}"):
            raise RuntimeError("API request failed with exception: Connection refused")
    with pytest.raises(RuntimeError):  # any other store: the error as it is
        with writes_to("sqlite:///unused.db"):
            raise RuntimeError("a bug")


@pytest.mark.parametrize("enabled_before", [True, False])
def test_reading_many_runs_leaves_the_garbage_collector_as_it_found_it(enabled_before):
    (gc.enable if enabled_before else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled_before
        with pytest.raises(ValueError), collector_paused():
            raise ValueError("a failed read")
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()
