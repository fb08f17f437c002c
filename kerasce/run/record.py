"""A run's record, built as plain data: what a cell's run holds when it starts (RunStart) and
once its training is evaluated (RunRecord). Nothing here talks to MLflow."""

import io
import json
import math
import tempfile
import time
from pathlib import Path

import pandas as pd

from kerasce.config.spec import RunConfig, RunSpec
from kerasce.datasets import Dataset
from kerasce.run.evaluation import Evaluation
from kerasce.run.inputs import grid_table
from kerasce.run.provenance import process_tags, provenance_tags
from kerasce.tracking.schema import (
    NAN_EVENT_COLUMNS,
    Artifact,
    InputSplit,
    Kind,
    Metric,
    RunRecord,
    RunStart,
    Tag,
)
from kerasce.training.result import TrainingResult
from kerasce.vocabulary import LossPath


def flatten(config: dict, prefix: str = "") -> dict:
    """{"train": {"epochs": 3}} -> {"train.epochs": 3}."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def cell_start(spec: RunSpec, dataset: Dataset, parent_id: str) -> RunStart:
    """A cell's run as it starts: the flattened config, the formulation's facts, the data's sizes."""
    run = spec.resolved
    params = {
        **flatten(spec.config),
        **{f"formulation.{k}": v for k, v in run.formulation.facts(dataset.n_classes).items()},
        **{f"dataset.{k}": v for k, v in dataset.sizes().items()},
        "dataset.n_classes": dataset.n_classes,
        "dataset.n_features": dataset.n_features,
        "dataset.origin": dataset.origin,
    }
    tags = {
        **provenance_tags(),
        **process_tags(),
        Tag.KIND: Kind.CELL,
        Tag.CELL_HASH: spec.identity(dataset.fingerprint),
        Tag.DATASET_FINGERPRINT: dataset.fingerprint,
        Tag.DATASET: dataset.name,
        Tag.FORMULATION: run.formulation.name,
        Tag.PRECISION: run.precision,
        Tag.HEARTBEAT: time.time(),
        **source_tags(),
    }
    return RunStart(spec.run_name, params, tags, parent_id, input_splits(dataset))


SOURCE = "kerasce.experiment"  # what the UI's Source shows: the package's grid runner


def source_tags() -> dict:
    return {
        Tag.SOURCE_NAME: SOURCE,
        Tag.SOURCE_TYPE: "LOCAL",
        Tag.SOURCE_GIT_COMMIT: provenance_tags()[Tag.GIT_COMMIT],
    }


def input_splits(dataset: Dataset) -> list[InputSplit]:
    """The three splits as MLflow dataset inputs, all with the dataset's fingerprint as digest."""
    source = dataset.origin or dataset.name
    return [
        InputSplit(f"{dataset.name}-{context}", dataset.fingerprint, context, source, x, y)
        for context, x, y in (
            ("train", dataset.x_train, dataset.y_train),
            ("validation", dataset.x_val, dataset.y_val),
            ("test", dataset.x_test, dataset.y_test),
        )
    ]


def grid_start(experiment_config: dict, n_cells: int, skipped: int) -> RunStart:
    """The parent run of one grid invocation."""
    name = experiment_config["name"]
    tags = {
        Tag.KIND: Kind.GRID,
        Tag.CELLS: n_cells,
        Tag.SKIPPED_CELLS: skipped,
        **provenance_tags(),
        **process_tags(),
        **source_tags(),
        Tag.NOTE: (
            f"One invocation of the grid **{name}**: {n_cells} runs ({skipped} finished before and "
            "skipped), nested below this run, each a cell of the grid (the config is `config.json`, the "
            f"cells `grid.csv`). Compare them with `python -m kerasce.compare --experiment {name}`."
        ),
    }
    return RunStart(f"grid: {experiment_config['name']} ({n_cells} runs)", flatten(experiment_config), tags)


def grid_texts(experiment_config: dict, specs: list[RunSpec], datasets: dict) -> dict:
    return {
        Artifact.GRID: csv_text(grid_table(specs, datasets)),
        Artifact.CONFIG: json.dumps(experiment_config, indent=2),
    }


