"""Auditing a compiled Keras model: each classification output's head, the loss path the probe
measures under each precision policy (and, in one process each, on every installed backend), its
dead zone on the user's data, and the concrete fix for every clipped or fragile setting."""

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

from kerasce.config.fields import PRECISIONS
from kerasce.diagnose.fixes import fix_for
from kerasce.diagnose.loading import AuditError, checked_labels, import_modules, load_data, load_model_file
from kerasce.diagnose.rebuild import base_policy, rebuild_under
from kerasce.errors import choices_message
from kerasce.model.compiled_loss import HeadError, named_outputs
from kerasce.model.heads import Head, find_heads
from kerasce.model.loss_path import measure_loss_paths
from kerasce.model.numerics import dead_zone_rate
from kerasce.vocabulary import AuditStatus, status_of, unclassified

BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
FAILING_STATUSES = (AuditStatus.CLIPPED, AuditStatus.NAIVE)  # what --strict fails on

__all__ = ["PRECISIONS", "Audit", "AuditError", "AuditRow", "audit", "load_model_file"]


@dataclass
class AuditRow:
    """One audited setting of one output: a backend and a precision policy, and what the probe
    measured there."""

    output: str
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
    """A model's audit: a head per classification output, one row per output and setting, the
    outputs left out (with why), and notes."""

    model: str
    heads: list[Head]
    rows: list[AuditRow]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def head(self) -> Head:
        """The head of a one-output model (the first head otherwise)."""
        return self.heads[0]

    @property
    def clipped(self) -> bool:
        """Does any audited setting train on clipped (or naive) probabilities?"""
        return any(row.status in FAILING_STATUSES for row in self.rows)

    def rows_of(self, output: str) -> list[AuditRow]:
        return [row for row in self.rows if row.output == output]

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "heads": [asdict(h) for h in self.heads],
            "rows": [asdict(r) for r in self.rows],
            "skipped": [{"output": name, "reason": why} for name, why in self.skipped],
            "notes": self.notes,
            "clipped": self.clipped,
        }

    def text(self) -> str:
        """The audit as a person reads it: heads, a table per output, fixes."""
        from kerasce.diagnose.table import audit_text

        return audit_text(self)


def data_effects(model: keras.Model, heads: list[Head], data) -> dict:
    """{output: {clip_saturation_rate, nonfinite_rate}} on the user's (features, labels by output)."""
    features, labels = data
    predicted = model.predict(features, batch_size=1024, verbose=0)
    outputs = _by_output(model, predicted)
    effects = {}
    for head in heads:
        values = np.asarray(outputs[head.output], dtype=np.float64)
        nonfinite = ~np.isfinite(values).reshape(len(values), -1).all(axis=1)
        effects[head.output] = {
            "clip_saturation_rate": dead_zone_rate(
                values, labels[head.output], head.output_kind, head.label_format
            ),
            "nonfinite_rate": float(nonfinite.mean()) if len(values) else float("nan"),
        }
    return effects


def _by_output(model, predicted) -> dict:
    names = [name for name, _ in named_outputs(model)]
    if isinstance(predicted, dict):
        return predicted
    predicted = predicted if isinstance(predicted, (list, tuple)) else [predicted]
    return dict(zip(names, predicted, strict=True))


def _rebuilt(model: keras.Model, precision: str, base: str):
    """The model under `precision` (the model itself for the policy it was saved under, when it
    cannot be rebuilt), or the reason it cannot be."""
    try:
        return rebuild_under(model, precision), None
    except Exception as error:  # the user's layers may refuse from_config in any way
        if precision == base:
            return model, None
        return None, f"cannot rebuild it under {precision} ({type(error).__name__}: {error})"


def _measure(model, heads, precision, base, data) -> dict:
    """{output: (path, effects)} under one precision policy."""
    rebuilt, why = _rebuilt(model, precision, base)
    if rebuilt is None:
        return {h.output: (unclassified(why), {}) for h in heads}
    try:
        paths = measure_loss_paths(rebuilt, heads)
    except Exception as error:  # a probe Keras refuses to run on this model: say so, audit the rest
        paths = dict.fromkeys(
            (h.output for h in heads), unclassified(f"the probe failed: {type(error).__name__}: {error}")
        )
    effects = data_effects(rebuilt, heads, data) if data is not None else {}
    return {h.output: (paths[h.output], effects.get(h.output, {})) for h in heads}


