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


def test_importing_the_config_and_the_api_imports_no_framework():
    probe = (
        "import sys, kerasce.config, kerasce.api; "
        "print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_a_grid_parent_process_imports_no_plotting_or_framework():
    # The parent validates, plans and records the grid; its workers train and draw.
    probe = (
        "import sys, kerasce.api, kerasce.run.grid, kerasce.run.executors, kerasce.tracking.writer; "
        "print([m for m in ('matplotlib', 'tensorflow', 'keras') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
