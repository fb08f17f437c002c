"""Instruments inside training: counters written by the compiled train step and read once per
epoch, the probe that reads the head's logits, and the callback that turns both into epoch rows.

The train step is Keras' own (forward, compiled loss, loss scaling, optimizer) plus counters kept
in variables: non-finite batches with their step and values, the gradient norm, steps skipped by
loss scaling, and samples in the clipped dead zone. Looking for NaN costs no per-batch host
synchronisation.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from kerasce.evaluate.metrics import average_precision
from kerasce.model.formulations import Formulation
from kerasce.model.numerics import EPSILON, to_probabilities

MAX_EVENTS_PER_EPOCH = 256  # events past this are counted, not itemised
EVENT_COLUMNS = ["epoch", "batch", "global_step", "nonfinite", "loss", "grad_norm"]


class InstabilityMonitor:
    """Variables the compiled train step writes and the epoch callback reads and resets."""

    def __init__(self, formulation: Formulation, loss_scaling: bool):
        self.output_kind, self.loss_scaling = formulation.output, loss_scaling
        self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.epoch_counters = {
            name: tf.Variable(0.0, dtype=tf.float64, trainable=False)
            for name in (
                "nonfinite_batches",
                "skipped_steps",
                "grad_norm_sum",
                "finite_steps",
                "dead_samples",
                "seen_samples",
                "events",
            )
        }
        self.event_rows = tf.Variable(tf.zeros((MAX_EVENTS_PER_EPOCH, 3), tf.float64), trainable=False)

    def reset(self):
        for counter in self.epoch_counters.values():
            counter.assign(0.0)

    def read(self) -> tuple[dict, np.ndarray]:
        counts = {name: float(v.numpy()) for name, v in self.epoch_counters.items()}
        rows = self.event_rows.numpy()[: int(min(counts["events"], MAX_EVENTS_PER_EPOCH))]
        return counts, rows

    def record(self, loss, gradients, loss_scale, y, y_pred):
        """Runs inside the compiled step: only graph ops, no host round trip."""
        loss = tf.cast(loss, tf.float64)
        grad_norm = tf.cast(tf.linalg.global_norm([tf.cast(g, tf.float32) for g in gradients]), tf.float64)
        grad_norm = grad_norm / tf.cast(loss_scale, tf.float64)
        loss_finite, grads_finite = tf.math.is_finite(loss), tf.math.is_finite(grad_norm)
        # Under dynamic loss scaling an overflowing scaled gradient is routine: the step is
        # skipped and the scale halved. That is a skipped step, not an instability event.
        skipped = tf.logical_and(self.loss_scaling, tf.logical_and(loss_finite, ~grads_finite))
        event = tf.logical_and(~tf.logical_and(loss_finite, grads_finite), ~skipped)
        counters = self.epoch_counters
        counters["nonfinite_batches"].assign_add(tf.cast(event, tf.float64))
        counters["skipped_steps"].assign_add(tf.cast(skipped, tf.float64))
        counters["grad_norm_sum"].assign_add(tf.where(grads_finite, grad_norm, 0.0))
        counters["finite_steps"].assign_add(tf.cast(grads_finite, tf.float64))
        dead = self._dead_zone(y, y_pred)
        counters["dead_samples"].assign_add(tf.reduce_sum(tf.cast(dead, tf.float64)))
        counters["seen_samples"].assign_add(tf.cast(tf.size(dead), tf.float64))
        index = tf.cast(counters["events"], tf.int32)
        itemise = tf.logical_and(event, index < MAX_EVENTS_PER_EPOCH)
        tf.cond(itemise, lambda: self._write_event(index, loss, grad_norm), lambda: tf.constant(False))
        counters["events"].assign_add(tf.cast(event, tf.float64))
        self.global_step.assign_add(1)

    def _write_event(self, index, loss, grad_norm):
        row = tf.stack([tf.cast(self.global_step, tf.float64), loss, grad_norm])
        self.event_rows.scatter_nd_update([[index]], [row])
        return tf.constant(True)

    def _dead_zone(self, y, y_pred):
        """Per sample: is the true-class probability, as the head gives it, below EPSILON?"""
        y_pred = tf.cast(y_pred, tf.float32)
        labels = tf.cast(tf.reshape(y, [-1]), tf.int32)
        if y_pred.shape[-1] == 1:  # one sigmoid unit: P(label) is p or 1 - p
            value = y_pred[:, 0]
            if self.output_kind == "logits":
                signed = tf.where(labels == 1, value, -value)
                return tf.math.log_sigmoid(signed) < math.log(EPSILON)
            return tf.where(labels == 1, value, 1.0 - value) < EPSILON
        if self.output_kind == "logits":
            y_pred = tf.nn.log_softmax(y_pred)
        true_class = tf.gather(y_pred, labels, axis=1, batch_dims=1)
        if self.output_kind == "probabilities":
            return true_class < EPSILON
        return true_class < math.log(EPSILON)


class InstrumentedModel(keras.Model):
    """The same layers as the built model, with a train step that also feeds the monitor."""

    monitor: InstabilityMonitor

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss_scale = self.optimizer.scale_loss(tf.constant(1.0))
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables, strict=True))
        self.monitor.record(loss, gradients, loss_scale, y, y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=tf.shape(x)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)


class HeadProbe:
    """The model's outputs and the head's logits for a batch of features, in one forward pass."""

    def __init__(self, model: keras.Model, formulation: Formulation):
        self.head, self.output_kind = model.get_layer("head"), formulation.output
        self.model = keras.Model(model.input, [self.head.input, model.output])

    def __call__(self, features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(raw outputs, logits, class probabilities)."""
        # predict_on_batch runs a compiled function: an eager forward pass costs more per epoch
        hidden, outputs = self.model.predict_on_batch(features)
        kernel, bias = self.head.get_weights()
        with np.errstate(all="ignore"):
            logits = self.head.logit_scale * (hidden.astype(np.float64) @ kernel + bias)
            return outputs, logits, to_probabilities(outputs, self.output_kind)


