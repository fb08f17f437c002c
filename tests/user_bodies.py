"""Bodies as a user would write them, good and broken, for tests/model/test_body.py."""

import keras


def sequential_body(input_shape):
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(4, activation="relu")])


def returns_a_string(input_shape):
    return "not a layer"


def ends_in_images(input_shape):
    return [keras.layers.Conv2D(2, 3, padding="same")]


def raises(input_shape):
    raise ValueError(f"no body for {input_shape}")