def cell_record(spec: RunSpec, dataset: Dataset, result: TrainingResult, evaluation: Evaluation) -> RunRecord:
    """Everything a finished training produced and its evaluation found, as the run's record."""
    run = spec.resolved
    metrics = run_metrics(dataset, result, evaluation.metrics)
    notes = evaluation.notes + [
        f"{key}: not finite, left out" for key, value in metrics.items() if not math.isfinite(value)
    ]
    record = RunRecord(
        metrics={k: v for k, v in metrics.items() if math.isfinite(v)},
        tags={
            Tag.LOSS_PATH: result.loss_path,
            Tag.NAN_STATUS: result.nan_status,
            Tag.DETERMINISTIC: result.deterministic,
            Tag.STEPS_PER_EXECUTION: result.steps_per_execution,
            Tag.REUSED_MODEL: result.reused_model,
            Tag.WEIGHTS_HASH: result.weights_hash,
            Tag.UNDEFINED_METRICS: "; ".join(notes) or "none",
            Tag.NOTE: cell_description(run, dataset, result, evaluation.metrics),
        },
    )
    record.texts = run_texts(spec.config, dataset, result, evaluation.curve, evaluation.calibration)
    record.images = dict(evaluation.images)
    if run.train.save_model:
        record.files = {Artifact.MODEL: saved_model_bytes(result.model)}
    return record


def cell_description(run: RunConfig, dataset: Dataset, result: TrainingResult, test_metrics: dict) -> str:
    """One paragraph for the run's Description: what was trained, the loss path, NaN, headline metrics."""
    wiring = run.formulation
    sizes = dataset.sizes()
    if result.event_count:
        nan = f"{result.event_count} non-finite batches, the first at step {result.events[0]['global_step']}"
        nan += f" (training {result.nan_status}; see `nan_events.csv`)"
    else:
        nan = "none"
    shown = [
        ("loss", "loss"),
        ("accuracy", "accuracy"),
        ("AP", "average_precision"),
        ("macro AP", "average_precision_macro"),
        ("ECE", "ece"),
    ]
    headline = ", ".join(f"{label} {test_metrics[k]:.4g}" for label, k in shown if k in test_metrics)
    return (
        f"**{wiring.name}** ({wiring.description}) on {dataset.name} ({dataset.n_classes} classes; "
        f"{sizes['n_train']} train, {sizes['n_test']} test samples), {run.precision} on {run.backend}, "
        f"seed {run.seed}, {len(result.history)} of {run.train.epochs} epochs. "
        f"Loss path measured by the probe: **{result.loss_path}**: {LossPath(result.loss_path).meaning}. "
        f"NaN/Inf events: {nan}. Test split: {headline or 'no metric is defined'}."
    )


def saved_model_bytes(model) -> bytes:
    """The trained model in Keras' own .keras format."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / Artifact.MODEL
        model.save(path)
        return path.read_bytes()


def run_metrics(dataset: Dataset, result: TrainingResult, test_metrics: dict) -> dict:
    metrics = {
        Metric.INITIAL_LOSS: result.initial_loss,
        Metric.LN_NUM_CLASSES: math.log(dataset.n_classes),
        Metric.NAN_EVENT_COUNT: result.event_count,
        Metric.SKIPPED_STEPS_TOTAL: result.skipped_steps,
        Metric.EPOCHS_COMPLETED: len(result.history),
        Metric.TRAIN_SECONDS: result.train_seconds,
        **{f"{Metric.TEST_PREFIX}{k}": v for k, v in test_metrics.items()},
    }
    if result.events:
        metrics[Metric.FIRST_NAN_STEP] = result.events[0]["global_step"]
    for peak, per_epoch in (
        (Metric.PEAK_CLIP_SATURATION, "clip_saturation_rate"),
        (Metric.PEAK_ABS_LOGIT, "max_abs_logit"),
    ):
        values = [row[per_epoch] for row in result.history if math.isfinite(row.get(per_epoch, math.nan))]
        metrics[peak] = max(values) if values else None
    return {k: float("nan") if v is None else float(v) for k, v in metrics.items()}


def run_texts(config: dict, dataset: Dataset, result: TrainingResult, curve, calibration) -> dict:
    """The run's data files: config, history, NaN events, PR and reliability data, predictions."""
    predictions = pd.DataFrame(result.test_probabilities, columns=[f"p_{n}" for n in dataset.class_names])
    predictions.insert(0, "label", dataset.y_test)
    texts = {
        Artifact.CONFIG: json.dumps(config, indent=2, sort_keys=True),
        Artifact.HISTORY: csv_text(pd.DataFrame(result.history)),
        Artifact.NAN_EVENTS: csv_text(pd.DataFrame(result.events, columns=NAN_EVENT_COLUMNS)),
        Artifact.TEST_PREDICTIONS: csv_text(predictions),
        Artifact.PR_CURVE: csv_text(curve),
    }
    if calibration is not None:
        texts[Artifact.RELIABILITY] = csv_text(calibration)
    return texts
