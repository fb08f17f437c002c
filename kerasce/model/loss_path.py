"""The loss path Keras actually takes, measured on a compiled model with a probe, never inferred.

Each classification head is set for a moment to output probe logits whatever the input (kernel
zero, bias: the true class at -100 and another class at +100), the model is fed valid zeros on
every input, labels in each loss's own format, and the compiled loss is evaluated the way training
evaluates it (in the compiled test step). Its value is then compared with references:

- the exact loss, computed in float64 from the head's logits with the loss's own arguments
  (model/loss_spec.py): a match is the fused, recovered or log-probability path;
- Keras' own loss evaluated on the bare output values (no logits attached to them), with
  from_logits=False: what the clipped probability path gives;
- the same with from_logits=True: what a loss normalising probabilities a second time gives.
"""

import warnings

import keras
import numpy as np

from kerasce.model.compiled_loss import compiled_losses, loss_spec, named_outputs
from kerasce.model.head_outputs import HeadOutputs, input_structure
from kerasce.model.heads import Head, head_layers, named_head
from kerasce.model.loss_spec import CLASS_NAMES, NAIVE, NEGATIVE_LOG_LIKELIHOOD, exact_loss, probe_labels
from kerasce.model.probe_reading import LossPathError, ProbeReading, classify_loss_path, observed_output_kind
from kerasce.vocabulary import unclassified

PROBE_LOGIT = 100.0
PROBE_LENGTH = 32  # the probe's size for an input dimension left variable (None): text, images


def probe_features(model: keras.Model):
    """One sample of valid zeros for every input (list or dict as the model takes them); a
    variable dimension gets PROBE_LENGTH, an integer input integer zeros (a valid token id)."""

    def zeros(tensor):
        shape = (1, *(PROBE_LENGTH if d is None else d for d in tensor.shape[1:]))
        dtype = keras.backend.standardize_dtype(tensor.dtype)
        if dtype == "string":
            return np.full(shape, "", dtype=object)
        return np.zeros(shape, dtype=dtype)

    return keras.tree.map_structure(zeros, input_structure(model))


def _probe_bias(layer, head: Head) -> np.ndarray:
    bias = keras.ops.convert_to_numpy(layer.bias)
    classes = bias.shape[-1]
    vector = np.full(classes, -PROBE_LOGIT)
    if classes > 1:
        true_class = 0 if head.loss.arguments.get("ignore_class") == 1 else 1
        vector = np.zeros(classes)
        vector[true_class], vector[1 - true_class] = -PROBE_LOGIT, PROBE_LOGIT
    vector = vector / getattr(layer, "logit_scale", 1.0)  # kerasce's ScaledDense multiplies the logits
    return np.broadcast_to(vector, bias.shape).astype(bias.dtype)


def _set_probe_weights(layer, head: Head) -> None:
    """Kernel (and any other weight) zero, bias the probe logits: the output ignores the input."""
    bias = id(layer.bias)
    values = [
        _probe_bias(layer, head)
        if id(v) == bias
        else np.zeros(v.shape, keras.backend.standardize_dtype(v.dtype))
        for v in layer.weights
    ]
    layer.set_weights(values)


def _flat_outputs(model, values) -> dict:
    names = [name for name, _ in named_outputs(model)]
    if isinstance(values, dict):
        return {name: values[name] for name in names}
    values = values if isinstance(values, (list, tuple)) else [values]
    return dict(zip(names, [keras.ops.convert_to_numpy(v) for v in values], strict=True))


def _label_structure(model, labels: dict):
    structure = getattr(model, "output", None) if len(labels) > 1 else None
    if isinstance(structure, dict):
        return labels
    values = list(labels.values())
    return values[0] if len(values) == 1 else values


def _other_labels(model, outputs: dict, heads: dict) -> dict:
    """Labels for outputs not probed: in their loss's format when it is known, else zeros."""
    labels, losses = {}, compiled_losses(model)
    for name, values in outputs.items():
        if name in heads:
            continue
        spec = loss_spec(losses[name]) if losses[name] is not None else None
        known = spec is not None and spec.family is not None
        fmt = spec.label_format(values.shape[-1]) if known else None
        labels[name] = (
            probe_labels(spec, fmt, values) if fmt else np.zeros_like(np.asarray(values, "float32"))
        )
    return labels


def _regularization(model) -> float:
    """The regularization the compiled loss adds to the sum of the outputs' losses."""
    return float(sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses))


def _single_loss_weight(model) -> float:
    try:
        weights = model.get_compile_config().get("loss_weights")
    except Exception:  # a compile config Keras cannot serialise: no weights to read from it
        return 1.0
    if isinstance(weights, dict):
        weights = list(weights.values())
    if isinstance(weights, (list, tuple)):
        weights = weights[0] if weights else None
    return float(weights) if weights is not None else 1.0


