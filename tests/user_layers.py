"""A user's own registered layer, as `python -m kerasce.audit --import user_layers` imports it: a
classifier block that makes its sublayers in `__init__` without a dtype (so they take the global
policy when the model is rebuilt)."""

import keras


@keras.saving.register_keras_serializable(package="user_layers")
class ClassifierBlock(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.norm = keras.layers.LayerNormalization()

    def call(self, inputs):
        return self.norm(self.hidden(inputs))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def classifier() -> keras.Model:
    inputs = keras.Input((6,))
    features = ClassifierBlock(8, name="block")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(features)
    model = keras.Model(inputs, outputs, name="with_user_layer")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
