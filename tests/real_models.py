"""Small compiled classifiers written the way Keras users write them (one per family the audit
reads): the head's layer, the loss and its spelling, the label format, the inputs and outputs."""

import keras

LOSSES = keras.losses


def _hidden(inputs, units=8):
    return keras.layers.Dense(units, activation="relu", name="hidden")(inputs)


def _compiled(inputs, outputs, loss, name, **compile_options):
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer="adam", loss=loss, **compile_options)
    return model


def one_hot_softmax():
    """Dense(4, softmax) with loss="categorical_crossentropy" on to_categorical labels."""
    x = keras.Input((6,))
    out = keras.layers.Dense(4, activation="softmax", name="predictions")(_hidden(x))
    return _compiled(x, out, "categorical_crossentropy", "one_hot_softmax", metrics=["accuracy"])


def smoothed_logits():
    """Dense(4) with CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)."""
    x = keras.Input((6,))
    out = keras.layers.Dense(4, name="logits")(_hidden(x))
    loss = LOSSES.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    return _compiled(x, out, loss, "smoothed_logits")


def smoothed_softmax():
    """Dense(4, softmax) with CategoricalCrossentropy(label_smoothing=0.1)."""
    x = keras.Input((6,))
    out = keras.layers.Dense(4, activation="softmax", name="predictions")(_hidden(x))
    return _compiled(x, out, LOSSES.CategoricalCrossentropy(label_smoothing=0.1), "smoothed_softmax")


def multi_label_sigmoid():
    """Dense(5, sigmoid) with binary_crossentropy on multi-hot labels (a multi-label tagger)."""
    x = keras.Input((6,))
    out = keras.layers.Dense(5, activation="sigmoid", name="tags")(_hidden(x))
    return _compiled(x, out, "binary_crossentropy", "multi_label_sigmoid", metrics=["binary_accuracy"])


def binary_column():
    """Dense(1, sigmoid) with BinaryCrossentropy(): labels of shape (n, 1)."""
    x = keras.Input((6,))
    out = keras.layers.Dense(1, activation="sigmoid", name="probability")(_hidden(x))
    return _compiled(x, out, LOSSES.BinaryCrossentropy(), "binary_column", metrics=["accuracy"])


def conv_head():
    """MobileNet's head: Conv2D(classes, 1) -> Flatten -> Dropout -> Activation("softmax")."""
    x = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu")(x)
    h = keras.layers.GlobalAveragePooling2D(keepdims=True)(h)
    h = keras.layers.Conv2D(3, 1, name="logits_conv")(h)
    h = keras.layers.Dropout(0.1)(keras.layers.Flatten()(h))
    out = keras.layers.Activation("softmax", name="predictions")(h)
    return _compiled(x, out, LOSSES.SparseCategoricalCrossentropy(), "conv_head", metrics=["accuracy"])


def einsum_head():
    """An EinsumDense making the logits, softmax inside it."""
    x = keras.Input((6,))
    out = keras.layers.EinsumDense(
        "ab,bc->ac", output_shape=3, bias_axes="c", activation="softmax", name="head"
    )(_hidden(x))
    return _compiled(x, out, "sparse_categorical_crossentropy", "einsum_head")


def text_classifier():
    """How text models are written: Input(shape=(None,), dtype="int32") -> Embedding -> pooling."""
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    h = keras.layers.Embedding(50, 8)(tokens)
    h = keras.layers.GlobalAveragePooling1D()(h)
    out = keras.layers.Dense(3, activation="softmax", name="predictions")(h)
    return _compiled(tokens, out, "sparse_categorical_crossentropy", "text_classifier")


