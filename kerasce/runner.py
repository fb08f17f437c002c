"""Running a grid: validate everything, then train, evaluate and track each cell in turn.

Nothing is written to the store until every cell's config and dataset have been checked, so bad
input leaves no half-written runs. A cell that raises is marked FAILED and the grid goes on.
"""

import contextlib
import json
import math
import os
import tempfile
import time
import traceback
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import log_softmax
from tqdm import tqdm

from kerasce.config import RunSpec
from kerasce.datasets import Dataset, load_dataset
from kerasce.errors import ConfigError, DatasetError
from kerasce.evaluation import evaluate_predictions, metric_safe, pr_curve_table, reliability_table
from kerasce.figures import intuition_figures, pr_curve_figure, reliability_figure
from kerasce.formulations import check_fits, get_formulation
from kerasce.numerics import reference_crossentropy
from kerasce.provenance import process_tags, provenance_tags, writer_alive
from kerasce.tracking import RunLog, Tracker, TrackingUnavailable, check_reachable
from kerasce.training import EVENT_COLUMNS, TrainingResult, train_run


@dataclass
class CellOutcome:
    run_name: str
    status: str  # FINISHED | FAILED
    summary: str


def load_datasets(specs: list[RunSpec]) -> dict:
    """Every dataset the grid needs, loaded once; also checks each formulation fits its data."""
    datasets = {}
    for spec in specs:
        config = spec.config
        key = dataset_key(config)
        if key not in datasets:
            try:
                datasets[key] = load_dataset(config["data"], config["seed"])
            except DatasetError as error:
                raise DatasetError(f"{spec.run_name}: {error}") from None
        try:
            check_fits(get_formulation(config["formulation"]), datasets[key].n_classes)
        except ConfigError as error:
            raise ConfigError(f"{spec.run_name}: {error}") from None
    return datasets


def dataset_key(config: dict) -> str:
    return json.dumps([config["data"], config["seed"]], sort_keys=True)


@dataclass
class Plan:
    """What a grid invocation will do, given what the store already holds."""

    to_run: list  # RunSpecs
    skipped: int  # cells with a FINISHED run already
    running_elsewhere: int  # cells a live process is running right now
    marked_killed: int  # RUNNING runs whose process is gone, marked KILLED (their cells run again)


def plan_grid(tracker: Tracker, specs: list[RunSpec], datasets: dict, rerun: bool = False) -> Plan:
    """Skip cells already FINISHED (unless rerun); mark runs whose writer died KILLED."""
    now, by_identity = time.time(), {}
    marked = _kill_dead_runs(tracker, "grid", now)
    for run in tracker.runs_by_tag("kerasce.kind", "cell"):
        if run["status"] == "RUNNING" and not writer_alive(run["tags"], now):
            tracker.end_run(run["run_id"], "KILLED")
            run["status"], marked = "KILLED", marked + 1
        by_identity.setdefault(run["tags"].get("kerasce.cell_hash"), set()).add(run["status"])
    plan = Plan([], 0, 0, marked)
    for spec in specs:
        statuses = by_identity.get(cell_identity(spec, datasets), set())
        if not rerun and "FINISHED" in statuses:
            plan.skipped += 1
        elif not rerun and "RUNNING" in statuses:
            plan.running_elsewhere += 1
        else:
            plan.to_run.append(spec)
    return plan


def _kill_dead_runs(tracker: Tracker, kind: str, now: float) -> int:
    dead = [
        r
        for r in tracker.runs_by_tag("kerasce.kind", kind)
        if r["status"] == "RUNNING" and not writer_alive(r["tags"], now)
    ]
    for run in dead:
        tracker.end_run(run["run_id"], "KILLED")
    return len(dead)


def cell_identity(spec: RunSpec, datasets: dict) -> str:
    return spec.identity(datasets[dataset_key(spec.config)].fingerprint)


