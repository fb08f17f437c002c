"""The layers of a head in the model's graph, walked back from an output: an optional activation
layer (`Activation`, `Softmax`), layers that keep a constant constant (Flatten, Reshape, Dropout,
pooling, a linear Activation), then the layer that makes the logits (Dense, EinsumDense or a
convolution), with its own activation or none."""

from dataclasses import dataclass

import keras

from kerasce.model.compiled_loss import HeadError, function_name, producer

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


@dataclass
class HeadLayers:
    """The layer objects of a head, as found in the model's graph."""

    logits: keras.layers.Layer
    passthrough: list
    activation_layer: keras.layers.Layer | None


def is_linear_activation(layer) -> bool:
    return type(layer) is keras.layers.Activation and function_name(layer.activation) == "linear"


def walk(tensor) -> HeadLayers:
    """The head's layers, from the output tensor back to the layer making the logits."""
    layer, activation_layer, passthrough = producer(tensor), None, []
    if isinstance(layer, (keras.layers.Activation, keras.layers.Softmax)) and not is_linear_activation(layer):
        activation_layer, layer = layer, producer(layer.input)
    while isinstance(layer, CONSTANT_PRESERVING_LAYERS) or is_linear_activation(layer):
        passthrough.insert(0, layer)
        layer = producer(layer.input)
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


def activation_name(layers: HeadLayers) -> str:
    inner = function_name(layers.logits.activation)
    if layers.activation_layer is None:
        return inner
    if inner != "linear":
        raise HeadError(
            f"the head {layers.logits.name!r} has activation {inner!r} and is followed by "
            f"{layers.activation_layer.name!r}: two activations in a row"
        )
    if isinstance(layers.activation_layer, keras.layers.Softmax):
        return "softmax"
    return function_name(layers.activation_layer.activation)