class EpochRecorder(keras.callbacks.Callback):
    """Once per epoch: read the monitor, measure the validation split, report, maybe stop."""

    def __init__(self, monitor, probe, dataset, stop_on_nan, on_epoch):
        super().__init__()
        self.monitor, self.probe, self.dataset = monitor, probe, dataset
        self.stop_on_nan, self.on_epoch = stop_on_nan, on_epoch
        self.history, self.events, self.event_count, self.skipped_steps = [], [], 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.monitor.reset()
        self.epoch_start_step = int(self.monitor.global_step.numpy())

    def on_epoch_end(self, epoch, logs=None):
        counts, rows = self.monitor.read()
        _, logits, probabilities = self.probe(self.dataset.x_val)
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        metrics.update(
            {
                "val_average_precision": average_precision(self.dataset.y_val, probabilities),
                "clip_saturation_rate": counts["dead_samples"] / max(counts["seen_samples"], 1.0),
                "max_abs_logit": float(np.max(np.abs(logits))),
                "grad_norm": counts["grad_norm_sum"] / counts["finite_steps"]
                if counts["finite_steps"]
                else math.nan,
                "nonfinite_batches": counts["nonfinite_batches"],
                "skipped_steps": counts["skipped_steps"],
            }
        )
        self.history.append({"epoch": epoch, **metrics})
        self.events += [self._event(epoch, row) for row in rows]
        self.event_count += int(counts["events"])
        self.skipped_steps += int(counts["skipped_steps"])
        if self.on_epoch:
            self.on_epoch(epoch, metrics)
        if counts["events"] and self.stop_on_nan:
            self.model.stop_training = True

    def _event(self, epoch, row) -> dict:
        step, loss, grad_norm = row
        return {
            "epoch": epoch,
            "batch": int(step) - self.epoch_start_step,
            "global_step": int(step),
            "nonfinite": "gradient" if math.isfinite(loss) else "loss",
            "loss": float(loss),
            "grad_norm": float(grad_norm),
        }