def wide_and_deep():
    """A dict of inputs (numeric and a category id) into one sigmoid output."""
    numeric = keras.Input((4,), name="numeric")
    category = keras.Input((1,), dtype="int32", name="category")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(10, 3)(category))
    h = keras.layers.Concatenate()([_hidden(numeric), embedded])
    out = keras.layers.Dense(1, activation="sigmoid", name="click")(h)
    model = keras.Model({"numeric": numeric, "category": category}, out, name="wide_and_deep")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def auxiliary_heads():
    """Two classification outputs (a main softmax, an auxiliary logits head) and a regression one."""
    x = keras.Input((6,))
    h = _hidden(x)
    main = keras.layers.Dense(3, activation="softmax", name="main")(h)
    aux = keras.layers.Dense(2, name="aux")(h)
    size = keras.layers.Dense(1, name="size")(h)
    model = keras.Model(x, {"main": main, "aux": aux, "size": size}, name="auxiliary_heads")
    losses = {
        "main": "sparse_categorical_crossentropy",
        "aux": LOSSES.SparseCategoricalCrossentropy(from_logits=True),
        "size": "mse",
    }
    model.compile(optimizer="adam", loss=losses, loss_weights={"main": 1.0, "aux": 0.3, "size": 0.1})
    return model


def float32_softmax_layer():
    """The mixed-precision guide: Dense(3) then Activation("softmax", dtype="float32")."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        x = keras.Input((6,))
        h = keras.layers.Dense(3, name="dense_logits")(_hidden(x))
        out = keras.layers.Activation("softmax", dtype="float32", name="predictions")(h)
        model = keras.Model(x, out, name="float32_softmax_layer")
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def binary_focal():
    """Dense(1, sigmoid) with BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3)."""
    x = keras.Input((6,))
    out = keras.layers.Dense(1, activation="sigmoid", name="probability")(_hidden(x))
    return _compiled(
        x, out, LOSSES.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3.0), "binary_focal"
    )


def categorical_focal_logits():
    """Dense(3) with CategoricalFocalCrossentropy(from_logits=True, alpha=0.5)."""
    x = keras.Input((6,))
    out = keras.layers.Dense(3, name="logits")(_hidden(x))
    loss = LOSSES.CategoricalFocalCrossentropy(from_logits=True, alpha=0.5)
    return _compiled(x, out, loss, "categorical_focal_logits")


def unknown_loss():
    """A loss the probe does not know (the user's own function)."""

    def my_hinge(y_true, y_pred):
        return keras.ops.mean(keras.ops.relu(1.0 - y_true * y_pred), axis=-1)

    x = keras.Input((6,))
    out = keras.layers.Dense(3, activation="softmax", name="predictions")(_hidden(x))
    return _compiled(x, out, my_hinge, "unknown_loss")


def token_tagger():
    """One softmax per token of a variable-length sequence: outputs (n, length, classes)."""
    tokens = keras.Input((None,), dtype="int32")
    h = keras.layers.Embedding(20, 8)(tokens)
    out = keras.layers.Dense(4, activation="softmax", name="tags")(h)
    return _compiled(tokens, out, "sparse_categorical_crossentropy", "token_tagger")


def ignore_class_softmax():
    """A Sequential Dense(3) then a softmax layer, with SparseCategoricalCrossentropy(ignore_class=1)."""
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(3, name="logits"),
            keras.layers.Activation("softmax", name="predictions"),
        ],
        name="ignore_class_softmax",
    )
    model.compile(optimizer="adam", loss=LOSSES.SparseCategoricalCrossentropy(ignore_class=1))
    return model


FAMILIES = {
    "token_tagger": token_tagger,
    "ignore_class_softmax": ignore_class_softmax,
    "one_hot_softmax": one_hot_softmax,
    "smoothed_logits": smoothed_logits,
    "smoothed_softmax": smoothed_softmax,
    "multi_label_sigmoid": multi_label_sigmoid,
    "binary_column": binary_column,
    "conv_head": conv_head,
    "einsum_head": einsum_head,
    "text_classifier": text_classifier,
    "wide_and_deep": wide_and_deep,
    "auxiliary_heads": auxiliary_heads,
    "float32_softmax_layer": float32_softmax_layer,
    "binary_focal": binary_focal,
    "categorical_focal_logits": categorical_focal_logits,
    "unknown_loss": unknown_loss,
}
