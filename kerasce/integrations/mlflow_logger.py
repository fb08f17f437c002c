"""kerasce.MlflowLogger: what the runner logs for its own runs, from your own `fit`.

    model = kerasce.instrument(model)          # kerasce's train step, your layers
    with mlflow.start_run():
        model.fit(x, y, validation_data=(x_val, y_val), epochs=10,
                  callbacks=[kerasce.MlflowLogger(validation_data=(x_val, y_val))])

Into the active MLflow run (one is started, and ended, if none is active): the loss path the
probe measures at the start (tag), per-epoch metrics (Keras' logs and the instruments' counts),
`nan_events.csv`, and at the end precision-recall and calibration metrics, curves and figures on
the validation data. Names come from tracking/schema.py, numbers from evaluate/: the same as a
grid run's.
"""

import math
import time
from types import SimpleNamespace

import keras
import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from kerasce.command import first_line
from kerasce.errors import KerasceError
from kerasce.evaluate.metrics import (
    average_precision,
    evaluate_predictions,
    pr_curve_table,
    reliability_table,
)
from kerasce.evaluate.run_figures import png_bytes, pr_curve_figure, reliability_figure
from kerasce.model.heads import find_head
from kerasce.model.loss_path import measure_loss_paths
from kerasce.tracking.schema import NAN_EVENT_COLUMNS, Artifact, Metric, RunRecord, Tag
from kerasce.tracking.writer import RunWriter
from kerasce.training.instruments import EpochRecorder, OutputProbe
from kerasce.vocabulary import LabelFormat, nan_status, unclassified


class NotInstrumented(KerasceError):
    """MlflowLogger reads the instruments of a model made by kerasce.instrument."""


MAX_VALIDATION_SAMPLES = 20_000  # read from a validation dataset: enough for PR and calibration


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


def _is_dataset(data) -> bool:
    return hasattr(data, "as_numpy_iterator") or isinstance(data, keras.utils.PyDataset)


def validation_arrays(data):
    """(x, y) arrays from (x, y), (x, y, sample_weight), a tf.data.Dataset or a keras PyDataset
    of such batches (read once, up to MAX_VALIDATION_SAMPLES); None for None. A one-shot Python
    generator is refused: reading it would take batches from your own code."""
    if data is None:
        return None
    if isinstance(data, (tuple, list)) and len(data) in (2, 3):
        return keras.tree.map_structure(np.asarray, data[0]), np.asarray(data[1])
    if not _is_dataset(data):
        raise KerasceError(
            f"MlflowLogger validation_data: a {type(data).__name__} cannot be read without consuming it; "
            "give (x, y) arrays, a tf.data.Dataset or a keras.utils.PyDataset (or None)"
        )
    batches, seen = [], 0
    iterator = (
        data.as_numpy_iterator()
        if hasattr(data, "as_numpy_iterator")
        else (data[i] for i in range(len(data)))
    )
    for batch in iterator:
        x, y, _ = keras.utils.unpack_x_y_sample_weight(tuple(batch) if isinstance(batch, list) else batch)
        batches.append((x, y))
        seen += len(np.asarray(y))
        if seen >= MAX_VALIDATION_SAMPLES:
            break
    if not batches:
        raise KerasceError("MlflowLogger validation_data: the dataset yielded no batch")
    x = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *[b[0] for b in batches])
    return x, np.concatenate([np.asarray(b[1]) for b in batches])


def labels_for(y, label_format) -> np.ndarray:
    """Validation labels as the evaluation reads them: class ids for one label per sample
    (one-hot rows become their heaviest class), 0/1 rows for multi-hot labels."""
    y = np.asarray(y)
    if label_format == LabelFormat.MULTI_HOT:
        return (y.reshape(len(y), -1) > 0.5).astype(int)
    if label_format == LabelFormat.BINARY:
        return (y.reshape(-1) > 0.5).astype(int)
    return (y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)).astype(int)


