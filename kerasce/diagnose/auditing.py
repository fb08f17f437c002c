"""Auditing a compiled Keras model: its head, the loss path the probe measures under each precision
policy (and, in one process each, on every installed backend), its dead zone on the user's data,
and the concrete fix for every clipped or fragile setting."""

import json
import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from kerasce.diagnose.fixes import fix_for
from kerasce.diagnose.rebuild import base_policy, rebuild_under
from kerasce.errors import KerasceError, choices_message
from kerasce.model.heads import Head, HeadError, find_head
from kerasce.model.loss_path import LossPathError, detect_loss_path
from kerasce.model.numerics import clip_saturation_rate, to_probabilities
from kerasce.vocabulary import AuditStatus, status_of, unclassified

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
FAILING_STATUSES = (AuditStatus.CLIPPED, AuditStatus.NAIVE)  # what --strict fails on


class AuditError(KerasceError):
    """The file or the model cannot be audited; the message says why."""


@dataclass
class AuditRow:
    """One audited setting: a backend and a precision policy, and what the probe measured there."""

    backend: str
    precision: str
    loss_path: str
    status: str  # ok | fragile | clipped | naive | unclassified
    as_saved: bool = False  # the policy the model was saved under
    clip_saturation_rate: float | None = None  # on the user's data, when given
    nonfinite_rate: float | None = None
    fix: str | None = None


@dataclass
class Audit:
    """A model's audit: its head, one row per setting, notes on what was left out."""

    model: str
    head: Head
    rows: list[AuditRow]
    notes: list[str] = field(default_factory=list)

    @property
    def clipped(self) -> bool:
        """Does any audited setting train on clipped (or naive) probabilities?"""
        return any(row.status in FAILING_STATUSES for row in self.rows)

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "head": asdict(self.head),
            "rows": [asdict(r) for r in self.rows],
            "notes": self.notes,
            "clipped": self.clipped,
        }

    def text(self) -> str:
        """The audit as a person reads it: head, table, fixes."""
        from kerasce.diagnose.table import audit_text

        return audit_text(self)


def load_model_file(path) -> keras.Model:
    """A saved Keras model with its compiled loss; AuditError naming what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "skipping optimizer variables": the audit never trains
            model = keras.models.load_model(path, compile=True)
    except Exception as error:  # Keras raises ValueError, OSError, zipfile errors... for a bad file
        raise AuditError(
            f"{path}: not a Keras model file Keras can load ({type(error).__name__}: {error})"
        ) from None
    if not isinstance(model, keras.Model):
        raise AuditError(f"{path}: holds a {type(model).__name__}, not a Keras model")
    return model


def load_arrays(path) -> tuple[np.ndarray, np.ndarray]:
    """Features `x` and integer labels `y` (one-hot labels are turned into integers) from a .npz."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(f"--data {path}: no such file")
    try:
        arrays = np.load(path)
        x, y = arrays["x"], arrays["y"]
    except KeyError:
        raise AuditError(
            f"--data {path}: needs arrays named 'x' and 'y' (has {sorted(arrays.files)})"
        ) from None
    except Exception as error:
        raise AuditError(f"--data {path}: not a NumPy .npz file ({error})") from None
    y = np.asarray(y)
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    return np.asarray(x, dtype="float32"), labels.astype(int)


def data_effects(model: keras.Model, head: Head, data) -> dict:
    """On the user's data: the share of samples in the clipped dead zone, and with non-finite outputs."""
    x, labels = data
    outputs = np.asarray(model.predict(x, batch_size=1024, verbose=0), dtype=np.float64)
    nonfinite = ~np.isfinite(outputs).reshape(len(outputs), -1).all(axis=1)
    probabilities = to_probabilities(outputs, head.output_kind)
    return {
        "clip_saturation_rate": clip_saturation_rate(probabilities, labels),
        "nonfinite_rate": float(nonfinite.mean()),
    }


def audit_here(model: keras.Model, precisions=PRECISIONS, data=None) -> tuple[Head, list[AuditRow]]:
    """The head and one row per precision policy, on the backend this process runs."""
    head = find_head(model)
    backend, rows = keras.backend.backend(), []
    for precision in precisions:
        rebuilt = rebuild_under(model, precision)
        try:
            path = detect_loss_path(rebuilt, head.dense)
        except LossPathError as error:
            path = unclassified(str(error))
        row = AuditRow(backend, precision, path, status_of(path), precision == base_policy(model))
        if data is not None:
            row.__dict__.update(data_effects(rebuilt, head, data))
        rows.append(row)
    for row in rows:
        row.fix = fix_for(head, row, rows)
    return head, rows


def _check_precisions(precisions) -> None:
    unknown = [p for p in precisions if p not in PRECISIONS]
    if unknown or not precisions:
        raise AuditError(choices_message("precisions", unknown[0] if unknown else "", PRECISIONS))


def installed_backends() -> list[str]:
    import importlib.util

    return [name for name, package in BACKEND_PACKAGES.items() if importlib.util.find_spec(package)]


def audit_in_process(path, backend: str, data_path=None, precisions=PRECISIONS) -> list[AuditRow]:
    """The rows of `python -m kerasce.audit PATH --json` run with KERAS_BACKEND=backend."""
    command = [
        sys.executable,
        "-m",
        "kerasce.audit",
        str(path),
        "--json",
        "--precisions",
        ",".join(precisions),
    ]
    command += ["--data", str(data_path)] if data_path else []
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode not in (0, 1):
        raise AuditError(f"auditing on {backend} failed: {done.stderr.strip().splitlines()[-1:]}")
    return [AuditRow(**row) for row in json.loads(done.stdout)["rows"]]


def audit(model, data=None, backends: bool = False, precisions=PRECISIONS) -> Audit:
    _check_precisions(precisions)
    """Audit a compiled Keras model (or the path of a saved one): its head, the loss path under each
    precision policy on this backend (and on every installed backend with `backends`), and with
    `data` (a .npz path with `x` and `y`, or an (x, y) pair) its dead zone and non-finite outputs."""
    name = str(model) if isinstance(model, (str, Path)) else model.name
    loaded = load_model_file(model) if isinstance(model, (str, Path)) else model
    arrays = load_arrays(data) if isinstance(data, (str, Path)) else data
    try:
        head, rows = audit_here(loaded, precisions, arrays)
    except HeadError as error:
        raise AuditError(f"{name}: {error}") from None
    notes = []
    if head.wiring_problem():
        notes.append(head.wiring_problem())
    if backends:
        rows += _other_backends(model, loaded, data, arrays, precisions)
    return Audit(name, head, rows, notes)


def _other_backends(model, loaded, data, arrays, precisions) -> list[AuditRow]:
    """Rows from every other installed backend, each in its own process (the .keras file is
    backend-independent: an in-memory model is saved to a temporary one first)."""
    others = [b for b in installed_backends() if b != keras.backend.backend()]
    with tempfile.TemporaryDirectory() as directory:
        path = model if isinstance(model, (str, Path)) else Path(directory) / "model.keras"
        if not isinstance(model, (str, Path)):
            loaded.save(path)
        data_path = data if isinstance(data, (str, Path)) or data is None else Path(directory) / "data.npz"
        if arrays is not None and not isinstance(data, (str, Path)):
            np.savez(data_path, x=arrays[0], y=arrays[1])
        return [row for b in others for row in audit_in_process(path, b, data_path, precisions)]
