"""A head's logits beside the model's output, for any head `kerasce.model.heads` reads.

When the activation is a separate layer, the logits are that layer's input. When it sits inside
the layer making the logits (`Dense(10, activation="softmax")`), a linear twin of that layer is
called on the same input, with the same weights (copied before each use), followed by copies of
the weightless layers in between: the user's layers are never called on anything new.
"""

import keras
import numpy as np

from kerasce.model.compiled_loss import named_outputs
from kerasce.model.head_graph import HeadLayers
from kerasce.model.heads import Head, head_layers


def input_structure(model: keras.Model):
    """The model's inputs as it is called: one tensor, a list, or a dict."""
    try:
        return model.input
    except (AttributeError, ValueError):  # a Sequential model exposes only `inputs`
        inputs = model.inputs
        return inputs[0] if len(inputs) == 1 else list(inputs)


def _renamed_copy(layer, **changes):
    config = {**layer.get_config(), "name": f"{layer.name}_kerasce_logits", **changes}
    return type(layer).from_config(config)


class HeadOutputs:
    """(logits, output) of one head for a batch of features."""

    def __init__(self, model: keras.Model, head: Head, layers: HeadLayers | None = None):
        self.layers = layers or head_layers(model, head)
        self.twin = None
        output = dict(named_outputs(model))[head.output]
        if self.layers.activation_layer is not None:
            logits = self.layers.activation_layer.input
        else:
            self.twin = _renamed_copy(self.layers.logits, activation="linear")
            logits = self.twin(self.layers.logits.input)
            for layer in self.layers.passthrough:
                logits = _renamed_copy(layer)(logits)
        self.model = keras.Model(input_structure(model), [logits, output])

    def _sync(self):
        if self.twin is not None:
            self.twin.set_weights(self.layers.logits.get_weights())

    def __call__(self, features) -> tuple[np.ndarray, np.ndarray]:
        """Eager: logits and output as float64 arrays (at the output's own precision first)."""
        self._sync()
        logits, output = self.model(features, training=False)
        return _float64(logits), _float64(output)

    def predict(self, features) -> tuple[np.ndarray, np.ndarray]:
        """The same through a compiled predict step: for repeated use on larger batches."""
        self._sync()
        logits, output = self.model.predict_on_batch(features)
        return _float64(logits), _float64(output)


def _float64(values) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(values)).astype(np.float64)
