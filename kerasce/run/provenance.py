"""Where a run came from: software versions, backend settings and the code's git commit."""

import functools
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from kerasce.tracking.schema import Tag

PACKAGES = ("tensorflow", "keras", "mlflow", "numpy", "scikit-learn", "pandas", "kerasce")


@functools.cache
def provenance_tags() -> dict:
    """Tags that say which software and settings produced a run (computed once per process)."""
    tags = {f"{Tag.VERSION}python": platform.python_version()}
    for package in PACKAGES:
        try:
            tags[f"{Tag.VERSION}{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            tags[f"{Tag.VERSION}{package}"] = "not installed"
    tags[Tag.KERAS_BACKEND] = keras_backend()
    # TensorFlow turns oneDNN on by default on x86 CPUs; it changes float summation order.
    tags[Tag.ONEDNN] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (TensorFlow default: on)")
    tags.update(_git_state())
    return tags


def keras_backend() -> str:
    """The Keras backend of this process: Keras' own answer once it is loaded."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def _git_state() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return {Tag.GIT_COMMIT: "not a git checkout"}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {Tag.GIT_COMMIT: "git unavailable"}
    return {
        Tag.GIT_COMMIT: commit.stdout.strip(),
        Tag.GIT_DIRTY: str(bool(status.stdout.strip())),
    }


STALE_HEARTBEAT_SECONDS = 900  # a run on another host with no heartbeat for this long is dead


def process_start_time(pid: int) -> str:
    """The kernel's start time of a process (Linux), so a reused pid is not taken for the old one."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def process_tags() -> dict:
    """Tags that let a later invocation tell whether the process writing a run is still alive."""
    pid = os.getpid()
    return {Tag.HOST: platform.node(), Tag.PID: pid, Tag.PID_START: process_start_time(pid)}


def writer_alive(tags: dict, now: float) -> bool:
    """Is the process that wrote a RUNNING run (per its tags) still alive?"""
    if tags.get(Tag.HOST) != platform.node():
        heartbeat = float(tags.get(Tag.HEARTBEAT, 0) or 0)
        return now - heartbeat < STALE_HEARTBEAT_SECONDS
    try:
        pid = int(tags.get(Tag.PID, ""))
    except ValueError:
        return False
    return process_start_time(pid) == tags.get(Tag.PID_START) != ""
