"""Any compiled Keras model's output head and how it meets the compiled loss, read off its layers.

kerasce's own models name their head layer `head`; a user's model is read the way users write
heads: a `Dense` with a softmax/sigmoid/log-softmax activation or none, or a linear `Dense`
followed by an `Activation`/`Softmax` layer. What cannot be probed raises HeadError saying why.
"""

from dataclasses import dataclass

import keras

from kerasce.errors import KerasceError

PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


class HeadError(KerasceError):
    """The model's head or loss is not one the loss-path probe can measure."""


@dataclass(frozen=True)
class Head:
    """Where the logits are made (`dense`, whose bias the probe sets) and what follows them."""

    dense: str  # name of the Dense layer producing the logits
    activation: str  # linear, softmax, sigmoid, log_softmax, or another activation's name
    activation_layer: str | None  # a separate Activation/Softmax layer after the Dense, if any
    units: int
    loss: str  # the compiled loss's name
    from_logits: bool | None  # None: the loss takes no from_logits argument

    @property
    def output_kind(self) -> str:
        """What the model outputs: logits, probabilities or log_probabilities."""
        if self.activation in PROBABILITY_ACTIVATIONS:
            return "probabilities"
        if self.activation == "log_softmax":
            return "log_probabilities"
        return "logits"

    def describe(self) -> str:
        """The head as a user would write it, e.g. `Dense(10) -> Softmax` or `Dense(1, sigmoid)`."""
        if self.activation_layer:
            return f"Dense({self.units}) -> {self.activation} layer"
        if self.activation == "linear":
            return f"Dense({self.units})"
        return f"Dense({self.units}, {self.activation})"

    def wiring_problem(self) -> str | None:
        """A head and loss that disagree (logits read as probabilities, or softmax applied twice)."""
        if self.from_logits is False and self.output_kind == "logits":
            return (
                "the head outputs logits but the loss has from_logits=False: it reads them as probabilities"
            )
        if self.from_logits and self.output_kind != "logits":
            return (
                f"the head outputs {self.output_kind} but the loss has from_logits=True: it normalises twice"
            )
        return None


def _producer(tensor):
    """The layer that produced a symbolic tensor."""
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


def _activation_name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)


def compiled_loss(model: keras.Model):
    """The single loss `model` was compiled with; HeadError when it has none or several."""
    loss = getattr(model, "loss", None)
    if loss is None:
        raise HeadError(
            f"model {model.name!r} has no compiled loss: compile it with its loss (and save it after "
            "compiling) so the audit can measure the path that loss takes"
        )
    if isinstance(loss, (dict, list, tuple)):
        raise HeadError(f"model {model.name!r} has several losses ({loss!r}); the probe takes one")
    return keras.losses.get(loss) if isinstance(loss, str) else loss


def _loss_facts(loss) -> tuple[str, bool | None]:
    name = getattr(loss, "name", None) or _activation_name(loss)
    from_logits = getattr(loss, "from_logits", None)
    if from_logits is None and not isinstance(loss, keras.losses.Loss):  # a plain loss function
        from_logits = False if "crossentropy" in name else None
    return name, from_logits


def find_head(model: keras.Model) -> Head:
    """The head of a single-input, single-output model and its compiled loss's facts."""
    if len(model.inputs or []) != 1 or len(model.outputs or []) != 1:
        raise HeadError(
            f"model {model.name!r} has {len(model.inputs or [])} inputs and {len(model.outputs or [])} "
            "outputs; the probe measures single-input, single-output classifiers"
        )
    name, from_logits = _loss_facts(compiled_loss(model))
    last = _producer(model.outputs[0]) or model.layers[-1]
    activation_layer = None
    if isinstance(last, (keras.layers.Activation, keras.layers.Softmax)):
        activation_layer = last
        last = _producer(last.input)
    if not isinstance(last, keras.layers.Dense):
        kind = type(last).__name__ if last is not None else "nothing"
        raise HeadError(
            f"the output comes from a {kind} layer ({getattr(last, 'name', '?')}); the probe needs a Dense "
            "head, optionally followed by an Activation or Softmax layer"
        )
    if not last.use_bias:
        raise HeadError(f"the head {last.name!r} has no bias; the probe writes its logits into the bias")
    activation = _activation_name(last.activation)
    if activation_layer is not None:
        if activation != "linear":
            raise HeadError(
                f"the head {last.name!r} has activation {activation!r} and is followed by "
                f"{activation_layer.name!r}: two activations in a row"
            )
        activation = (
            "softmax"
            if isinstance(activation_layer, keras.layers.Softmax)
            else _activation_name(activation_layer.activation)
        )
    layer_name = activation_layer.name if activation_layer is not None else None
    return Head(last.name, activation, layer_name, int(last.units), name, from_logits)


def output_kind(model: keras.Model) -> str:
    """What a compiled model outputs (logits, probabilities or log_probabilities): read off its head,
    else off its loss when the head is not one `find_head` reads (from_logits=True: logits)."""
    try:
        return find_head(model).output_kind
    except HeadError:
        return "logits" if getattr(compiled_loss(model), "from_logits", False) else "probabilities"