class MlflowLogger(keras.callbacks.Callback):
    """Log a `fit` of a `kerasce.instrument`-ed model into the active MLflow run, as kerasce's runner
    logs a grid cell. `validation_data`: (x, y) (or a tf.data.Dataset / PyDataset of batches) for
    the per-epoch AP and the final evaluation, None for the training counts alone; `class_names`:
    for the curves (default "0", "1", ...); `stop_on_nan`: end training after the first epoch
    with a non-finite batch; `figures`: the PR and reliability PNGs.

    What kerasce cannot read (a head or loss it does not know) never stops your `fit`: the loss
    path is logged `unclassified` with the reason, and what needs the head is left out."""

    def __init__(self, validation_data=None, class_names=None, stop_on_nan=False, figures=True):
        super().__init__()
        self.validation = validation_arrays(validation_data)
        self.class_names, self.stop_on_nan, self.figures = class_names, stop_on_nan, figures
        self.writer = self.recorder = self.split = self.head = None
        self.owns_run = False
        self.left_out: list[str] = []  # what could not be logged, and why

    def on_train_begin(self, logs=None):
        model = self.model
        if getattr(model, "monitor", None) is None:
            raise NotInstrumented(
                "MlflowLogger reads kerasce's training instruments: train `kerasce.instrument(model)`, "
                "compiled, instead of the model itself"
            )
        self.writer = RunWriter(MlflowClient(mlflow.get_tracking_uri()), self._active_run_id())
        probe, tags = self._read_head(model)
        self.recorder = EpochRecorder(
            model.monitor, probe, self.split, self.stop_on_nan, self.writer.log_epoch
        )
        self.recorder.set_model(model)
        self.writer.client.log_batch(self.writer.run_id, tags=_tags(tags))
        self.started = time.perf_counter()

    def _active_run_id(self) -> str:
        run = mlflow.active_run()
        if run is None:
            run, self.owns_run = mlflow.start_run(), True
        return run.info.run_id

    def _read_head(self, model):
        """(the validation probe or None, the start tags): whatever kerasce cannot read is logged
        as unclassified with its reason, and training goes on without it."""
        tags = {Tag.PRECISION: model.dtype_policy.name, Tag.KERAS_BACKEND: keras.backend.backend()}
        try:
            self.head = find_head(model)
        except Exception as error:  # any head or loss kerasce does not read: say so, keep training
            reason = f"kerasce cannot read the head: {first_line(error)}"
            self.left_out.append(f"validation metrics ({reason})")
            return None, {**tags, Tag.LOSS_PATH: unclassified(reason), Tag.HEAD: "unknown"}
        head = self.head
        tags[Tag.HEAD] = f"{head.describe()}; loss {head.loss.describe()}; labels {head.label_format}"
        tags[Tag.LOSS_PATH] = self._loss_path(model, head)
        try:
            probe = OutputProbe(model, head)
            if self.validation is not None:
                x, y = self.validation
                self.split = SimpleNamespace(x_val=x, y_val=labels_for(y, head.label_format))
            else:
                self.left_out.append("validation metrics (no validation_data given to MlflowLogger)")
            return probe, tags
        except Exception as error:  # the logits cannot be read beside the output: counts only
            self.left_out.append(
                f"validation metrics (the head's logits cannot be read: {first_line(error)})"
            )
            return None, tags

    def _loss_path(self, model, head) -> str:
        try:
            return measure_loss_paths(model, [head])[head.output]
        except Exception as error:  # a probe Keras refuses on this model: unclassified, never a crash
            return unclassified(f"the probe failed: {type(error).__name__}: {first_line(error)}")

    def on_epoch_begin(self, epoch, logs=None):
        self.recorder.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.recorder.on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        seconds = time.perf_counter() - self.started
        evaluated = self.recorder.probe is not None and self.split is not None
        probabilities = self.recorder.probe(self.split.x_val)[2] if evaluated else None
        self.writer.write(self.final_record(probabilities, seconds))
        self.writer.close()
        if self.owns_run:
            mlflow.end_run()

    def _evaluation(self, probabilities) -> tuple[dict, list[str]]:
        if probabilities is None:
            return {}, list(self.left_out)
        labels = self.split.y_val
        if labels.ndim == 2:  # multi-hot: one binary problem per unit
            return {"average_precision_macro": average_precision(labels, probabilities)}, [
                "PR curves and calibration for multi-hot labels: not computed (one label per sample only)"
            ]
        names = self.class_names or [str(k) for k in range(probabilities.shape[1])]
        return evaluate_predictions(labels, probabilities, names)

    def final_record(self, probabilities, seconds: float) -> RunRecord:
        """The run's end: counts, the validation evaluation, history, NaN events, curves, figures."""
        recorder = self.recorder
        evaluation, notes = self._evaluation(probabilities)
        metrics = {
            Metric.NAN_EVENT_COUNT: recorder.event_count,
            Metric.SKIPPED_STEPS_TOTAL: recorder.skipped_steps,
            Metric.EPOCHS_COMPLETED: len(recorder.history),
            Metric.TRAIN_SECONDS: seconds,
            **{f"{Metric.VALIDATION_PREFIX}{k}": v for k, v in evaluation.items()},
        }
        if recorder.events:
            metrics[Metric.FIRST_NAN_STEP] = recorder.events[0]["global_step"]
        stopped = self.stop_on_nan and self.model.stop_training
        record = RunRecord(
            metrics={k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(v)},
            tags={
                Tag.NAN_STATUS: nan_status(recorder.event_count, stopped),
                Tag.UNDEFINED_METRICS: "; ".join(notes) or "none",
            },
        )
        record.texts, record.images = self._files(probabilities, evaluation)
        return record

    def _files(self, probabilities, evaluation) -> tuple[dict, dict]:
        texts = {
            Artifact.HISTORY: _csv(pd.DataFrame(self.recorder.history)),
            Artifact.NAN_EVENTS: _csv(pd.DataFrame(self.recorder.events, columns=NAN_EVENT_COLUMNS)),
        }
        images = {}
        if probabilities is None or self.split.y_val.ndim == 2:
            return texts, images
        labels = self.split.y_val
        names = self.class_names or [str(k) for k in range(probabilities.shape[1])]
        curve = pr_curve_table(labels, probabilities, names)
        texts[Artifact.PR_CURVE] = _csv(curve)
        if not np.isfinite(probabilities).all():  # calibration and figures of non-finite outputs: none
            return texts, images
        calibration = reliability_table(labels, probabilities)
        texts[Artifact.RELIABILITY] = _csv(calibration)
        if self.figures:
            title = f"validation data: {self.model.name}"
            images[Artifact.PR_FIGURE] = png_bytes(pr_curve_figure(curve, f"PR, {title}"))
            images[Artifact.RELIABILITY_FIGURE] = png_bytes(
                reliability_figure(calibration, f"Reliability, {title}", evaluation.get("ece"))
            )
        return texts, images


def _tags(mapping: dict) -> list:
    from mlflow.entities import RunTag

    return [RunTag(k, str(v)) for k, v in mapping.items()]
