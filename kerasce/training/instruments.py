"""Instruments inside training: counters written by the compiled train step and read once per
epoch, the probe that reads the head's logits, and the callback that turns both into epoch rows.

The counting is written once, with `keras.ops` on Keras variables, and runs inside the compiled
step of either backend (see `kerasce/training/instrumented_model.py`): non-finite batches with their step
and values, the gradient norm, steps skipped by loss scaling, and samples in the clipped dead zone.
Looking for NaN costs no per-batch host synchronisation.
"""

import math

import keras
import numpy as np
from keras import ops

from kerasce.evaluate.metrics import average_precision
from kerasce.model.numerics import EPSILON, to_probabilities

MAX_EVENTS_PER_EPOCH = 256  # events past this are counted, not itemised
COUNTERS = (
    "nonfinite_batches",
    "skipped_steps",
    "grad_norm_sum",
    "finite_steps",
    "dead_samples",
    "seen_samples",
    "events",
)


def _state(value, dtype: str) -> keras.Variable:
    # autocast off: under a mixed policy a float32 counter must not be read as float16
    return keras.Variable(value, dtype=dtype, trainable=False, autocast=False)


def global_norm(gradients):
    """The gradients' joint L2 norm in float32 (inf or NaN when any gradient is)."""
    squares = [ops.sum(ops.square(ops.cast(g, "float32"))) for g in gradients if g is not None]
    return ops.sqrt(ops.sum(ops.stack(squares)))


class InstabilityMonitor:
    """Variables the compiled train step writes and the epoch callback reads and resets.

    Float32 and int32 only: JAX (without x64) has no float64, and the counts are reset each epoch.
    """

    def __init__(self, output_kind: str, loss_scaling: bool, label_format: str | None = None):
        """`output_kind`: what the model outputs (a formulation's `output`): logits, probabilities
        or log_probabilities; `loss_scaling`: the optimizer scales the loss (mixed_float16);
        `label_format`: the labels the loss reads (sparse, one_hot, multi_hot, binary; None: read
        off the shapes, one entry per sample)."""
        self.output_kind, self.loss_scaling, self.label_format = output_kind, loss_scaling, label_format
        self.global_step = _state(0, "int32")
        # one variable for every counter: the per-epoch reset is one assignment, not one each
        self.epoch_counts = _state(np.zeros(len(COUNTERS)), "float32")
        self.event_steps = _state(np.zeros(MAX_EVENTS_PER_EPOCH), "int32")
        self.event_values = _state(np.zeros((MAX_EVENTS_PER_EPOCH, 2)), "float32")  # loss, gradient norm

    @property
    def variables(self) -> list:
        return [self.global_step, self.epoch_counts, self.event_steps, self.event_values]

    def reset(self):
        self.epoch_counts.assign(np.zeros(len(COUNTERS), dtype="float32"))

    def read(self) -> tuple[dict, np.ndarray]:
        """The epoch's counts, and one row (global step, loss, gradient norm) per itemised event."""
        counts = dict(zip(COUNTERS, ops.convert_to_numpy(self.epoch_counts).tolist(), strict=True))
        itemised = int(min(counts["events"], MAX_EVENTS_PER_EPOCH))
        steps = ops.convert_to_numpy(self.event_steps)[:itemised, None]
        values = ops.convert_to_numpy(self.event_values)[:itemised]
        return counts, np.concatenate([steps.astype(np.float64), values.astype(np.float64)], axis=1)

    def record(self, loss, gradients, loss_scale, y, y_pred):
        """Count one step. Runs inside the compiled step: `keras.ops` and variable assignments only
        (on JAX inside a StatelessScope, so the assignments become the step's new state)."""
        loss = ops.cast(loss, "float32")
        grad_norm = ops.divide(global_norm(gradients), ops.cast(loss_scale, "float32"))
        loss_finite, grads_finite = ops.isfinite(loss), ops.isfinite(grad_norm)
        # Under dynamic loss scaling an overflowing scaled gradient is routine: the step is
        # skipped and the scale halved. That is a skipped step, not an instability event.
        skipped = ops.logical_and(loss_finite, ops.logical_not(grads_finite))
        skipped = ops.logical_and(skipped, self.loss_scaling)
        event = ops.logical_not(ops.logical_or(ops.logical_and(loss_finite, grads_finite), skipped))
        self._itemise(event, loss, grad_norm)
        dead = ops.cast(self._dead_zone(y, y_pred), "float32")
        increments = {
            "nonfinite_batches": event,
            "skipped_steps": skipped,
            "grad_norm_sum": ops.where(grads_finite, grad_norm, 0.0),
            "finite_steps": grads_finite,
            "dead_samples": ops.sum(dead),
            "seen_samples": ops.size(dead),
            "events": event,
        }
        added = ops.stack([ops.cast(increments[name], "float32") for name in COUNTERS])
        self.epoch_counts.assign_add(added)
        self.global_step.assign_add(1)

    def _itemise(self, event, loss, grad_norm):
        """Write the event into the next free row; no row is free past MAX_EVENTS_PER_EPOCH."""
        # `.value`: jax.numpy functions refuse Keras variables (their values in the StatelessScope)
        index = ops.cast(self.epoch_counts.value[COUNTERS.index("events")], "int32")
        row = ops.logical_and(ops.equal(ops.arange(MAX_EVENTS_PER_EPOCH, dtype="int32"), index), event)
        self.event_steps.assign(ops.where(row, self.global_step.value, self.event_steps.value))
        values = ops.expand_dims(ops.stack([loss, grad_norm]), 0)
        self.event_values.assign(ops.where(ops.expand_dims(row, 1), values, self.event_values.value))

    def _dead_zone(self, y, y_pred):
        """Per label entry (a sample; a sample and unit for multi-hot labels): is the probability
        the head gives the label below EPSILON?"""
        y_pred = ops.cast(y_pred, "float32")
        if self.label_format in ("binary", "multi_hot") or (
            self.label_format is None and y_pred.shape[-1] == 1
        ):
            # each unit its own sigmoid: P(label) is p for a 1, 1 - p for a 0
            value = ops.reshape(y_pred, (-1,))
            positive = ops.greater(ops.reshape(ops.cast(y, "float32"), (-1,)), 0.5)
            if self.output_kind == "logits":
                return ops.less(ops.log_sigmoid(ops.where(positive, value, -value)), math.log(EPSILON))
            return ops.less(ops.where(positive, value, 1.0 - value), EPSILON)
        if len(y.shape) >= 2 and y.shape[-1] == y_pred.shape[-1] > 1:  # one-hot labels: the heaviest class
            y = ops.argmax(y, axis=-1)
        labels = ops.cast(ops.reshape(y, (-1,)), "int32")
        y_pred = ops.reshape(y_pred, (-1, y_pred.shape[-1]))
        if self.output_kind == "logits":
            y_pred = ops.log_softmax(y_pred, axis=-1)
        true_class = ops.take_along_axis(y_pred, ops.expand_dims(labels, 1), axis=1)[:, 0]
        if self.output_kind == "probabilities":
            return ops.less(true_class, EPSILON)
        return ops.less(true_class, math.log(EPSILON))


