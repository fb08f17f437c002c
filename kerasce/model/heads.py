"""A compiled Keras model's classification heads and how each meets its compiled loss, read off
its layers.

A head is read the way users write it, walking back from an output: an optional activation layer
(`Activation`, `Softmax`), layers that keep a constant constant (Flatten, Reshape, Dropout,
pooling, a linear Activation), then the layer that makes the logits (Dense, EinsumDense or a
convolution), with its own activation or none. kerasce's own models name that layer `head`
(`named_head`). Each output's loss is read with its own arguments (`loss_spec`), whether it was
compiled as a string, a function or a Loss object. What cannot be read raises HeadError saying why.
"""

import inspect
from collections.abc import Mapping
from dataclasses import dataclass

import keras

from kerasce.errors import KerasceError
from kerasce.model.loss_spec import ARGUMENTS, FAMILIES, KERASCE_FAMILIES, LossSpec
from kerasce.vocabulary import LabelFormat, OutputKind

PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")
LOGITS_LAYERS = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
)
CONSTANT_PRESERVING_LAYERS = (  # a constant input gives copies of the same values out
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.Identity,
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D,
    keras.layers.GaussianDropout,
    keras.layers.GaussianNoise,
    keras.layers.AlphaDropout,
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.MaxPooling3D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.AveragePooling3D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalMaxPooling3D,
)
KERASCE_LOSS_CLASSES = {
    "NegativeLogLikelihood": "negative_log_likelihood",
    "NaiveCrossentropy": "naive_crossentropy",
}
REGRESSION_LOSSES = (  # outputs compiled with these are not classifications: named and skipped
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "cosine_similarity",
    "poisson",
)


class HeadError(KerasceError):
    """The model's head or loss is not one the loss-path probe can measure."""


@dataclass(frozen=True)
class Head:
    """One classification output: the layer making its logits (whose bias the probe sets), what
    follows it, and the loss compiled on that output."""

    output: str  # the model output's name
    logits_layer: str  # a Dense, EinsumDense or convolution making the logits
    layer_kind: str  # its class name
    activation: str  # linear, softmax, sigmoid, log_softmax, or another activation's name
    activation_layer: str | None  # a separate Activation/Softmax layer at the end, if any
    passthrough: tuple[str, ...]  # class names of the constant-preserving layers in between
    units: int  # classes: the output's size along the loss's class axis
    loss: LossSpec

    @property
    def from_logits(self) -> bool | None:
        return self.loss.from_logits

    @property
    def output_kind(self) -> OutputKind:
        """What the output is: logits, probabilities or log-probabilities."""
        if self.activation in PROBABILITY_ACTIVATIONS:
            return OutputKind.PROBABILITIES
        if self.activation == "log_softmax":
            return OutputKind.LOG_PROBABILITIES
        return OutputKind.LOGITS

    @property
    def label_format(self) -> LabelFormat | None:
        """The labels the loss reads; for an unknown loss, what a sigmoid head implies (else None)."""
        known = self.loss.label_format(self.units)
        if known is not None or self.activation != "sigmoid":
            return known
        return LabelFormat.BINARY if self.units == 1 else LabelFormat.MULTI_HOT

    @property
    def sigmoid_units(self) -> bool:
        """Is each unit its own binary problem (sigmoid outputs, binary or multi-hot labels)?"""
        return self.label_format in (LabelFormat.BINARY, LabelFormat.MULTI_HOT)

    def describe(self) -> str:
        """The head as a user writes it: `Dense(10, softmax)`, `Conv2D(10) -> Flatten -> softmax layer`."""
        inner = self.activation_layer is not None or self.activation == "linear"
        parts = [
            f"{self.layer_kind}({self.units})"
            if inner
            else f"{self.layer_kind}({self.units}, {self.activation})"
        ]
        parts += list(self.passthrough)
        if self.activation_layer:
            parts.append(f"{self.activation} layer")
        return " -> ".join(parts)

    def wiring_problem(self) -> str | None:
        """A head and loss that disagree (logits read as probabilities, or probabilities given to a
        loss told they are logits). Which settings it harms is what the probe measures."""
        if self.from_logits is False and self.output_kind != OutputKind.PROBABILITIES:
            return (
                f"the head outputs {self.output_kind} but the loss has from_logits=False: it reads them as "
                "probabilities"
            )
        # (log-softmax outputs are valid logits: from_logits=True normalises them to themselves)
        if self.from_logits and self.output_kind == OutputKind.PROBABILITIES:
            return (
                f"the head outputs {self.output_kind} but the loss has from_logits=True: it is right only "
                "where TensorFlow recovers the logits behind the activation; elsewhere it normalises them "
                "a second time"
            )
        return None


@dataclass
class HeadLayers:
    """The layer objects of a head, as found in the model's graph."""

    logits: keras.layers.Layer
    passthrough: list
    activation_layer: keras.layers.Layer | None


