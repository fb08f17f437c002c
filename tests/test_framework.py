"""TensorFlow's start-up lines are dropped; the user's own stderr output is not."""

import os
import shutil
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


# A CUDA driver whose cuInit fails, as on a machine with the driver installed and no usable GPU.
FAILING_DRIVER = """
typedef int CUresult;
CUresult cuInit(unsigned int flags) { return 303; }
CUresult cuDriverGetVersion(int *version) { *version = 13000; return 0; }
CUresult cuGetErrorString(CUresult error, const char **text) { *text = "UNKNOWN ERROR"; return 0; }
CUresult cuGetErrorName(CUresult error, const char **text) { *text = "CUDA_ERROR_UNKNOWN"; return 0; }
"""

TRAIN_A_STEP = """
from kerasce.framework import import_keras_quietly
import_keras_quietly()
import keras, numpy as np
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="mse")
model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
"""


@pytest.mark.slow
def test_a_driver_whose_cuinit_fails_prints_nothing_whatever_the_log_level(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in CUDA driver")
    (tmp_path / "driver.c").write_text(FAILING_DRIVER)
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", tmp_path / "libcuda.so.1", tmp_path / "driver.c"], check=True
    )
    environment = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "0"}
    result = subprocess.run(
        [sys.executable, "-c", TRAIN_A_STEP], capture_output=True, text=True, timeout=120, env=environment
    )
    assert result.returncode == 0, result.stderr
    assert "cuInit" not in result.stderr and "E0000" not in result.stderr, result.stderr
