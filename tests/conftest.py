"""Fixtures shared by the test modules."""

import os
import sys

import pytest

from kerasce import api
from kerasce.command import COMMAND_ENVIRONMENT

# JAX's import sets TF_CPP_MIN_LOG_LEVEL=1 in its process when it is unset, and every command a
# test starts after that would inherit it: they are to start as from a user's shell, where the
# commands' own default applies.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", COMMAND_ENVIRONMENT["TF_CPP_MIN_LOG_LEVEL"])

SHARED_FIXTURES = (
    "finished_store",
    "precision_store",
    "team_server",
)  # session-scoped and costly: built once


def xdist_group(item) -> str | None:
    """The group a test must share a worker with under `pytest -n 2 --dist loadgroup` (make test):
    every user of a costly session fixture in one group, so it is built once; a module's tests in
    one group when they share a module-scoped fixture; any other test runs wherever a worker is free."""
    shared = [name for name in SHARED_FIXTURES if name in item.fixturenames]
    if shared:
        return shared[0]
    # pytest has no public API for the scopes of a test's fixtures
    definitions = item._fixtureinfo.name2fixturedefs.values()
    if any(d[-1].scope == "module" for d in definitions if d):
        return item.module.__name__
    return None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(items):
    """Modules with slow tests first, so that no long test starts last while the other worker
    idles; a module's tests stay together, so its module-scoped fixtures are built once."""
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    for item in items:
        group = xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: item.module.__name__ not in slow_modules)


@pytest.fixture(autouse=True)
def slow_if_it_trains(request, monkeypatch):
    """A test that fits a model must be marked slow, so that `make test-fast` trains none. Checked
    in this process only: a CLI started as a subprocess is not watched."""
    if request.node.get_closest_marker("slow") or "keras" not in sys.modules:
        return  # a test module that uses Keras imports it at collection, before this runs

    def refuse(*args, **kwargs):
        raise AssertionError(f"{request.node.nodeid} trains a model: mark it slow")

    for method in ("fit", "train_on_batch"):
        monkeypatch.setattr(sys.modules["keras"].Model, method, refuse)


# digits x {softmax_ce, logits_ce} x seeds {0, 1}, plus breast_cancer x logit_bce x seeds {0, 1}
COMPARE_GRID = {
    "name": "cmp",
    "model": {"hidden_units": [8]},
    "train": {"epochs": 2},
    "grid": [
        {
            "data.dataset": ["digits"],
            "data.max_samples": [200],
            "formulation": ["softmax_ce", "logits_ce"],
            "seed": [0, 1],
        },
        {"data.dataset": ["breast_cancer"], "formulation": ["logit_bce"], "seed": [0, 1]},
    ],
}


@pytest.fixture(scope="session")
def finished_store(tmp_path_factory):
    """One store with a small finished grid (experiment `cmp`, 6 runs) and an empty experiment
    (`empty`), shared by every test that only reads runs. Building it trains: mark users slow."""
    from kerasce.tracking.writer import Tracker

    uri = f"sqlite:///{tmp_path_factory.mktemp('finished') / 'mlflow.db'}"
    result = api.run_grid(api.load_grid(COMPARE_GRID), uri)
    assert [o.status for o in result.outcomes] == ["FINISHED"] * 6
    Tracker(uri, "empty")
    return uri


# digits x {softmax_ce, logits_ce} x {float32, mixed_float16} x seeds {0, 1}: in float32 softmax_ce
# trains exactly like logits_ce (Keras recovers the logits), under mixed_float16 it clips
PRECISION_GRID = {
    "name": "precisions",
    "model": {"hidden_units": [8]},
    "train": {"epochs": 2, "figures": False},  # the curves' tables are logged without the PNGs
    "grid": [
        {
            "data.dataset": ["digits"],
            "data.max_samples": [200],
            "formulation": ["softmax_ce", "logits_ce"],
            "precision": ["float32", "mixed_float16"],
            "seed": [0, 1],
        }
    ],
}


@pytest.fixture(scope="session")
def precision_store(tmp_path_factory):
    """A store with PRECISION_GRID finished (experiment `precisions`, 8 runs), for the comparison's
    summary, figures and page. Building it trains: mark users slow."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('precisions') / 'mlflow.db'}"
    result = api.run_grid(api.load_grid(PRECISION_GRID), uri)
    assert [o.status for o in result.outcomes] == ["FINISHED"] * 8
    return uri


def server_data_dir():
    """A directory for a PostgreSQL data dir, outside pytest's basetemp: as root, PostgreSQL runs
    as another user that must traverse the path, and every pytest session on the machine resets
    /tmp/pytest-of-<user> to mode 700."""
    import pathlib
    import tempfile

    return pathlib.Path(tempfile.mkdtemp(prefix="kerasce-test-server-"))


@pytest.fixture(scope="session")
def team_server():
    """A real PostgreSQL and `mlflow server` on it (loopback, no auth), shared by the tests that
    need a team server; yields its ServerOptions (tests may stop and start it again)."""
    import shutil
    import socket

    from kerasce.tracking import team_server as server

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = server.ServerOptions(server_data_dir(), port=port, workers=1)
    server.start(options)
    yield options
    server.stop(options.data_dir)
    shutil.rmtree(options.data_dir, ignore_errors=True)
