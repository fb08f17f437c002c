"""What a trained run's test split says, worked out before its record is built: the metrics and
the notes on those left undefined, the PR and reliability tables, and the run's figures."""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kerasce.config.spec import RunConfig, RunSpec
from kerasce.datasets import Dataset
from kerasce.evaluate.metrics import (
    evaluate_predictions,
    finite_rows,
    metric_safe,
    pr_curve_table,
    reliability_table,
)
from kerasce.tracking.schema import Artifact
from kerasce.training.result import TrainingResult


@dataclass(frozen=True)
class Evaluation:
    """A run's test-split evaluation: `metrics` by name (the loss included), `notes` on metrics
    left undefined, the PR `curve`, the reliability table (`calibration`: None when no prediction
    is finite) and the figures as PNG bytes by file name."""

    metrics: dict
    notes: list[str]
    curve: pd.DataFrame
    calibration: pd.DataFrame | None
    images: dict = field(default_factory=dict)


def evaluate_run(spec: RunSpec, dataset: Dataset, result: TrainingResult, images=None) -> Evaluation:
    """The cell's evaluation; its figures when the config asks for them, drawn by `images` (the
    process's RunImages, whose kept canvases and layouts make them cheaper) if given."""
    labels, probabilities = dataset.y_test, result.test_probabilities
    metrics, notes = evaluate_predictions(labels, probabilities, dataset.class_names)
    metrics = {"loss": result.test_loss, **metrics}
    curve = pr_curve_table(labels, probabilities, dataset.class_names)
    calibration = reliability_table(labels, probabilities) if finite_rows(probabilities).any() else None
    run = spec.resolved
    pngs = {}
    if run.train.figures:
        pngs = run_figures(run, dataset, result, metrics, curve, calibration, spec.draws_intuition, images)
    return Evaluation(metrics, notes, curve, calibration, pngs)


def run_figures(
    run: RunConfig, dataset, result, test_metrics, curve, calibration, intuition: bool, images=None
) -> dict:
    """The run's pictures as PNG bytes: PR curve, reliability diagram, and when the cell draws its
    group's intuition figures (`intuition`), those; drawn by `images` (a RunImages) if given."""
    # Imported here: a grid's parent process builds records of its own (grid_start) but draws
    # nothing, and importing Matplotlib would only slow its start.
    from kerasce.evaluate.kept_canvas import RunImages
    from kerasce.evaluate.run_figures import logit_views

    images = images or RunImages()
    title = f"{run.formulation.name} / {run.precision} / seed {run.seed}"
    pngs = {
        Artifact.PR_FIGURE: images.pr_curve(
            curve, f"PR, test split: {title}", class_average_precision(test_metrics, dataset)
        )
    }
    if calibration is not None:
        pngs[Artifact.RELIABILITY_FIGURE] = images.reliability_diagram(
            calibration, f"Reliability, test split: {title}", test_metrics.get("ece")
        )
    if intuition and np.isfinite(result.test_logits).all():
        views = [
            logit_views(logits, dataset.y_test) for logits in (result.test_logits_before, result.test_logits)
        ]
        pngs.update(images.intuition(*views, dataset.class_names, math.log(dataset.n_classes)))
    return pngs


def class_average_precision(test_metrics: dict, dataset: Dataset) -> dict:
    """{class name: test AP} for the PR figure's legend."""
    if dataset.n_classes == 2:
        ap = test_metrics.get("average_precision")
        return {dataset.class_names[1]: ap} if ap is not None else {}
    prefix = "average_precision."
    by_safe_name = {k.removeprefix(prefix): v for k, v in test_metrics.items() if k.startswith(prefix)}
    return {
        name: by_safe_name[metric_safe(name)]
        for name in dataset.class_names
        if metric_safe(name) in by_safe_name
    }
