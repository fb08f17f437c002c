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

from kerasce.errors import KerasceError
from kerasce.evaluate.figures import png_bytes, pr_curve_figure, reliability_figure
from kerasce.evaluate.metrics import evaluate_predictions, pr_curve_table, reliability_table
from kerasce.model.heads import find_head
from kerasce.model.loss_path import LossPathError, detect_loss_path
from kerasce.tracking.schema import NAN_EVENT_COLUMNS, Artifact, Metric, RunRecord, Tag
from kerasce.tracking.writer import RunWriter
from kerasce.training.instruments import EpochRecorder, HeadProbe
from kerasce.vocabulary import nan_status, unclassified


class NotInstrumented(KerasceError):
    """MlflowLogger reads the instruments of a model made by kerasce.instrument."""


def _labels(y) -> np.ndarray:
    y = np.asarray(y)
    return (y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)).astype(int)


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


class MlflowLogger(keras.callbacks.Callback):
    """Log a `fit` of a `kerasce.instrument`-ed model into the active MLflow run, as kerasce's runner
    logs a grid cell. `validation_data`: (x, y) for the per-epoch AP and the final evaluation;
    `class_names`: for the curves (default "0", "1", ...); `stop_on_nan`: end training after the
    first epoch with a non-finite batch; `figures`: the PR and reliability PNGs."""

    def __init__(self, validation_data, class_names=None, stop_on_nan=False, figures=True):
        super().__init__()
        x_val, y_val = validation_data
        self.split = SimpleNamespace(x_val=np.asarray(x_val), y_val=_labels(y_val))
        self.class_names, self.stop_on_nan, self.figures = class_names, stop_on_nan, figures
        self.writer = self.recorder = None
        self.owns_run = False

    def on_train_begin(self, logs=None):
        model = self.model
        if getattr(model, "monitor", None) is None:
            raise NotInstrumented(
                "MlflowLogger reads kerasce's training instruments: train `kerasce.instrument(model)`, "
                "compiled, instead of the model itself"
            )
        head = find_head(model)
        self.writer = RunWriter(MlflowClient(mlflow.get_tracking_uri()), self._active_run_id())
        probe = HeadProbe(model, head.output_kind, head.logits_layer)
        self.recorder = EpochRecorder(
            model.monitor, probe, self.split, self.stop_on_nan, self.writer.log_epoch
        )
        self.recorder.set_model(model)
        self.writer.client.log_batch(self.writer.run_id, tags=_tags(self._start_tags(model, head)))
        self.started = time.perf_counter()

    def _active_run_id(self) -> str:
        run = mlflow.active_run()
        if run is None:
            run, self.owns_run = mlflow.start_run(), True
        return run.info.run_id

    def _start_tags(self, model, head) -> dict:
        try:
            loss_path = detect_loss_path(model, head.logits_layer)
        except LossPathError as error:
            loss_path = unclassified(str(error))
        return {
            Tag.LOSS_PATH: loss_path,
            Tag.HEAD: f"{head.describe()}; loss {head.loss} (from_logits={head.from_logits})",
            Tag.PRECISION: model.dtype_policy.name,
            Tag.KERAS_BACKEND: keras.backend.backend(),
        }

    def on_epoch_begin(self, epoch, logs=None):
        self.recorder.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.recorder.on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        seconds = time.perf_counter() - self.started
        _, _, probabilities = self.recorder.probe(self.split.x_val)
        self.writer.write(self.final_record(probabilities, seconds))
        self.writer.close()
        if self.owns_run:
            mlflow.end_run()

    def final_record(self, probabilities, seconds: float) -> RunRecord:
        """The run's end: counts, the validation evaluation, history, NaN events, curves, figures."""
        recorder, labels = self.recorder, self.split.y_val
        names = self.class_names or [str(k) for k in range(probabilities.shape[1])]
        evaluation, notes = evaluate_predictions(labels, probabilities, names)
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
        record.texts, record.images = self._files(labels, probabilities, names, evaluation)
        return record

    def _files(self, labels, probabilities, names, evaluation) -> tuple[dict, dict]:
        curve = pr_curve_table(labels, probabilities, names)
        texts = {
            Artifact.HISTORY: _csv(pd.DataFrame(self.recorder.history)),
            Artifact.NAN_EVENTS: _csv(pd.DataFrame(self.recorder.events, columns=NAN_EVENT_COLUMNS)),
            Artifact.PR_CURVE: _csv(curve),
        }
        images = {}
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
