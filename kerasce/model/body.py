"""A user's architecture in a grid: `[model] body = "package.module:function"`.

The function takes the input shape (one sample's, without the batch) and returns a Keras layer
(a `keras.Sequential` included) or a list of layers, applied in order to the input; they must end
in features, shape (batch, n). kerasce then adds the formulation's head, the precision policy and
the logit scale. Everything that can go wrong is a BodyError before any run starts.
"""

import importlib

import keras

from kerasce.errors import ConfigError


class BodyError(ConfigError):
    """model.body cannot be imported, or does not build features from the input."""


def resolve_body(spec: str):
    """The function `spec` ("package.module:function") names."""
    module_name, _, function_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BodyError(f"model.body: cannot import {module_name!r} ({error})") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise BodyError(f"model.body: {module_name!r} has no function {function_name!r}")
    return function


def body_layers(spec: str, input_shape: tuple) -> list:
    """The layers the body function returns for `input_shape`, as a list."""
    try:
        returned = resolve_body(spec)(tuple(input_shape))
    except Exception as error:  # the user's code: its failure in one line, in its own words
        raise BodyError(
            f"model.body: {spec}{tuple(input_shape)} raised {type(error).__name__}: {error}"
        ) from None
    layers = list(returned) if isinstance(returned, (list, tuple)) else [returned]
    wrong = [item for item in layers if not isinstance(item, keras.layers.Layer)]
    if wrong or not layers:
        raise BodyError(
            f"model.body: {spec} returned {type(returned).__name__}"
            + (f" holding {type(wrong[0]).__name__}" if wrong and wrong[0] is not returned else "")
            + "; it must return a Keras layer (e.g. keras.Sequential) or a list of layers"
        )
    return layers


def apply_body(spec: str, inputs):
    """The body's features for the symbolic `inputs`; BodyError unless they are (batch, n)."""
    features = inputs
    for layer in body_layers(spec, inputs.shape[1:]):
        try:
            features = layer(features)
        except Exception as error:  # a layer that does not fit the input shape, in the user's words
            raise BodyError(
                f"model.body: {spec}: layer {layer.name!r} failed on {features.shape}: {error}"
            ) from None
    if not isinstance(features, keras.KerasTensor) or len(features.shape) != 2:
        raise BodyError(
            f"model.body: {spec} ends in shape {getattr(features, 'shape', None)}; it must end in "
            "features (batch, n): add keras.layers.Flatten() or GlobalAveragePooling2D()"
        )
    return features


def check_body(spec: str, input_shape: tuple) -> None:
    """Build the body once on a symbolic input, so a broken body fails before any run starts."""
    apply_body(spec, keras.Input(tuple(input_shape)))
