"""Where runs are stored: the tracking URI, its default, and whether a server answers.

Default store: SQLite at mlruns/mlflow.db, artifacts under mlruns/artifacts (MLflow 3 retired the
plain file store). `--tracking-uri` or MLFLOW_TRACKING_URI point elsewhere, a server included.
"""

import contextlib
import errno
import gc
import os
from pathlib import Path

import requests

from kerasce.command import first_line
from kerasce.errors import StoreUnavailable, choices_message
from kerasce.tracking import sqlite
from kerasce.tracking.sqlite import StoreError

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
REACHABILITY_TIMEOUT = 5  # seconds to wait for a tracking server's /health at start


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


# Signs, in an error or anything it was raised from, that the store itself cannot take writes.
WRITE_FAILURES = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
}
WRITE_FAILURE_TEXTS = {
    "database or disk is full": "disk full",
    "no space left on device": "disk full",
    "readonly database": "read-only store",
    "read-only file system": "read-only file system",
    "disk i/o error": "disk I/O error",
}


def write_failure(error: BaseException, uri: str) -> StoreUnavailable | None:
    """The StoreUnavailable to end a grid with when `error` is the store refusing a write (a full
    disk, a read-only file system), else None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        reason = WRITE_FAILURES.get(getattr(error, "errno", None))
        text = str(error).lower()
        reason = reason or next((why for sign, why in WRITE_FAILURE_TEXTS.items() if sign in text), None)
        if reason:
            where = getattr(error, "filename", None) or sqlite_path(uri) or uri
            return StoreUnavailable(
                f"{reason} writing to {where}: free space (or make it writable) and repeat the command "
                "to resume; finished cells are skipped"
            )
        error = error.__cause__ or error.__context__
    return None


@contextlib.contextmanager
def writes_to(uri: str):
    """The store refusing a write inside the block, or a tracking server gone during it,
    surfaces as StoreUnavailable (exit 3)."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as error:
        failure = write_failure(error, uri)
        if failure is None:
            check_reachable(uri)  # a server that went away mid-write: TrackingUnavailable
            raise
        raise failure from None
