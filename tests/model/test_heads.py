"""Reading a user's head and loss off the model's layers (no training: fast on every backend)."""

import keras
import pytest

from kerasce.model.compiled_loss import HeadError, loss_spec
from kerasce.model.heads import Head, find_head, find_heads

pytestmark = pytest.mark.backend


def classifier(head_layers, loss, inputs=4, compile_it=True):
    x = keras.Input((inputs,))
    h = keras.layers.Dense(8, activation="relu")(x)
    for layer in head_layers:
        h = layer(h)
    model = keras.Model(x, h)
    if compile_it:
        model.compile(loss=loss)
    return model


SCCE = keras.losses.SparseCategoricalCrossentropy


@pytest.mark.parametrize(
    "layers, loss, expected",
    [
        ([keras.layers.Dense(3, activation="softmax", name="out")], SCCE(), ("out", "softmax", None, False)),
        ([keras.layers.Dense(3, name="out")], SCCE(from_logits=True), ("out", "linear", None, True)),
        (
            [keras.layers.Dense(3, name="out"), keras.layers.Softmax(name="sm")],
            "sparse_categorical_crossentropy",
            ("out", "softmax", "sm", False),
        ),
        (
            [keras.layers.Dense(1, name="out"), keras.layers.Activation("sigmoid", name="act")],
            keras.losses.BinaryCrossentropy(),
            ("out", "sigmoid", "act", False),
        ),
    ],
)
def test_the_head_and_its_loss_are_read_off_the_layers(layers, loss, expected):
    head = find_head(classifier(layers, loss))
    assert (head.logits_layer, head.activation, head.activation_layer, head.from_logits) == expected


def head(activation, from_logits=False, activation_layer=None, loss=SCCE):
    return Head(
        "out", "d", "Dense", activation, activation_layer, (), 3, loss_spec(loss(from_logits=from_logits))
    )


def test_output_kinds_and_wiring_problems():
    assert head("softmax").output_kind == "probabilities" and head("softmax").wiring_problem() is None
    assert head("log_softmax").output_kind == "log_probabilities"
    assert "from_logits=False" in head("linear").wiring_problem()
    assert "a second time" in head("softmax", from_logits=True).wiring_problem()
    assert (
        "outputs log_probabilities but the loss has from_logits=False" in head("log_softmax").wiring_problem()
    )
    assert head("log_softmax", from_logits=True).wiring_problem() is None  # log-softmax outputs are logits
    assert head("softmax", activation_layer="sm").describe() == "Dense(3) -> softmax layer"
    assert head("softmax").describe() == "Dense(3, softmax)"


def test_what_cannot_be_probed_says_why():
    with pytest.raises(HeadError, match="no compiled loss"):
        find_head(classifier([keras.layers.Dense(3)], None, compile_it=False))
    with pytest.raises(HeadError, match="LayerNormalization layer"):
        find_head(classifier([keras.layers.Dense(3), keras.layers.LayerNormalization()], SCCE()))
    with pytest.raises(HeadError, match="no bias"):
        find_head(classifier([keras.layers.Dense(3, use_bias=False)], SCCE()))
    x = keras.Input((4,))
    two = keras.Model(x, [keras.layers.Dense(2)(x), keras.layers.Dense(3)(x)])
    two.compile(loss=["mse", "mse"])
    with pytest.raises(HeadError, match="2 outputs"):
        find_head(two)
    with pytest.raises(HeadError, match="no classification output"):
        find_heads(two)
