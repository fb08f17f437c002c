"""Small compiled models that show each head wiring the audit reads, built and saved as .keras
files: `python -c "from kerasce.examples.audit_models import save_all; save_all('models')"`
(docs/audit.md audits them)."""

from pathlib import Path

import keras

from kerasce.examples.bodies import small_cnn

IMAGE_SHAPE = (8, 8, 1)


def _cnn(outputs_from, name: str, loss, units: int = 10) -> keras.Model:
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    features = inputs
    for layer in small_cnn(IMAGE_SHAPE):
        features = layer(features)
    model = keras.Model(inputs, outputs_from(features, units), name=name)
    model.compile(optimizer="adam", loss=loss)
    return model


def cnn_softmax(name: str = "cnn_softmax") -> keras.Model:
    """What most tutorials write: Dense(10, softmax) + SparseCategoricalCrossentropy()."""
    return _cnn(
        lambda h, c: keras.layers.Dense(c, activation="softmax", name="predictions")(h),
        name,
        keras.losses.SparseCategoricalCrossentropy(),
    )


def cnn_softmax_mixed_float16() -> keras.Model:
    """The same, built under the mixed_float16 policy (the global policy is restored after)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        return cnn_softmax("cnn_softmax_mixed_float16")
    finally:
        keras.config.set_dtype_policy(previous)


def cnn_logits() -> keras.Model:
    """The stable wiring: Dense(10) + SparseCategoricalCrossentropy(from_logits=True)."""
    return _cnn(
        lambda h, c: keras.layers.Dense(c, name="logits")(h),
        "cnn_logits",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def cnn_separate_softmax() -> keras.Model:
    """A linear Dense followed by its own Softmax layer."""
    return _cnn(
        lambda h, c: keras.layers.Softmax(name="probabilities")(keras.layers.Dense(c, name="logits")(h)),
        "cnn_separate_softmax",
        keras.losses.SparseCategoricalCrossentropy(),
    )


def mlp_sigmoid() -> keras.Model:
    """A binary classifier on 30 features: Dense(1, sigmoid) + BinaryCrossentropy()."""
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid", name="probability"),
        ],
        name="mlp_sigmoid",
    )
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy())
    return model


def cnn_conv_head() -> keras.Model:
    """MobileNet's head: Conv2D(10, 1) -> Flatten -> Activation("softmax"), trained on one-hot
    labels with CategoricalCrossentropy(label_smoothing=0.1)."""

    def head(h, c):
        h = keras.layers.Reshape((1, 1, h.shape[-1]))(h)
        h = keras.layers.Conv2D(c, 1, name="logits_conv")(h)
        return keras.layers.Activation("softmax", name="predictions")(keras.layers.Flatten()(h))

    return _cnn(head, "cnn_conv_head", keras.losses.CategoricalCrossentropy(label_smoothing=0.1))


def tagger_sigmoid() -> keras.Model:
    """A multi-label tagger: Dense(5, sigmoid) + binary_crossentropy on multi-hot labels."""
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(5, activation="sigmoid", name="tags"),
        ],
        name="tagger_sigmoid",
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy"])
    return model


def cnn_auxiliary_head() -> keras.Model:
    """Two outputs: the digit (a softmax) and an auxiliary regression of the image's mean."""
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    features = inputs
    for layer in small_cnn(IMAGE_SHAPE):
        features = layer(features)
    digit = keras.layers.Dense(10, activation="softmax", name="digit")(features)
    brightness = keras.layers.Dense(1, name="brightness")(features)
    model = keras.Model(inputs, {"digit": digit, "brightness": brightness}, name="cnn_auxiliary_head")
    model.compile(optimizer="adam", loss={"digit": "sparse_categorical_crossentropy", "brightness": "mse"})
    return model


EXAMPLES = {
    "cnn_softmax": cnn_softmax,
    "cnn_softmax_mixed_float16": cnn_softmax_mixed_float16,
    "mlp_sigmoid": mlp_sigmoid,
    "cnn_logits": cnn_logits,
    "cnn_separate_softmax": cnn_separate_softmax,
    "cnn_conv_head": cnn_conv_head,
    "tagger_sigmoid": tagger_sigmoid,
}
SEVERAL_OUTPUTS = {"cnn_auxiliary_head": cnn_auxiliary_head}


def save_all(directory) -> dict:
    """Build and save every example, those with several outputs too; {name: path}."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, build in {**EXAMPLES, **SEVERAL_OUTPUTS}.items():
        paths[name] = directory / f"{name}.keras"
        keras.utils.set_random_seed(0)
        build().save(paths[name])
    return paths
