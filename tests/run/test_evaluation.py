"""A run's evaluation, worked out before its record: metrics, tables and figures from plain values."""

import dataclasses
import math

import numpy as np
from run_results import confident_probabilities, result_for, spec_and_dataset

from kerasce.run.evaluation import evaluate_run
from kerasce.tracking.schema import Artifact


def test_the_metrics_hold_the_test_loss_and_the_tables_the_test_split():
    spec, dataset = spec_and_dataset(figures=False)
    evaluation = evaluate_run(spec, dataset, result_for(dataset, confident_probabilities(dataset.y_test)))
    assert evaluation.metrics["loss"] == 0.3 and evaluation.metrics["accuracy"] == 1.0
    assert evaluation.notes == [] and evaluation.images == {}
    assert evaluation.calibration["count"].sum() == len(dataset.y_test)
    assert set(evaluation.curve["class"]) == {dataset.class_names[1]}


def test_no_finite_prediction_leaves_calibration_undefined():
    spec, dataset = spec_and_dataset(figures=False)
    probabilities = np.full((len(dataset.y_test), 2), math.nan)
    evaluation = evaluate_run(spec, dataset, result_for(dataset, confident_probabilities(dataset.y_test)))
    undefined = evaluate_run(spec, dataset, result_for(dataset, probabilities))
    assert evaluation.calibration is not None and undefined.calibration is None and undefined.notes


def test_figures_are_png_bytes_and_the_intuition_figures_only_where_the_cell_draws_them():
    spec, dataset = spec_and_dataset(figures=True)
    result = result_for(dataset, confident_probabilities(dataset.y_test))
    drawn = evaluate_run(spec, dataset, result).images
    assert {Artifact.PR_FIGURE, Artifact.RELIABILITY_FIGURE, "intuition_logits.png"} <= set(drawn)
    assert all(png[:4] == b"\x89PNG" for png in drawn.values())
    later_seed = evaluate_run(dataclasses.replace(spec, draws_intuition=False), dataset, result).images
    assert set(later_seed) == {Artifact.PR_FIGURE, Artifact.RELIABILITY_FIGURE}


def test_the_figures_are_drawn_on_the_processs_kept_canvases():
    from kerasce.evaluate.kept_canvas import RunImages

    spec, dataset = spec_and_dataset(figures=True)
    result = result_for(dataset, confident_probabilities(dataset.y_test))
    images = RunImages()
    drawn = evaluate_run(dataclasses.replace(spec, draws_intuition=False), dataset, result, images).images
    assert images.pr.background is not None and images.reliability.background is not None  # used
    assert drawn == evaluate_run(dataclasses.replace(spec, draws_intuition=False), dataset, result).images
