"""Where runs are stored: the tracking URI, its default, and whether a server answers.

Default store: SQLite at mlruns/mlflow.db, artifacts under mlruns/artifacts (MLflow 3 retired the
plain file store). `--tracking-uri` or MLFLOW_TRACKING_URI point elsewhere, a server included.
"""

import contextlib
import gc
import logging
import os
from pathlib import Path

import requests

from kerasce.command import first_line
from kerasce.errors import StoreUnavailable, choices_message
from kerasce.tracking import sqlite
from kerasce.tracking.sqlite import StoreError

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
REACHABILITY_TIMEOUT = 5  # seconds to wait for a tracking server's /health at start

# A tracking server that goes away must fail the current run within seconds, not minutes:
# bound MLflow's HTTP retries unless the user chose otherwise. (Read by MLflow per request.)
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")


# "Creating initial MLflow database tables..." on every new store is not news to a user.
logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)


class TrackingUnavailable(StoreUnavailable):
    """The tracking server cannot be reached."""


# What MLflow can store runs in; a plain path or file: is the retired file store.
SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks")


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The URI given, else MLFLOW_TRACKING_URI, else the SQLite store in ./mlruns."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def check_uri(uri: str) -> None:
    """StoreError for a tracking URI that names no store MLflow can use, saying what would."""
    scheme = uri.partition("://")[0].partition("+")[0] if "://" in uri else ""
    if scheme in ("", "file"):
        folder = Path(uri.removeprefix("file://"))
        suggestion = folder if folder.suffix == ".db" else folder / "mlflow.db"
        raise StoreError(
            f"tracking URI {uri!r} names a folder, MLflow's retired file store; keep the runs in a "
            f"database there instead: sqlite:///{suggestion}"
        )
    if scheme not in SCHEMES:
        raise StoreError(choices_message(f"tracking URI {uri!r}: scheme", scheme, SCHEMES))
    if scheme == "sqlite" and (not uri.startswith("sqlite:///") or ":memory:" in uri):
        raise StoreError(
            f"tracking URI {uri!r}: a SQLite store is a file, sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db"
        )


def open_store(uri: str, create: bool = True) -> None:
    """Make sure `uri` is a store kerasce can use before anything runs: a server that answers, or
    a complete SQLite file (created whole when missing and `create`)."""
    check_uri(uri)
    check_reachable(uri)
    path = sqlite_path(uri)
    if path is not None:
        sqlite.prepare(path, artifact_root(uri), create)


def artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside its database, wherever the command was started."""
    path = sqlite_path(uri)
    return (path.resolve().parent / "artifacts").as_uri() if path else None  # else a server decides


def sqlite_path(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///").split("?")[0]) if uri.startswith("sqlite:///") else None


@contextlib.contextmanager
def store_lock(uri: str):
    """Serialise store creation and cell claims between processes (SQLite stores: a file lock
    beside the database; a server's database serialises its own writes)."""
    path = sqlite_path(uri)
    if path is None:
        yield
        return
    with sqlite.store_lock(path):
        yield


def check_reachable(uri: str) -> None:
    """Fail fast, naming the URI, when a tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        requests.get(f"{uri.rstrip('/')}/health", timeout=REACHABILITY_TIMEOUT).raise_for_status()
    except requests.RequestException as error:
        raise TrackingUnavailable(
            f"cannot reach the MLflow tracking server at {uri} ({first_line(error)}); repeat the "
            "command once the server is back: finished cells are skipped"
        ) from None


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector off for a block that reads many runs. MLflow's SQL store
    builds an ORM object per param, tag and metric (about 100 a run) and each batch of them sets
    off a collection that walks every object alive: over 1,000 runs that was more than half the
    time of a search. The objects are freed by reference counting when the block ends; the
    collector resumes as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
