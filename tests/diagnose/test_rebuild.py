"""A model rebuilt under another precision policy keeps its weights, its loss and its pinned layers."""

import keras
import numpy as np
import pytest

from kerasce.diagnose.rebuild import base_policy, rebuild_under

pytestmark = pytest.mark.backend


def model_with_float32_head(policy="mixed_float16"):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        x = keras.Input((4,))
        h = keras.layers.Dense(8, activation="relu", name="hidden")(x)
        out = keras.layers.Dense(3, activation="softmax", dtype="float32", name="head")(h)
        model = keras.Model(x, out)
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy())
    return model


def test_layers_following_the_model_policy_take_the_new_one_and_pinned_layers_stay():
    model = model_with_float32_head()
    assert base_policy(model) == "mixed_float16"
    rebuilt = rebuild_under(model, "mixed_bfloat16")
    assert rebuilt.get_layer("hidden").dtype_policy.name == "mixed_bfloat16"
    assert rebuilt.get_layer("head").dtype_policy.name == "float32"
    for before, after in zip(model.get_weights(), rebuilt.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert type(rebuilt.loss) is keras.losses.SparseCategoricalCrossentropy
    assert keras.config.dtype_policy().name == "float32"  # the global policy was never touched


def test_sublayers_a_users_layer_makes_follow_the_new_policy():
    from user_layers import classifier

    rebuilt = rebuild_under(classifier(), "mixed_float16")
    block = rebuilt.get_layer("block")
    assert block.dtype_policy.name == block.hidden.dtype_policy.name == "mixed_float16"
    assert keras.config.dtype_policy().name == "float32"
