"""Where a run came from: software versions, backend settings and the code's git commit."""

import functools
import os
import platform
import subprocess
from importlib import metadata

PACKAGES = ("tensorflow", "keras", "mlflow", "numpy", "scikit-learn", "pandas", "kerasce")


@functools.cache
def provenance_tags() -> dict:
    """Tags that say which software and settings produced a run (computed once per process)."""
    tags = {"kerasce.version.python": platform.python_version()}
    for package in PACKAGES:
        try:
            tags[f"kerasce.version.{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            tags[f"kerasce.version.{package}"] = "not installed"
    tags["kerasce.keras_backend"] = os.environ.get("KERAS_BACKEND", "tensorflow")
    # TensorFlow turns oneDNN on by default on x86 CPUs; it changes float summation order.
    tags["kerasce.onednn"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (TensorFlow default: on)")
    tags["kerasce.host"] = platform.node()
    tags.update(_git_state())
    return tags


def _git_state() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return {"kerasce.git_commit": "not a git checkout"}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {"kerasce.git_commit": "git unavailable"}
    return {
        "kerasce.git_commit": commit.stdout.strip(),
        "kerasce.git_dirty": str(bool(status.stdout.strip())),
    }
