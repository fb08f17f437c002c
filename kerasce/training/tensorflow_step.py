"""The instrumented train step on TensorFlow: Keras' own (forward, compiled loss, loss scaling,
optimizer), with the loss scale read before the optimizer updates it, then the shared counting."""

import keras
import tensorflow as tf

from kerasce.training.instruments import record_step


def train_step(model, data):
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    loss_scale = model.optimizer.scale_loss(1.0)
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        scaled_loss = model.optimizer.scale_loss(loss)
    gradients = tape.gradient(scaled_loss, model.trainable_variables)
    model.optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return record_step(model, loss, gradients, loss_scale, data, y_pred)
