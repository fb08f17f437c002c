"""A team tracking server: PostgreSQL (from the pgserver wheel, or one you name) and `mlflow server`
on it with proxied artifacts, so workers on other machines need only the server's URL.

Everything lives in one data directory (default .kerasce-server/): pgdata/ (the database),
artifacts/, mlflow.log and state.json (what `stop` and `status` need). Data survives a restart.
Served beyond this machine it requires MLflow's basic-auth app; the admin password comes from the
environment of `start` only and is handed to the server process's environment, never written to
a file, a log or a run.
"""

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import requests

from kerasce.errors import KerasceError

DEFAULT_DATA_DIR = Path(".kerasce-server")
PASSWORD_VARIABLE = "KERASCE_SERVER_PASSWORD"  # the admin password the user sets
USER_VARIABLE = "KERASCE_SERVER_USER"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
START_TIMEOUT = 120  # seconds for `mlflow server` to answer /health (it migrates a new database)
STOP_TIMEOUT = 20


class ServerError(KerasceError):
    """The tracking server could not be started, stopped or found."""


@dataclass(frozen=True)
class ServerOptions:
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: int = 5000
    backend_store_uri: str | None = None  # None: a PostgreSQL in data_dir/pgdata (pgserver)
    auth: bool = False  # forced on for a host other than loopback
    workers: int = 2

    @property
    def needs_auth(self) -> bool:
        return self.auth or self.host not in LOOPBACK

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"


def start(options: ServerOptions, environ=os.environ) -> dict:
    """Start PostgreSQL (unless options name a database) and `mlflow server`; returns the state."""
    data = options.data_dir.resolve()
    if running(data):
        raise ServerError(f"a tracking server from {data} is running already; `stop` it first")
    credentials = _credentials(options, environ)
    data.mkdir(parents=True, exist_ok=True)
    (data / "artifacts").mkdir(exist_ok=True)
    backend = options.backend_store_uri or start_postgres(data / "pgdata")
    command = mlflow_command(options, backend, data)
    env = {**environ, **_auth_environment(data, credentials)} if credentials else dict(environ)
    with open(data / "mlflow.log", "ab") as log:
        # Its own session: `stop` ends the server with its worker processes as one group.
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    state = {
        "pid": process.pid,
        "url": options.url,
        "host": options.host,
        "port": options.port,
        "auth": bool(credentials),
        "pgdata": None if options.backend_store_uri else str(data / "pgdata"),
    }
    (data / "state.json").write_text(json.dumps(state, indent=2))
    _wait_healthy(process, options.url, data / "mlflow.log")
    return state


def _credentials(options: ServerOptions, environ) -> tuple[str, str] | None:
    if not options.needs_auth:
        return None
    password = environ.get(PASSWORD_VARIABLE, "")
    if len(password) < 12:
        why = "serving beyond this machine needs" if options.host not in LOOPBACK else "--auth needs"
        raise ServerError(
            f"{why} MLflow's basic-auth app: set {PASSWORD_VARIABLE} to the admin password "
            f"(12 characters or more) and, optionally, {USER_VARIABLE} (default admin)"
        )
    return environ.get(USER_VARIABLE, "admin"), password


def _auth_environment(data: Path, credentials: tuple[str, str]) -> dict:
    """The basic-auth app's settings: users in data/auth.db, the admin from the environment."""
    ini = data / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{data / 'auth.db'}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    key_file = data / "flask_secret_key"
    if not key_file.exists():  # kept, so sessions stay valid across restarts
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32))
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(ini),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": key_file.read_text(),
        "MLFLOW_AUTH_ADMIN_USERNAME": credentials[0],
        "MLFLOW_AUTH_ADMIN_PASSWORD": credentials[1],  # read once, to create the admin user
    }


def mlflow_command(options: ServerOptions, backend_store_uri: str, data: Path) -> list[str]:
    command = [sys.executable, "-m", "mlflow", "server", "--host", options.host, "--port", str(options.port)]
    command += ["--backend-store-uri", backend_store_uri, "--serve-artifacts"]
    command += ["--artifacts-destination", str(data / "artifacts"), "--workers", str(options.workers)]
    return command + (["--app-name", "basic-auth"] if options.needs_auth else [])


def start_postgres(pgdata: Path) -> str:
    """A real PostgreSQL in `pgdata` (created on first use, reused after), listening on a Unix
    socket only; returns the URI of its `mlflow` database. As root, pgserver runs it as the
    system user `pgserver`, which it creates (PostgreSQL refuses to run as root)."""
    pgserver = _import_pgserver()
    pgdata.mkdir(parents=True, exist_ok=True)
    # Not get_server: it caches a handle per directory, stale once `stop` has stopped that server.
    server = pgserver.PostgresServer(pgdata.resolve(), cleanup_mode=None)  # outlives this process
    if "1 row" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'mlflow';"):
        server.psql("CREATE DATABASE mlflow;")
    # Named driver: SQLAlchemy 2.1 takes psycopg 3 for a bare postgresql://, the extra installs psycopg2.
    return server.get_uri(database="mlflow").replace("postgresql://", "postgresql+psycopg2://", 1)


def _import_pgserver():
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError:
        raise ServerError(
            "the team server needs the pgserver package; pip install -e '.[server]' "
            "(or give --backend-store-uri postgresql://...)"
        ) from None
    return pgserver


def _wait_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline:
        if process.poll() is not None:
            raise ServerError(f"mlflow server exited with {process.returncode}; its log: {log}\n{_tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/health", timeout=2).ok:
                return
        time.sleep(0.5)
    raise ServerError(f"mlflow server did not answer {url}/health within {START_TIMEOUT} s; log: {log}")


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def read_state(data_dir: Path) -> dict | None:
    path = Path(data_dir) / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def running(data_dir: Path) -> bool:
    state = read_state(data_dir)
    return bool(state) and _alive(state["pid"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (ended, not yet reaped by the process that started it) is not alive
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def stop(data_dir: Path = DEFAULT_DATA_DIR) -> list[str]:
    """Stop the mlflow server (its whole process group) and the PostgreSQL it used; says what."""
    state, stopped = read_state(data_dir), []
    if state is None:
        return stopped
    if _alive(state["pid"]):
        _stop_group(state["pid"])
        stopped.append(f"mlflow server (pid {state['pid']})")
    if state.get("pgdata") and stop_postgres(Path(state["pgdata"])):
        stopped.append(f"PostgreSQL ({state['pgdata']})")
    return stopped


def _stop_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)  # the group start() created: the server and its workers
    deadline = time.time() + STOP_TIMEOUT
    while time.time() < deadline and _alive(pid):
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # when this process started it (tests), reap it


def stop_postgres(pgdata: Path) -> bool:
    if not (pgdata / "postmaster.pid").exists():
        return False
    pgserver = _import_pgserver()
    user = "pgserver" if os.geteuid() == 0 else None  # the user pgserver runs it as under root
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def status(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    state = read_state(data_dir)
    if state is None or not _alive(state["pid"]):
        return f"no tracking server running from {Path(data_dir).resolve()}"
    try:
        healthy = requests.get(f"{state['url']}/health", timeout=2).ok
    except requests.RequestException:
        healthy = False
    auth = "basic auth" if state["auth"] else "no auth (this machine only)"
    database = f"PostgreSQL in {state['pgdata']}" if state["pgdata"] else "the database you named"
    return f"{state['url']} ({'healthy' if healthy else 'not answering'}, {auth}), on {database}"