def record_step(model, loss, gradients, loss_scale, data, y_pred) -> dict:
    """What every instrumented train step does after the optimizer: count the step, update the
    loss tracker and the compiled metrics, and return the logs (stateful Keras code: both
    backends' steps call it, JAX inside a StatelessScope)."""
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    model.monitor.record(loss, gradients, loss_scale, y, y_pred)
    for metric in model.metrics:
        if metric.name == "loss":
            # the batch size, from the first input whether x is one array, a list or a dict
            metric.update_state(loss, sample_weight=ops.shape(keras.tree.flatten(x)[0])[0])
    return model.compute_metrics(x, y, y_pred, sample_weight)


class HeadProbe:
    """The model's outputs and the head's logits for a batch of features, in one forward pass.
    `head` names the Dense layer making the logits; `output_kind` is what the model outputs."""

    def __init__(self, model: keras.Model, output_kind: str, head: str = "head"):
        self.head, self.output_kind = model.get_layer(head), output_kind
        self.model = keras.Model(model.input, [self.head.input, model.output])

    def __call__(self, features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(raw outputs, logits, class probabilities)."""
        # predict_on_batch runs a compiled function: an eager forward pass costs more per epoch
        hidden, outputs = self.model.predict_on_batch(features)
        kernel, bias = self.head.get_weights()
        with np.errstate(all="ignore"):
            scale = getattr(self.head, "logit_scale", 1.0)  # kerasce's ScaledDense; 1 for a plain Dense
            logits = scale * (np.asarray(hidden, np.float64) @ kernel + bias)
            return np.asarray(outputs), logits, to_probabilities(outputs, self.output_kind)


class OutputProbe:
    """HeadProbe for any head `kerasce.model.heads` reads (a Dense, EinsumDense or convolution,
    whatever follows it): (raw outputs, logits, probabilities) for a batch of features, where
    probabilities are (n, C) class probabilities for one label per sample and the per-unit
    sigmoid values for multi-hot labels."""

    def __init__(self, model: keras.Model, head):
        from kerasce.model.head_outputs import HeadOutputs

        self.head, self.outputs = head, HeadOutputs(model, head)

    def __call__(self, features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        logits, outputs = self.outputs.predict(features)
        if self.head.label_format == "multi_hot":
            with np.errstate(all="ignore"):
                return outputs, logits, 1.0 / (1.0 + np.exp(-logits))
        return outputs, logits, to_probabilities(outputs, self.head.output_kind)


class EpochRecorder(keras.callbacks.Callback):
    """Once per epoch: read the monitor, measure the validation split, report, maybe stop.

    Reading costs nothing extra on JAX: Keras' JAX `fit` writes the step's state back into the
    variables (`jax_state_sync`) before `on_epoch_end`, and reads them again after
    `on_epoch_begin`, so the reset there reaches the next step.
    """

    def __init__(self, monitor, probe, dataset, stop_on_nan, on_epoch):
        """`dataset`: anything with the validation split as `x_val` and `y_val`."""
        super().__init__()
        self.monitor, self.probe, self.dataset = monitor, probe, dataset
        self.stop_on_nan, self.on_epoch = stop_on_nan, on_epoch
        self.history, self.events, self.event_count, self.skipped_steps = [], [], 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.monitor.reset()
        self.epoch_start_step = int(ops.convert_to_numpy(self.monitor.global_step))

    def on_epoch_end(self, epoch, logs=None):
        counts, rows = self.monitor.read()
        metrics = {key: float(value) for key, value in (logs or {}).items()}
        if self.probe is not None and self.dataset is not None:  # a user's fit may have neither
            _, logits, probabilities = self.probe(self.dataset.x_val)
            metrics["val_average_precision"] = average_precision(self.dataset.y_val, probabilities)
            metrics["max_abs_logit"] = float(np.max(np.abs(logits)))
        metrics.update(
            {
                "clip_saturation_rate": counts["dead_samples"] / max(counts["seen_samples"], 1.0),
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
