"""TensorFlow's start-up lines are dropped; the user's own stderr output is not."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from kerasce.framework import import_keras_quietly
print("before", file=sys.stderr, flush=True)
import_keras_quietly()
import keras
print("after", keras.backend.backend(), file=sys.stderr, flush=True)
"""


@pytest.mark.slow
def test_start_up_lines_are_dropped_and_stderr_restored():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["before", "after tensorflow"]
