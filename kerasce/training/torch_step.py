"""The instrumented train step on PyTorch: Keras' own (`keras/src/backend/torch/trainer.py`: eager
forward, compiled loss, `backward()`, optimizer under `no_grad`) with loss scaling as on
TensorFlow, the loss scale read before the optimizer updates it, then the shared counting."""

import keras
import torch

from kerasce.training.instruments import record_step


def train_step(model, data):
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    loss_scale = model.optimizer.scale_loss(1.0)  # a new tensor: the in-place update leaves it be
    y_pred = model(x, training=True)
    model.zero_grad()  # the previous step's gradients
    loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
    model.optimizer.scale_loss(loss).backward()
    trainable = model.trainable_variables
    gradients = [v.value.grad for v in trainable]
    with torch.no_grad():  # the counting builds no autograd graph either
        model.optimizer.apply(gradients, trainable)
        return record_step(model, loss, gradients, loss_scale, data, y_pred)
