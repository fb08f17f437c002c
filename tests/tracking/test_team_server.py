"""The team tracking server (kerasce/tracking/team_server.py) and its command (kerasce/server.py):
a real PostgreSQL and `mlflow server` on loopback, started and stopped by the tests."""

import shutil
import subprocess
import sys

import pytest
import requests
from conftest import server_data_dir

from kerasce.tracking import team_server as server
from kerasce.tracking.team_server import PASSWORD_VARIABLE, ServerError, ServerOptions


def test_serving_other_machines_needs_a_password(tmp_path):
    with pytest.raises(ServerError, match=f"serving beyond this machine needs .*{PASSWORD_VARIABLE}"):
        server.start(ServerOptions(tmp_path, host="0.0.0.0"), environ={})
    with pytest.raises(ServerError, match="12 characters"):
        server.start(ServerOptions(tmp_path, auth=True), environ={PASSWORD_VARIABLE: "short"})
    assert not (tmp_path / "state.json").exists()  # nothing started


def test_the_command_proxies_artifacts_and_keeps_the_password_out_of_it(tmp_path):
    options = ServerOptions(tmp_path, host="0.0.0.0", port=5123)
    command = server.mlflow_command(options, "postgresql+psycopg2://db/mlflow", tmp_path)
    assert "--serve-artifacts" in command and command[command.index("--host") + 1] == "0.0.0.0"
    assert command[-2:] == ["--app-name", "basic-auth"]
    assert ServerOptions(tmp_path).url == "http://127.0.0.1:5000" and not ServerOptions(tmp_path).needs_auth


def test_status_and_stop_without_a_server(tmp_path):
    assert "no tracking server running" in server.status(tmp_path)
    assert server.stop(tmp_path) == []
    result = subprocess.run(
        [sys.executable, "-m", "kerasce.server", "status", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "no tracking server running" in result.stdout


@pytest.mark.slow
def test_a_server_for_other_machines_refuses_strangers_and_accepts_its_user():
    """Started with basic auth (as for --host 0.0.0.0) but on loopback: real HTTP requests."""
    tmp_path, password = server_data_dir(), "correct-horse-battery"
    options = ServerOptions(tmp_path, port=_free_port(), auth=True, workers=1)
    server.start(options, environ={**__import__("os").environ, PASSWORD_VARIABLE: password})
    try:
        search = f"{options.url}/api/2.0/mlflow/experiments/search?max_results=1"
        assert requests.get(search, timeout=10).status_code == 401
        assert requests.get(search, auth=("admin", "wrong-password-123"), timeout=10).status_code == 401
        assert requests.get(search, auth=("admin", password), timeout=10).status_code == 200
        assert "basic auth" in server.status(tmp_path)
        stored = "".join(p.read_text(errors="ignore") for p in tmp_path.glob("*") if p.is_file())
        assert password not in stored  # not in state.json, basic_auth.ini or mlflow.log
    finally:
        assert server.stop(tmp_path)
    assert not server.running(tmp_path)
    shutil.rmtree(tmp_path, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