def _producer(tensor):
    """The layer that produced a symbolic tensor."""
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


def _function_name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)


def _is_linear_activation(layer) -> bool:
    return type(layer) is keras.layers.Activation and _function_name(layer.activation) == "linear"


def named_outputs(model: keras.Model) -> list[tuple[str, object]]:
    """(name, symbolic tensor) of each output, in the order Keras flattens them: a dict output's
    keys (sorted), else the output layers' names."""
    outputs = list(model.outputs or [])
    structure = getattr(model, "output", None) if len(outputs) > 1 else None
    if isinstance(structure, Mapping):
        return sorted(structure.items())
    names = getattr(model, "output_names", None) or [_producer(t).name for t in outputs]
    return list(zip(names, outputs, strict=True))


def compiled_losses(model: keras.Model) -> dict:
    """Each output's compiled loss by output name (None for an output compiled without one)."""
    loss = getattr(model, "loss", None)
    if loss is None:
        raise HeadError(
            f"model {model.name!r} has no compiled loss: compile it with its loss (and save it after "
            "compiling) so the audit can measure the path that loss takes"
        )
    names = [name for name, _ in named_outputs(model)]
    if isinstance(loss, Mapping):
        return {name: loss.get(name) for name in names}
    if isinstance(loss, (list, tuple)):
        if len(loss) != len(names):
            raise HeadError(f"model {model.name!r} has {len(names)} outputs but {len(loss)} losses")
        return dict(zip(names, loss, strict=True))
    return dict.fromkeys(names, loss)  # one loss for every output, as Keras applies it


def compiled_loss(model: keras.Model):
    """The single loss a one-output model was compiled with (a Loss or a function)."""
    losses = compiled_losses(model)
    if len(losses) != 1:
        raise HeadError(f"model {model.name!r} has {len(losses)} outputs; this takes one")
    loss = next(iter(losses.values()))
    return keras.losses.get(loss) if isinstance(loss, str) else loss


def _resolve(loss):
    if not isinstance(loss, str):
        return loss
    try:
        return keras.losses.get(loss)
    except ValueError:
        return None


def loss_spec(loss) -> LossSpec:
    """A compiled loss (string, function or Loss object) as plain data with its own arguments."""
    resolved = _resolve(loss)
    if isinstance(resolved, keras.losses.Loss):
        function = getattr(resolved, "fn", None)
        family = (
            _function_name(function)
            if function is not None
            else KERASCE_LOSS_CLASSES.get(type(resolved).__name__)
        )
        # a LossFunctionWrapper keeps its function's arguments (label_smoothing, axis...) in _fn_kwargs
        arguments = {**resolved.get_config(), **getattr(resolved, "_fn_kwargs", {})}
        arguments["reduction"] = resolved.reduction
        shown = type(resolved).__name__
        name = loss if isinstance(loss, str) else shown
    elif callable(resolved):
        family, name = _function_name(resolved), loss if isinstance(loss, str) else _function_name(resolved)
        parameters = inspect.signature(resolved).parameters.values()
        arguments = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    else:
        return LossSpec(str(loss), None)
    if family not in FAMILIES + KERASCE_FAMILIES:
        return LossSpec(name if name != "LossFunctionWrapper" else str(family), None)
    kept = {key: arguments[key] for key in ARGUMENTS[family] if key in arguments}
    return LossSpec(name, family, arguments.get("from_logits"), kept)


def _walk(tensor) -> HeadLayers:
    """The head's layers, from the output tensor back to the layer making the logits."""
    layer, activation_layer, passthrough = _producer(tensor), None, []
    if isinstance(layer, (keras.layers.Activation, keras.layers.Softmax)) and not _is_linear_activation(
        layer
    ):
        activation_layer, layer = layer, _producer(layer.input)
    while isinstance(layer, CONSTANT_PRESERVING_LAYERS) or _is_linear_activation(layer):
        passthrough.insert(0, layer)
        layer = _producer(layer.input)
    if isinstance(layer, keras.Model):
        raise HeadError(
            f"the output comes from inside the nested model {layer.name!r}; audit that model itself "
            "(save it compiled) or put the head in the outer model"
        )
    if not isinstance(layer, LOGITS_LAYERS):
        kind = type(layer).__name__ if layer is not None else "nothing"
        raise HeadError(
            f"the output comes from a {kind} layer ({getattr(layer, 'name', '?')}); the probe needs a Dense, "
            "EinsumDense or convolution making the logits, then only Flatten, Reshape, Dropout, pooling "
            "or linear layers, then at most an Activation or Softmax layer"
        )
    if getattr(layer, "bias", None) is None:
        raise HeadError(f"the head {layer.name!r} has no bias; the probe writes its logits into the bias")
    return HeadLayers(layer, passthrough, activation_layer)


