"""Naming a loss path from what the probe measured: the compiled loss compared with the exact
loss and with Keras' own loss on the bare outputs (model/loss_path.py takes the measurements)."""

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from kerasce.vocabulary import LossPath, OutputKind, unclassified

EXACT_PATH_BY_OUTPUT = {  # an exact probe loss: which path, by what the head outputs
    OutputKind.LOGITS: LossPath.FUSED_LOGITS,
    OutputKind.PROBABILITIES: LossPath.RECOVERED_LOGITS,
    OutputKind.LOG_PROBABILITIES: LossPath.LOG_PROBABILITIES,
}
DOUBLE_NORMALISATION = "the loss has from_logits=True on probabilities: it normalises them a second time"
LOGITS_AS_PROBABILITIES = "it reads them as probabilities"  # said of logits or log-probabilities


class LossPathError(RuntimeError):
    """The probe gave a loss that matches no known path: a new Keras behaviour to look at."""


@dataclass(frozen=True)
class ProbeReading:
    """What one head's probe measured, and the references it is compared with."""

    loss: float  # the compiled loss, as training computes it
    exact: float  # float64, from the logits
    on_probabilities: float | None  # Keras' loss with from_logits=False on the bare outputs
    on_logits: float | None  # ... with from_logits=True (None: the loss takes no from_logits)
    output_kind: OutputKind  # read off the output values
    outputs_finite: bool = True


def observed_output_kind(outputs: np.ndarray, elementwise: bool = False) -> OutputKind:
    """What a head's outputs are, read off the values: probabilities, log-probabilities or logits.
    `elementwise`: every unit is its own sigmoid (binary and multi-hot heads)."""
    in_unit_interval = np.all((outputs >= 0) & (outputs <= 1))
    if elementwise or outputs.shape[-1] == 1:
        return OutputKind.PROBABILITIES if in_unit_interval else OutputKind.LOGITS
    if in_unit_interval and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-2):
        return OutputKind.PROBABILITIES
    if np.all(outputs <= 0) and np.allclose(logsumexp(outputs, axis=-1), 0.0, atol=1e-2):
        return OutputKind.LOG_PROBABILITIES
    return OutputKind.LOGITS


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    if not (math.isfinite(a) and math.isfinite(b)):
        return not math.isfinite(a) and not math.isfinite(b)
    return math.isclose(a, b, rel_tol=1e-2, abs_tol=1e-3)


def classify_loss_path(reading: ProbeReading, from_logits: bool | None) -> str:
    """Name the path from the probe's reading; LossPathError when it matches none."""
    kind, loss = reading.output_kind, reading.loss
    if not reading.outputs_finite:  # finite probe logits, overflowing activation: the textbook softmax
        return LossPath.NAIVE
    if kind == OutputKind.PROBABILITIES and _close(reading.exact, reading.on_probabilities):
        return unclassified(
            "for this loss the probe gives the same value on every path: it cannot tell them apart"
        )
    if _close(loss, reading.exact):
        return EXACT_PATH_BY_OUTPUT[kind]
    if kind == OutputKind.PROBABILITIES:
        if not math.isfinite(loss):
            return LossPath.NAIVE
        if _close(loss, reading.on_probabilities):
            return LossPath.CLIPPED_PROBABILITIES
        if from_logits and _close(loss, reading.on_logits):
            return unclassified(DOUBLE_NORMALISATION)
    if kind == OutputKind.LOGITS:
        if from_logits and _close(loss, reading.on_logits):  # Keras clips inside the loss (focal losses)
            return LossPath.CLIPPED_PROBABILITIES
    if kind in (OutputKind.LOGITS, OutputKind.LOG_PROBABILITIES) and from_logits is False:
        # measured: logits or log-probabilities out, and not the exact loss
        return unclassified(f"the loss has from_logits=False on {kind}: {LOGITS_AS_PROBABILITIES}")
    raise LossPathError(
        f"probe loss {loss:.4f} matches neither the exact value {reading.exact:.4f} nor Keras' "
        f"clipped value {_text(reading.on_probabilities)} (head output looked like {kind})"
    )


def _text(value) -> str:
    return "-" if value is None else f"{value:.4f}"