def run_grid(specs, datasets, tracker: Tracker, experiment_config: dict, quiet=False, jobs=1, rerun=False):
    """Run the grid's cells that still need running under one parent run; returns their outcomes.

    Ctrl-C or SIGTERM (raised as KeyboardInterrupt) ends the current runs and the parent KILLED.
    """
    plan = plan_grid(tracker, specs, datasets, rerun)
    if not quiet:
        print(plan_summary(plan, len(specs)))
    if not plan.to_run:
        return []
    parent = tracker.start_run(
        f"grid: {experiment_config['name']} ({len(specs)} runs)",
        params=flatten(experiment_config),
        tags={
            "kerasce.kind": "grid",
            "kerasce.cells": len(specs),
            "kerasce.skipped_cells": plan.skipped,
            **provenance_tags(),
            **process_tags(),
        },
    )
    parent.log_table(grid_table(specs, datasets), "grid.csv")
    parent.log_text(json.dumps(experiment_config, indent=2), "config.json")
    try:
        if jobs > 1 and len(plan.to_run) > 1:
            from kerasce.parallel import run_in_workers

            outcomes = run_in_workers(plan.to_run, tracker, parent.run_id, jobs, quiet)
        else:
            outcomes = run_in_process(plan.to_run, datasets, tracker, parent.run_id, quiet)
    except KeyboardInterrupt:
        parent.finish("KILLED")
        raise
    except TrackingUnavailable:
        with contextlib.suppress(Exception):
            parent.finish("FAILED")
        raise
    failed = sum(o.status == "FAILED" for o in outcomes)
    parent.set_tags({"kerasce.failed_cells": failed})
    parent.finish("FAILED" if failed else "FINISHED")
    return outcomes


def plan_summary(plan: Plan, total: int) -> str:
    parts = [f"{total} cells: {len(plan.to_run)} to run", f"{plan.skipped} skipped (already FINISHED)"]
    if plan.running_elsewhere:
        parts.append(f"{plan.running_elsewhere} running in another live process")
    if plan.marked_killed:
        parts.append(f"{plan.marked_killed} runs of dead processes marked KILLED")
    return ", ".join(parts)


def run_in_process(specs, datasets, tracker, parent_id, quiet) -> list[CellOutcome]:
    outcomes = []
    with tqdm(total=len(specs), unit="run", disable=quiet, dynamic_ncols=True) as progress:
        for spec in specs:
            progress.set_description(spec.run_name)
            outcome = run_cell(tracker, parent_id, spec, datasets[dataset_key(spec.config)])
            outcomes.append(outcome)
            if not quiet:
                progress.write(outcome.summary)
            progress.update()
    return outcomes


def grid_table(specs, datasets) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"run_name": s.run_name, "cell_hash": cell_identity(s, datasets), **dict(s.grid_values)}
            for s in specs
        ]
    )


def run_cell(tracker: Tracker, parent_id: str, spec: RunSpec, dataset: Dataset) -> CellOutcome:
    """Train, evaluate and log one cell. An exception marks the run FAILED with its traceback;
    an interruption marks it KILLED (its finished epochs are logged already) and propagates."""
    config = spec.config
    formulation = get_formulation(config["formulation"])
    params = {
        **flatten(config),
        **{f"formulation.{k}": v for k, v in formulation.facts(dataset.n_classes).items()},
        **{f"dataset.{k}": v for k, v in dataset.sizes().items()},
        "dataset.n_classes": dataset.n_classes,
        "dataset.n_features": dataset.n_features,
    }
    tags = {
        **provenance_tags(),
        **process_tags(),
        "kerasce.kind": "cell",
        "kerasce.cell_hash": spec.identity(dataset.fingerprint),
        "kerasce.dataset_fingerprint": dataset.fingerprint,
        "kerasce.dataset": config["data"]["dataset"],
        "kerasce.formulation": formulation.name,
        "kerasce.precision": config["precision"],
        "kerasce.heartbeat": time.time(),
    }
    run = tracker.start_run(spec.run_name, params, tags, parent_id=parent_id)
    started = time.perf_counter()
    try:
        result = train_run(config, dataset, on_epoch=lambda epoch, metrics: run.log_epoch(metrics, epoch))
        test_metrics = log_outcome(run, config, dataset, result)
    except KeyboardInterrupt:
        run.finish("KILLED")
        raise
    except Exception:
        check_reachable(tracker.uri)  # a tracking server that went away ends the grid, not just this cell
        run.log_text(traceback.format_exc(), "traceback.txt")
        run.finish("FAILED")
        return CellOutcome(spec.run_name, "FAILED", f"FAILED {spec.run_name}: see traceback.txt in its run")
    run.finish("FINISHED")
    return CellOutcome(
        spec.run_name, "FINISHED", summary_line(spec, result, test_metrics, time.perf_counter() - started)
    )


