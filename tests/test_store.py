"""Where runs are stored, and a tracking server that does not answer."""

import gc
import socket

import pytest

from kerasce.tracking.store import (
    TrackingUnavailable,
    artifact_root,
    check_reachable,
    collector_paused,
    resolve_tracking_uri,
)


def test_the_default_store_is_sqlite_in_mlruns(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == "sqlite:///mlruns/mlflow.db" and (tmp_path / "mlruns").is_dir()
    assert artifact_root("sqlite:///mlruns/mlflow.db") == (tmp_path / "mlruns" / "artifacts").as_uri()
    assert artifact_root("http://127.0.0.1:5000") is None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example:5000")
    assert resolve_tracking_uri() == "http://example:5000"


def test_an_unreachable_server_is_named():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TrackingUnavailable, match=f"http://127.0.0.1:{port}"):
        check_reachable(f"http://127.0.0.1:{port}")


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
