"""A compiled Keras model's classification heads and how each meets its compiled loss: a head is
read the way users write it, walking back from an output (`head_graph`), with its output's loss
read with its own arguments (`compiled_loss`). kerasce's own models name the layer making the
logits `head` (`named_head`). What cannot be read raises HeadError saying why.
"""

from dataclasses import dataclass

import keras

from kerasce.model.compiled_loss import (
    REGRESSION_LOSSES,
    HeadError,
    compiled_loss,
    compiled_losses,
    function_name,
    loss_spec,
    named_outputs,
    resolve,
)
from kerasce.model.head_graph import HeadLayers, activation_name, walk
from kerasce.model.loss_spec import ARGUMENTS, LossSpec
from kerasce.vocabulary import LabelFormat, OutputKind

PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


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


def _units(tensor, spec: LossSpec) -> int:
    axis = spec.argument("axis") if "axis" in ARGUMENTS.get(spec.family, ()) else -1
    size = tensor.shape[axis]
    if size is None:
        raise HeadError(f"the output's class axis ({axis}) has no fixed size: {tuple(tensor.shape)}")
    return int(size)


def read_head(name: str, tensor, loss) -> Head:
    """The head making the output `tensor` (called `name`), compiled with `loss`."""
    spec = loss_spec(loss)
    layers = walk(tensor)
    return Head(
        output=name,
        logits_layer=layers.logits.name,
        layer_kind=type(layers.logits).__name__,
        activation=activation_name(layers),
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
        if len(outputs) > 1 and (function_name(resolve(loss) or loss) in REGRESSION_LOSSES):
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
        layers = walk(dict(named_outputs(model))[head.output])
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
        function_name(logits_layer.activation),
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
