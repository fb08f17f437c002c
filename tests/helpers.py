"""Small builders shared by the tests."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from mlflow.tracking import MlflowClient

from kerasce.config.formulations import get_formulation
from kerasce.model.models import build_model, compile_model
from kerasce.tracking.store import open_store


def logit_model(name: str, n_classes: int, precision: str = "float32"):
    """A compiled model whose head's logits equal its input: identity kernel, zero bias."""
    formulation = get_formulation(name)
    units = formulation.head_units(n_classes)
    model = build_model(formulation, units, n_classes, hidden_units=(), precision=precision)
    compile_model(model, formulation, precision=precision)
    model.get_layer("head").set_weights([np.eye(units, dtype="float32"), np.zeros(units, "float32")])
    return model


def per_sample_loss(model, logits, labels) -> np.ndarray:
    """The compiled loss of each sample, evaluated as training evaluates it."""
    logits = np.asarray(logits, dtype="float32")
    return np.array(
        [
            model.test_on_batch(logits[i : i + 1], np.asarray(labels)[i : i + 1], return_dict=True)["loss"]
            for i in range(len(logits))
        ]
    )


ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.toml"


def _default_sigint():
    """A shell that starts a command in the background (as CI may run the tests) leaves SIGINT
    ignored, and children inherit that: the CLI under test gets Python's usual Ctrl-C handling."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(uri, *args, quiet=True):
    """The real experiment CLI on the smoke config, as a subprocess."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kerasce.experiment",
            "--config",
            str(SMOKE),
            "--tracking-uri",
            uri,
            *(["--quiet"] if quiet else []),
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def store_client(uri) -> MlflowClient:
    """A client of `uri`, the store created first the way kerasce creates one (whole, under its
    lock): a bare MlflowClient would create an empty SQLite store's tables itself, while a CLI
    under test may be creating them at the same moment."""
    open_store(uri, create=True)
    return MlflowClient(uri)


def wait_for_epochs(process, uri, list_runs, epochs=2, timeout=300):
    """The first RUNNING run of `list_runs()` with at least `epochs` epochs logged. Fails at once,
    with the command's output, when the command under test (`process`) ends before that."""
    client, deadline = store_client(uri), time.time() + timeout
    while time.time() < deadline:
        for run in list_runs():
            history = client.get_metric_history(run.info.run_id, "loss")
            if run.info.status == "RUNNING" and len(history) >= epochs:
                return run
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"exit {process.returncode} before {epochs} epochs:\n{(out + err)[-3000:]}")
        time.sleep(0.5)
    raise AssertionError(f"no run reached {epochs} epochs in {timeout} s")