def _activation(layers: HeadLayers) -> str:
    inner = _function_name(layers.logits.activation)
    if layers.activation_layer is None:
        return inner
    if inner != "linear":
        raise HeadError(
            f"the head {layers.logits.name!r} has activation {inner!r} and is followed by "
            f"{layers.activation_layer.name!r}: two activations in a row"
        )
    if isinstance(layers.activation_layer, keras.layers.Softmax):
        return "softmax"
    return _function_name(layers.activation_layer.activation)


def _units(tensor, spec: LossSpec) -> int:
    axis = spec.argument("axis") if "axis" in ARGUMENTS.get(spec.family, ()) else -1
    size = tensor.shape[axis]
    if size is None:
        raise HeadError(f"the output's class axis ({axis}) has no fixed size: {tuple(tensor.shape)}")
    return int(size)


def read_head(name: str, tensor, loss) -> Head:
    """The head making the output `tensor` (called `name`), compiled with `loss`."""
    spec = loss_spec(loss)
    layers = _walk(tensor)
    return Head(
        output=name,
        logits_layer=layers.logits.name,
        layer_kind=type(layers.logits).__name__,
        activation=_activation(layers),
        activation_layer=layers.activation_layer.name if layers.activation_layer is not None else None,
        passthrough=tuple(type(layer).__name__ for layer in layers.passthrough),
        units=_units(tensor, spec),
        loss=spec,
    )


def _is_classification(head: Head) -> bool:
    return head.loss.family is not None or head.output_kind != OutputKind.LOGITS


def find_heads(model: keras.Model) -> tuple[list[Head], list[tuple[str, str]]]:
    """Every classification output's head, and (output, why) for each output left out. A model
    with one output is audited whatever its loss (an unknown one is reported unclassified); HeadError
    when no output can be read."""
    losses, outputs = compiled_losses(model), named_outputs(model)
    heads, skipped = [], []
    for name, tensor in outputs:
        loss = losses[name]
        if loss is None:
            skipped.append((name, "compiled without a loss"))
            continue
        if len(outputs) > 1 and (_function_name(_resolve(loss) or loss) in REGRESSION_LOSSES):
            skipped.append((name, f"its loss {loss_spec(loss).name} is not a classification loss"))
            continue
        try:
            head = read_head(name, tensor, loss)
        except HeadError as error:
            if len(outputs) == 1:
                raise
            skipped.append((name, str(error)))
            continue
        if len(outputs) > 1 and not _is_classification(head):
            skipped.append(
                (name, f"a linear head with the loss {head.loss.name}: not a classification output")
            )
            continue
        heads.append(head)
    if not heads:
        reasons = "; ".join(f"{name}: {why}" for name, why in skipped)
        raise HeadError(f"model {model.name!r} has no classification output the probe can read ({reasons})")
    return heads, skipped


def find_head(model: keras.Model) -> Head:
    """The head of a single-output model and its compiled loss's facts."""
    outputs = named_outputs(model)
    if len(outputs) != 1:
        raise HeadError(f"model {model.name!r} has {len(outputs)} outputs; this reads one (see find_heads)")
    return find_heads(model)[0][0]


def head_layers(model: keras.Model, head: Head) -> HeadLayers:
    """The layer objects of `head` in `model` (a rebuilt twin included: found again by output). A
    head read by `named_head` is its named layer alone."""
    try:
        layers = _walk(dict(named_outputs(model))[head.output])
        if layers.logits.name == head.logits_layer:
            return layers
    except HeadError:
        pass
    return HeadLayers(model.get_layer(head.logits_layer), [], None)


def named_head(model: keras.Model, layer: str = "head") -> Head:
    """The head of one of kerasce's own models: the layer called `layer` makes the logits (whatever
    follows it, such as the layer cutting the logit link, is left for the probe to measure)."""
    logits_layer = model.get_layer(layer)
    ((name, tensor),) = named_outputs(model)
    spec = loss_spec(compiled_loss(model))
    return Head(
        name,
        layer,
        type(logits_layer).__name__,
        _function_name(logits_layer.activation),
        None,
        (),
        _units(tensor, spec),
        spec,
    )


def output_kind(model: keras.Model) -> str:
    """What a compiled one-output model outputs (logits, probabilities or log_probabilities): read off
    its head, else off its loss when the head is not one `find_head` reads (from_logits=True: logits)."""
    try:
        return find_head(model).output_kind
    except HeadError:
        return (
            OutputKind.LOGITS
            if getattr(compiled_loss(model), "from_logits", False)
            else OutputKind.PROBABILITIES
        )


def label_format(model: keras.Model) -> LabelFormat | None:
    """The label format of a one-output model's loss (None when it cannot be read)."""
    try:
        return find_head(model).label_format
    except HeadError:
        return loss_spec(compiled_loss(model)).label_format(model.outputs[0].shape[-1] or 0)