def _measured_losses(model, features, labels: dict, heads: dict, regularization: float) -> dict:
    """Each probed output's compiled loss, evaluated in the compiled test step. A one-output
    model's logs hold only the total: the regularization (read after an eager call on the same
    features) is taken off it."""
    logs = model.test_on_batch(features, _label_structure(model, labels), return_dict=True)
    if len(labels) == 1:
        (name,) = heads
        return {name: (float(logs["loss"]) - regularization) / _single_loss_weight(model)}
    missing = [name for name in heads if f"{name}_loss" not in logs]
    if missing:
        raise LossPathError(
            f"Keras reported no loss of its own for output(s) {missing} (logs: {sorted(logs)})"
        )
    return {name: float(logs[f"{name}_loss"]) for name in heads}


def keras_loss(head: Head, from_logits: bool | None):
    """The head's loss as a Keras object with its own arguments (from_logits as given)."""
    spec = head.loss
    if spec.family in (NEGATIVE_LOG_LIKELIHOOD, NAIVE):
        from kerasce.model.losses import NaiveCrossentropy, NegativeLogLikelihood

        kind = NegativeLogLikelihood if spec.family == NEGATIVE_LOG_LIKELIHOOD else NaiveCrossentropy
        return kind(**spec.arguments)
    return getattr(keras.losses, CLASS_NAMES[spec.family])(from_logits=bool(from_logits), **spec.arguments)


def _keras_value(head: Head, from_logits: bool, labels, outputs) -> float | None:
    """Keras' own loss on the bare output values; None for from_logits=True on a loss that takes
    no from_logits (kerasce's log-likelihood and naive losses: their one reference is the loss)."""
    if from_logits and head.loss.from_logits is None:
        return None
    loss = keras_loss(head, from_logits if head.loss.from_logits is not None else None)
    value = loss(keras.ops.convert_to_tensor(labels), keras.ops.convert_to_tensor(outputs.astype("float32")))
    return float(keras.ops.convert_to_numpy(value))


def _reading(head: Head, logits, outputs, labels, loss: float) -> ProbeReading:
    if not np.all(np.isfinite(logits)) or np.any(np.min(logits, axis=-1) > -PROBE_LOGIT / 2):
        raise LossPathError(
            f"the probe logits did not reach the output of {head.output!r} (its logits on the probe: "
            f"{np.round(logits.reshape(-1)[:6], 2).tolist()}...)"
        )
    return ProbeReading(
        loss=loss,
        exact=exact_loss(head.loss, logits, labels),
        on_probabilities=_keras_value(head, False, labels, outputs),
        on_logits=_keras_value(head, True, labels, outputs),
        output_kind=observed_output_kind(outputs, elementwise=head.sigmoid_units),
        outputs_finite=bool(np.all(np.isfinite(outputs))),
    )


def _probe(model: keras.Model, heads: list[Head]) -> dict:
    """{output: (logits, outputs, labels, measured loss)} with every head set to the probe."""
    layers = {head.output: head_layers(model, head) for head in heads}
    saved = {name: found.logits.get_weights() for name, found in layers.items()}
    features = probe_features(model)
    try:
        for head in heads:
            _set_probe_weights(layers[head.output].logits, head)
        seen = {h.output: HeadOutputs(model, h, layers[h.output])(features) for h in heads}
        labels = {h.output: probe_labels(h.loss, h.label_format, seen[h.output][0]) for h in heads}
        outputs = _flat_outputs(model, model(features, training=False))
        regularization = _regularization(model)
        labels = {**_other_labels(model, outputs, labels), **labels}
        labels = {name: labels[name] for name in outputs}  # the model's output order
        measured = _measured_losses(model, features, labels, {h.output: h for h in heads}, regularization)
    finally:
        for name, found in layers.items():
            found.logits.set_weights(saved[name])
    return {h.output: (*seen[h.output], labels[h.output], measured[h.output]) for h in heads}


def measure_loss_paths(model: keras.Model, heads: list[Head], strict: bool = False) -> dict:
    """The loss path of each head's output, measured on this backend and policy: {output: path}.
    An unknown loss, or a probe matching no path, is `unclassified` with the reason (with `strict`,
    the latter raises LossPathError)."""
    paths = {
        h.output: unclassified(f"the loss {h.loss.name} is not a cross-entropy the probe knows")
        for h in heads
        if h.loss.family is None
    }
    known = [h for h in heads if h.loss.family is not None]
    if not known:
        return paths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' from_logits warnings on purpose-built probes
        probed = _probe(model, known)
        for head in known:
            logits, outputs, labels, loss = probed[head.output]
            try:
                paths[head.output] = classify_loss_path(
                    _reading(head, logits, outputs, labels, loss), head.from_logits
                )
            except LossPathError as error:
                if strict:
                    raise
                paths[head.output] = unclassified(str(error))
    return paths


def detect_loss_path(model: keras.Model, head: Head | str = "head") -> str:
    """Which path the compiled loss of `model` actually takes, measured on this backend and policy.

    `head`: a Head read by `kerasce.model.heads`, or the name of the layer making the logits in one
    of kerasce's own models (then a probe matching no path raises LossPathError).
    """
    if isinstance(head, str):
        head = named_head(model, head)
        return measure_loss_paths(model, [head], strict=True)[head.output]
    return measure_loss_paths(model, [head])[head.output]
