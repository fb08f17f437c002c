"""The run record is plain data: built and checked here without MLflow or training."""

import json
import math

import pandas as pd
import pytest
from run_results import confident_probabilities, result_for, spec_and_dataset

from kerasce.run.evaluation import evaluate_run
from kerasce.run.record import cell_record, cell_start, flatten, grid_start
from kerasce.tracking.schema import NAN_EVENT_COLUMNS, Artifact, Kind, Metric, Tag


def record_and_metrics(spec, dataset, result):
    evaluation = evaluate_run(spec, dataset, result)
    return cell_record(spec, dataset, result, evaluation), evaluation.metrics


def test_flatten_nests_with_dots():
    assert flatten({"a": 1, "b": {"c": 2, "d": {"e": 3}}}) == {"a": 1, "b.c": 2, "b.d.e": 3}


def test_a_cell_starts_with_its_config_facts_sizes_and_identity():
    spec, dataset = spec_and_dataset()
    start = cell_start(spec, dataset, parent_id="parent")
    assert start.name == "breast_cancer / logit_bce / float32 / seed 0" and start.parent_id == "parent"
    assert start.params["train.epochs"] == 20 and start.params["formulation.from_logits"] is True
    assert start.params["dataset.n_test"] == len(dataset.y_test) and start.params["dataset.n_classes"] == 2
    assert start.params["dataset.origin"] == "scikit-learn load_breast_cancer (embedded)"
    assert start.tags[Tag.KIND] == Kind.CELL
    assert start.tags[Tag.CELL_HASH] == spec.identity(dataset.fingerprint)
    assert start.tags[Tag.FORMULATION] == "logit_bce" and start.tags[Tag.DATASET] == "breast_cancer"
    assert start.tags[Tag.SOURCE_NAME] == "kerasce.experiment" and start.tags[Tag.SOURCE_TYPE] == "LOCAL"


def test_a_cell_starts_with_its_three_splits_as_dataset_inputs():
    spec, dataset = spec_and_dataset()
    inputs = cell_start(spec, dataset, parent_id="parent").inputs
    assert [(i.name, i.context) for i in inputs] == [
        ("breast_cancer-train", "train"),
        ("breast_cancer-validation", "validation"),
        ("breast_cancer-test", "test"),
    ]
    assert {i.digest for i in inputs} == {dataset.fingerprint}
    assert inputs[2].features is dataset.x_test and inputs[2].targets is dataset.y_test
    assert inputs[0].source == dataset.origin


def test_a_finished_cell_record_holds_metrics_tags_and_tables():
    spec, dataset = spec_and_dataset(figures=False)
    result = result_for(dataset, confident_probabilities(dataset.y_test))
    record, test_metrics = record_and_metrics(spec, dataset, result)
    assert record.status == "FINISHED" and record.images == {} and record.files == {}
    assert record.metrics[Metric.SKIPPED_STEPS_TOTAL] == 3 and record.metrics["test_accuracy"] == 1.0
    assert record.metrics[Metric.LN_NUM_CLASSES] == pytest.approx(math.log(2))
    assert Metric.FIRST_NAN_STEP not in record.metrics and test_metrics["loss"] == 0.3
    # the peaks over epochs, non-finite values left out
    assert (
        record.metrics[Metric.PEAK_CLIP_SATURATION] == 0.25 and record.metrics[Metric.PEAK_ABS_LOGIT] == 3.0
    )
    assert record.tags[Tag.LOSS_PATH] == "fused_logits" and record.tags[Tag.UNDEFINED_METRICS] == "none"
    assert json.loads(record.texts[Artifact.CONFIG]) == spec.config
    history = pd.read_csv(pd.io.common.StringIO(record.texts[Artifact.HISTORY]))
    assert list(history["epoch"]) == [0, 1]
    assert record.texts[Artifact.NAN_EVENTS].strip() == ",".join(NAN_EVENT_COLUMNS)
    assert {Artifact.PR_CURVE, Artifact.RELIABILITY, Artifact.TEST_PREDICTIONS} <= set(record.texts)


def test_the_description_says_what_ran_the_loss_path_nan_and_headline_metrics():
    spec, dataset = spec_and_dataset(figures=False)
    result = result_for(dataset, confident_probabilities(dataset.y_test), events=[{"global_step": 7}])
    record, test_metrics = record_and_metrics(spec, dataset, result)
    note = record.tags[Tag.NOTE]
    assert note.startswith("**logit_bce** (Dense(1)") and "breast_cancer (2 classes;" in note
    assert "float32 on tensorflow, seed 0, 2 of 20 epochs" in note
    assert "**fused_logits**: the loss is computed from the logits" in note
    assert "1 non-finite batches, the first at step 7 (training continued" in note
    assert f"accuracy {test_metrics['accuracy']:.4g}" in note and "AP " in note


def test_the_evaluations_figures_are_the_records_images():
    spec, dataset = spec_and_dataset(figures=True)
    result = result_for(dataset, confident_probabilities(dataset.y_test))
    evaluation = evaluate_run(spec, dataset, result)
    assert cell_record(spec, dataset, result, evaluation).images == evaluation.images != {}


def test_non_finite_values_are_left_out_and_named():
    spec, dataset = spec_and_dataset(figures=False)
    probabilities = confident_probabilities(dataset.y_test)
    result = result_for(dataset, probabilities, events=[{"global_step": 7}])
    result.test_loss = math.inf
    record, _ = record_and_metrics(spec, dataset, result)
    assert "test_loss" not in record.metrics and record.metrics[Metric.FIRST_NAN_STEP] == 7
    assert "test_loss: not finite, left out" in record.tags[Tag.UNDEFINED_METRICS]


def test_the_grid_parent_is_tagged_and_named():
    start = grid_start({"name": "g", "seed": 0}, n_cells=4, skipped=1)
    assert start.name == "grid: g (4 runs)"
    assert "python -m kerasce.compare --experiment g" in start.tags[Tag.NOTE]
    start.tags.pop(Tag.NOTE)
    assert (
        start.tags[Tag.KIND] == Kind.GRID
        and start.tags[Tag.SKIPPED_CELLS] == 1
        and start.params
        == {
            "name": "g",
            "seed": 0,
        }
    )
