"""A SQLite store on disk: checked before anything uses it, and created whole or not at all.

MLflow creates a new SQLite store's tables on first use, in a migration of several seconds; an
interruption inside it used to leave a half-migrated file that neither kerasce nor MLflow could
open again. Here a new store is built under a temporary name and renamed into place under the
store lock, so an interrupted start leaves either no store or a complete one, and a reader never
meets a store being migrated.
"""

import contextlib
import fcntl
import functools
import os
import signal
import sqlite3
import threading
from pathlib import Path

from kerasce.errors import KerasceError

SQLITE_HEADER = b"SQLite format 3\x00"
CREATING = ".creating"  # suffix of a store under construction (a stale one is removed)


class StoreError(KerasceError):
    """The store named cannot be used as it is: the message says why and what mends it."""


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def store_lock(path: Path):
    """Serialise store creation and cell claims between the processes of one machine."""
    try:
        lock = open(lock_path(path), "w")  # closed below
    except OSError as error:
        raise StoreError(f"cannot write the store {path}: {error.strerror}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prepare(path: Path, artifact_root: str, create: bool) -> None:
    """Check the store at `path`, creating it (atomically) when it is missing and `create`."""
    if path.is_dir():
        raise StoreError(
            f"{path} is a directory; name the database file inside it: sqlite:///{path / 'mlflow.db'}"
        )
    if not create:
        if not path.exists():
            raise StoreError(f"no store at {path} (nothing has run into it yet; check the path)")
        check_existing(path)
        return
    make_parent(path)
    with store_lock(path):
        if not path.exists() or path.stat().st_size == 0:  # an empty file is no store yet
            with signals_deferred():
                create_store(path, artifact_root)
        else:
            check_existing(path)
            if not os.access(path, os.W_OK):
                raise StoreError(f"cannot write the store {path}: the file is read-only")


def make_parent(path: Path) -> None:
    existing = next(folder for folder in path.parents if folder.exists())
    if not existing.is_dir():
        raise StoreError(f"cannot create the store {path}: {existing} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the store {path}: {error.strerror}") from None
    if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
        raise StoreError(f"cannot write the store {path}: {path.parent} is on a read-only file system")
    if not os.access(path.parent, os.W_OK):
        raise StoreError(f"cannot write the store {path}: {path.parent} is not writable")


def create_store(path: Path, artifact_root: str) -> None:
    """Build the tables under a temporary name, in WAL mode, and rename the file into place."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    building = path.with_name(path.name + CREATING)
    for leftover in (building, *(Path(f"{building}{end}") for end in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)  # an earlier creation that was killed
    uri = f"sqlite:///{building}"
    try:
        SqlAlchemyStore(uri, artifact_root)
    except Exception as error:
        raise StoreError(f"cannot create the store {path}: {error}") from None
    finally:
        engine = SqlAlchemyStore._engine_map.pop(uri, None)
        if engine is not None:
            engine.dispose()
    with contextlib.closing(sqlite3.connect(building)) as connection:
        # WAL: readers do not block the writers of parallel workers. Persistent in the file; the
        # last connection's close checkpoints and removes the -wal file before the rename.
        connection.execute("PRAGMA journal_mode=WAL")
    os.replace(building, path)


@contextlib.contextmanager
def signals_deferred():
    """Ctrl-C and SIGTERM wait until the block is done, then act as they would have."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in received[:1]:
            signal.raise_signal(signum)


SIGNALS = (signal.SIGINT, signal.SIGTERM)


def check_existing(path: Path) -> None:
    """A store that is a complete SQLite store of this MLflow's schema, or StoreError saying what
    it is instead and the command that mends it."""
    with open(path, "rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not an SQLite database (damaged, or another kind of file); move it aside and "
            "repeat the command to start a new store there"
        )
    try:
        tables, version, runs = read_schema(path)
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"{path} is a damaged SQLite database ({error}); move it aside or restore a backup"
        ) from None
    if version == head_revision() and {"experiments", "runs"} <= tables:
        return
    if not runs:
        raise StoreError(
            f"{path} was left half-created by an interrupted start and holds no runs: delete it "
            f"(rm {path}) and repeat the command"
        )
    raise StoreError(
        f"{path} has MLflow schema {version or 'unknown'}, this MLflow needs {head_revision()}: back it "
        f"up, then run: mlflow db upgrade sqlite:///{path}"
    )


def read_schema(path: Path) -> tuple[set, str | None, int]:
    """(table names, the alembic schema version or None, the number of runs) of an SQLite store."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            version = row[0] if row else None
        runs = connection.execute("SELECT count(*) FROM runs").fetchone()[0] if "runs" in tables else 0
    return tables, version, runs


@functools.cache
def head_revision() -> str:
    """The schema version this MLflow writes."""
    from mlflow.store.db.utils import _get_latest_schema_revision

    return _get_latest_schema_revision()
