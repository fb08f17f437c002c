"""An example `[model] body`: the layers up to the features, for `body = "kerasce.examples.bodies:small_cnn"`.

A body is any function that takes the input shape (without the batch) and returns a Keras layer
or a list of layers; kerasce applies them to the input, then adds the formulation's head, the
precision policy and the logit scale.
"""

import keras


def small_cnn(input_shape) -> list:
    """Two small convolutions and a dense layer, for 8x8 (or larger) single-channel images."""
    if len(input_shape) == 2:  # (height, width): add the channel axis
        reshape = [keras.layers.Reshape((*input_shape, 1))]
    else:
        reshape = []
    return reshape + [
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
    ]