def audit_here(model: keras.Model, heads: list[Head], precisions=PRECISIONS, data=None) -> list[AuditRow]:
    """One row per head and precision policy, on the backend this process runs."""
    backend, base, rows = keras.backend.backend(), base_policy(model), []
    for precision in precisions:
        for output, (path, effects) in _measure(model, heads, precision, base, data).items():
            rows.append(
                AuditRow(output, backend, precision, path, status_of(path), precision == base, **effects)
            )
    return rows


def _check_precisions(precisions) -> None:
    unknown = [p for p in precisions if p not in PRECISIONS]
    if unknown or not precisions:
        raise AuditError(choices_message("--precisions", unknown[0] if unknown else "", PRECISIONS))


def installed_backends() -> list[str]:
    import importlib.util

    return [name for name, package in BACKEND_PACKAGES.items() if importlib.util.find_spec(package)]


def audit_in_process(path, backend: str, data_path=None, precisions=PRECISIONS, imports=()) -> list[AuditRow]:
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
    for module in imports:
        command += ["--import", module]
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode not in (0, 1):
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise AuditError(f"auditing on {backend} failed: {last}")
    return [AuditRow(**row) for row in json.loads(done.stdout)["rows"]]


def prepared_data(data, model, heads):
    """(features, {output: labels}) from a .npz path or an (x, y) pair (y: labels, or a dict by output)."""
    if data is None:
        return None
    if isinstance(data, (str, Path)):
        return load_data(data, model, heads)
    x, y = data
    y = y if isinstance(y, dict) else {heads[0].output: y}
    return x, {h.output: checked_labels(y[h.output], h, h.output, "(arrays)") for h in heads if h.output in y}


def _notes(heads, skipped) -> list[str]:
    notes = [
        f"{h.output}: {h.wiring_problem()}" if len(heads) > 1 else h.wiring_problem()
        for h in heads
        if h.wiring_problem()
    ]
    notes += [f"output {name!r} not audited: {why}" for name, why in skipped]
    return notes


def audit(model, data=None, backends: bool = False, precisions=PRECISIONS, imports=()) -> Audit:
    """Audit a compiled Keras model (or the path of a saved one): each classification output's
    head, the loss path under each precision policy on this backend (and on every installed
    backend with `backends`), and with `data` (a .npz path with `x` and `y`, or an (x, y) pair)
    its dead zone and non-finite outputs. `imports`: modules to import first (the user's layers)."""
    _check_precisions(precisions)
    import_modules(imports)
    name = str(model) if isinstance(model, (str, Path)) else model.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' warnings are not the audit's findings
        loaded = load_model_file(model) if isinstance(model, (str, Path)) else model
        try:
            heads, skipped = find_heads(loaded)
        except HeadError as error:
            raise AuditError(f"{name}: {error}") from None
        arrays = prepared_data(data, loaded, heads)
        rows = audit_here(loaded, heads, precisions, arrays)
    if backends:
        rows += _other_backends(model, loaded, data, precisions, imports)
    result = Audit(name, heads, rows, skipped, _notes(heads, skipped))
    for row in result.rows:
        head = next(h for h in heads if h.output == row.output)
        row.fix = fix_for(head, row, result.rows_of(row.output))
    return result


def _other_backends(model, loaded, data, precisions, imports) -> list[AuditRow]:
    """Rows from every other installed backend, each in its own process (the .keras file is
    backend-independent: an in-memory model is saved to a temporary one first)."""
    others = [b for b in installed_backends() if b != keras.backend.backend()]
    if data is not None and not isinstance(data, (str, Path)):
        raise AuditError("with backends=True, give data as the path of a .npz file (each backend reads it)")
    with tempfile.TemporaryDirectory() as directory:
        path = model if isinstance(model, (str, Path)) else Path(directory) / "model.keras"
        if not isinstance(model, (str, Path)):
            loaded.save(path)
        return [row for b in others for row in audit_in_process(path, b, data, precisions, imports)]