def log_outcome(run: RunLog, config: dict, dataset: Dataset, result: TrainingResult) -> dict:
    """Everything a finished training produced: tags, run metrics, test metrics, artifacts."""
    test_metrics, notes = evaluate_predictions(dataset.y_test, result.test_probabilities, dataset.class_names)
    test_metrics = {"loss": result.test_loss, **test_metrics}
    run_metrics = {
        "initial_loss": result.initial_loss,
        "ln_num_classes": math.log(dataset.n_classes),
        "nan_event_count": result.event_count,
        "skipped_steps": result.skipped_steps,
        "epochs_completed": len(result.history),
        "train_seconds": result.train_seconds,
        **{f"test_{k}": v for k, v in test_metrics.items()},
    }
    if result.events:
        run_metrics["first_nan_step"] = result.events[0]["global_step"]
    left_out = run.log_metrics(run_metrics)
    notes += [f"{key}: not finite, left out" for key in left_out]
    run.set_tags(
        {
            "kerasce.loss_path": result.loss_path,
            "kerasce.nan_status": result.nan_status,
            "kerasce.deterministic": result.deterministic,
            "kerasce.weights_hash": result.weights_hash,
            "kerasce.undefined_metrics": "; ".join(notes) or "none",
        }
    )
    log_artifacts(run, config, dataset, result, test_metrics)
    return test_metrics


def log_artifacts(run: RunLog, config: dict, dataset: Dataset, result: TrainingResult, test_metrics: dict):
    """The run's files: config, history, NaN events, PR and reliability data and figures, predictions."""
    labels, probabilities = dataset.y_test, result.test_probabilities
    run.log_text(json.dumps(config, indent=2, sort_keys=True), "config.json")
    run.log_table(pd.DataFrame(result.history), "history.csv")
    run.log_table(pd.DataFrame(result.events, columns=EVENT_COLUMNS), "nan_events.csv")
    predictions = pd.DataFrame(probabilities, columns=[f"p_{name}" for name in dataset.class_names])
    predictions.insert(0, "label", labels)
    run.log_table(predictions, "test_predictions.csv")
    curve = pr_curve_table(labels, probabilities, dataset.class_names)
    run.log_table(curve, "pr_curve.csv")
    calibration = reliability_table(labels, probabilities) if np.isfinite(probabilities).all() else None
    if calibration is not None:  # calibration of non-finite predictions is undefined
        run.log_table(calibration, "reliability.csv")
    if config["train"]["figures"]:
        log_figures(run, config, dataset, result, test_metrics, curve, calibration)
    if config["train"]["save_model"]:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "model.keras")
            result.model.save(path)
            run.log_file(path)


def log_figures(run, config, dataset, result, test_metrics, curve, calibration):
    """The run's pictures: PR curve, reliability diagram, and the intuition figures."""
    title = f"{config['formulation']} / {config['precision']} / seed {config['seed']}"
    figures = {
        "pr_curve.png": pr_curve_figure(
            curve, f"PR, test split: {title}", class_average_precision(test_metrics, dataset)
        )
    }
    if calibration is not None:
        figures["reliability.png"] = reliability_figure(
            calibration, f"Reliability: {title}", test_metrics.get("ece")
        )
    if np.isfinite(result.test_logits).all():
        shown_class = 1 if dataset.n_classes == 2 else 0  # the positive class of a binary task
        views = [
            logit_views(logits, dataset.y_test) for logits in (result.test_logits_before, result.test_logits)
        ]
        figures.update(
            intuition_figures(*views, dataset.class_names, shown_class, math.log(dataset.n_classes))
        )
    for name, figure in figures.items():
        run.log_figure(figure, name)


def logit_views(logits: np.ndarray, labels: np.ndarray) -> dict:
    """What the intuition figures show of a head's logits, computed exactly in float64."""
    two_class = np.concatenate([np.zeros_like(logits), logits], axis=1) if logits.shape[1] == 1 else logits
    log_probabilities = log_softmax(two_class, axis=1)
    return {
        "logits": logits,
        "labels": labels,
        "log_probabilities": log_probabilities,
        "probabilities": np.exp(log_probabilities),
        "losses": reference_crossentropy(logits, labels),
    }


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


def summary_line(spec: RunSpec, result: TrainingResult, test_metrics: dict, seconds: float) -> str:
    ap = test_metrics.get("average_precision", test_metrics.get("average_precision_macro", math.nan))
    return (
        f"{spec.run_name}: path={result.loss_path} test_loss={result.test_loss:.4g} AP={ap:.3f} "
        f"ECE={test_metrics.get('ece', math.nan):.3f} NaN events={result.event_count} "
        f"({result.nan_status}) [{seconds:.1f}s]"
    )


def flatten(config: dict, prefix: str = "") -> dict:
    """{"train": {"epochs": 3}} -> {"train.epochs": 3}."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
