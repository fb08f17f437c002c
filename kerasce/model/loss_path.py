"""The loss path Keras actually takes, measured on a compiled model with a probe, never inferred."""

import math

import keras
import numpy as np
from scipy.special import logsumexp

from kerasce.model.numerics import CLIP_CEILING, reference_crossentropy
from kerasce.vocabulary import LossPath, OutputKind

# The probe: the true class gets logit -100, another class +100. The exact loss is 200 (100 for a
# single logit); the clipped path can only say 16.118; exp(100) overflows float32 on the naive path.
PROBE_LOGIT = 100.0
EXACT_PATH_BY_OUTPUT = {  # an exact probe loss: which path, by what the head outputs
    OutputKind.LOGITS: LossPath.FUSED_LOGITS,
    OutputKind.PROBABILITIES: LossPath.RECOVERED_LOGITS,
    OutputKind.LOG_PROBABILITIES: LossPath.LOG_PROBABILITIES,
}


class LossPathError(RuntimeError):
    """The probe gave a loss that matches no known path: a new Keras behaviour to look at."""


def _probe(units: int):
    """Probe logits for one sample of true class 1 (or label 1 for one sigmoid unit)."""
    if units == 1:
        return np.array([-PROBE_LOGIT]), np.array([1])
    logits = np.zeros(units)
    logits[0], logits[1] = PROBE_LOGIT, -PROBE_LOGIT
    return logits, np.array([1])


def observed_output_kind(outputs: np.ndarray) -> OutputKind:
    """What a head's outputs are, read off the values: probabilities, log-probabilities or logits."""
    in_unit_interval = np.all((outputs >= 0) & (outputs <= 1))
    if outputs.shape[-1] == 1:
        return OutputKind.PROBABILITIES if in_unit_interval else OutputKind.LOGITS
    if in_unit_interval and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-2):
        return OutputKind.PROBABILITIES
    if np.all(outputs <= 0) and np.allclose(logsumexp(outputs, axis=-1), 0.0, atol=1e-2):
        return OutputKind.LOG_PROBABILITIES
    return OutputKind.LOGITS


def detect_loss_path(model: keras.Model, head: str = "head") -> str:
    """Which path the compiled loss of `model` actually takes, measured on this backend and policy.

    The head (the Dense layer called `head`; for a user's model see `kerasce.model.heads`) is set
    for a moment to output the probe logits whatever the input, and the compiled loss is evaluated
    the way training evaluates it (in the compiled function). The loss value and the model's output
    then tell the paths apart.
    """
    head = model.get_layer(head)
    probe_logits, labels = _probe(head.units)
    features = np.zeros((len(labels), *model.input_shape[1:]), dtype="float32")
    saved_weights = head.get_weights()
    try:
        kernel = np.zeros_like(saved_weights[0])
        head.set_weights(
            [kernel, (probe_logits / getattr(head, "logit_scale", 1.0)).astype(saved_weights[1].dtype)]
        )
        outputs = keras.ops.convert_to_numpy(model(features, training=False)).astype(np.float64)
        loss = float(model.test_on_batch(features, labels, return_dict=True)["loss"])
    finally:
        head.set_weights(saved_weights)
    return classify_loss_path(loss, float(reference_crossentropy([probe_logits], labels)[0]), outputs)


def classify_loss_path(loss: float, exact_loss: float, outputs: np.ndarray) -> str:
    """Name the path from the probe's loss, its exact value, and the head's output on the probe."""
    if not math.isfinite(loss) or not np.all(np.isfinite(outputs)):
        return LossPath.NAIVE
    kind = observed_output_kind(outputs)
    if math.isclose(loss, exact_loss, rel_tol=1e-2):
        return EXACT_PATH_BY_OUTPUT[kind]
    if kind == OutputKind.PROBABILITIES and math.isclose(loss, CLIP_CEILING, abs_tol=0.05):
        return LossPath.CLIPPED_PROBABILITIES
    raise LossPathError(
        f"probe loss {loss:.4f} matches neither the exact value {exact_loss:.4f} nor the clip "
        f"ceiling {CLIP_CEILING:.4f} (head output looked like {kind})"
    )
