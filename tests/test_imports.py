"""Validating a config, --help, --list-formulations and a bad --dry-run never import TensorFlow or
Keras: a typo is answered in about a second, before any framework starts."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from kerasce.experiment import main
try:
    code = main({argv!r})
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("tensorflow", "keras", "jax", "torch", "mlflow") if m in sys.modules)
print(code, ",".join(heavy) or "-")
"""


@pytest.mark.parametrize(
    "argv, code",
    [
        (["--help"], 0),
        (["--list-formulations"], 0),
        (["--dry-run", "--set", "train.epochs=-1"], 2),
        (["--set", "data.dataset=mnst"], 2),
        (["--config", "experiments/smoke.toml", "--dry-run"], 0),
    ],
)
def test_no_framework_is_imported(argv, code):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split()[-2:] == [str(code), "-"], result.stdout + result.stderr


@pytest.mark.parametrize(
    "modules, absent",
    [
        ("kerasce.config, kerasce.api", ("tensorflow", "keras")),
        # a grid's parent validates, plans and records the grid; its workers train and draw
        (
            "kerasce.api, kerasce.run.grid, kerasce.run.executors, kerasce.tracking.writer",
            ("matplotlib", "tensorflow", "keras"),
        ),
    ],
)
def test_importing_these_modules_imports_no_framework_or_plotting(modules, absent):
    probe = f"import sys, {modules}; print([m for m in {absent!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


SIDE_EFFECTS_PROBE = """
import logging, os, pkgutil, importlib, sys
import keras, matplotlib, mlflow, numpy  # the libraries kerasce uses, loaded first: their own state
def state():
    loggers = logging.root.manager.loggerDict.items()
    levels = {name: logger.level for name, logger in loggers if isinstance(logger, logging.Logger)}
    policy = keras.config.dtype_policy().name
    return dict(os.environ), levels, matplotlib.get_backend(), policy, numpy.geterr()
before = state()
import kerasce
skip = ("kerasce.training.torch_step",)  # needs the optional torch
for module in pkgutil.walk_packages(kerasce.__path__, "kerasce."):
    if module.name not in skip:
        importlib.import_module(module.name)
after = state()
names = ("environment", "log levels", "matplotlib backend", "dtype policy", "numpy errors")
changed = [name for name, b, a in zip(names, before, after) if b != a]
levels = [n for n in after[1] if after[1][n] != before[1].get(n, 0)]
print(changed, sorted(set(after[0]) ^ set(before[0])), levels)
"""


@pytest.mark.slow
def test_importing_any_kerasce_module_changes_nothing_global():
    result = subprocess.run(
        [sys.executable, "-c", SIDE_EFFECTS_PROBE], capture_output=True, text=True, timeout=300
    )
    assert result.stdout.strip().splitlines()[-1] == "[] [] []", result.stdout + result.stderr[-2000:]


def test_the_packages_import_one_way():
    """pyproject.toml's import contracts: each stage imports only the stages below it, and the
    store and config stages import no framework (import-linter, transitive imports included)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    linter = Path(sys.executable).parent / "lint-imports"
    checked = subprocess.run(
        [str(linter), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": str(linter.parent)},
    )
    assert checked.returncode == 0 and "2 kept, 0 broken" in checked.stdout, checked.stdout[-3000:]
