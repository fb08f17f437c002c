"""What a compiled Keras model's outputs are called and the loss each was compiled with, read as
plain data with its own arguments (`loss_spec`), whether it was compiled as a string, a function
or a Loss object. What cannot be read raises HeadError saying why."""

import inspect
from collections.abc import Mapping

import keras

from kerasce.errors import KerasceError
from kerasce.model.loss_spec import ARGUMENTS, FAMILIES, KERASCE_FAMILIES, LossSpec

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


def producer(tensor):
    """The layer that produced a symbolic tensor."""
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


def function_name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)


def named_outputs(model: keras.Model) -> list[tuple[str, object]]:
    """(name, symbolic tensor) of each output, in the order Keras flattens them: a dict output's
    keys (sorted), else the output layers' names."""
    outputs = list(model.outputs or [])
    structure = getattr(model, "output", None) if len(outputs) > 1 else None
    if isinstance(structure, Mapping):
        return sorted(structure.items())
    names = getattr(model, "output_names", None) or [producer(t).name for t in outputs]
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


def resolve(loss):
    if not isinstance(loss, str):
        return loss
    try:
        return keras.losses.get(loss)
    except ValueError:
        return None


def loss_spec(loss) -> LossSpec:
    """A compiled loss (string, function or Loss object) as plain data with its own arguments."""
    resolved = resolve(loss)
    if isinstance(resolved, keras.losses.Loss):
        function = getattr(resolved, "fn", None)
        family = (
            function_name(function)
            if function is not None
            else KERASCE_LOSS_CLASSES.get(type(resolved).__name__)
        )
        # a LossFunctionWrapper keeps its function's arguments (label_smoothing, axis...) in _fn_kwargs
        arguments = {**resolved.get_config(), **getattr(resolved, "_fn_kwargs", {})}
        arguments["reduction"] = resolved.reduction
        shown = type(resolved).__name__
        name = loss if isinstance(loss, str) else shown
    elif callable(resolved):
        family, name = function_name(resolved), loss if isinstance(loss, str) else function_name(resolved)
        parameters = inspect.signature(resolved).parameters.values()
        arguments = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    else:
        return LossSpec(str(loss), None)
    if family not in FAMILIES + KERASCE_FAMILIES:
        return LossSpec(name if name != "LossFunctionWrapper" else str(family), None)
    kept = {key: arguments[key] for key in ARGUMENTS[family] if key in arguments}
    return LossSpec(name, family, arguments.get("from_logits"), kept)
