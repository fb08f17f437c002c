"""One grid cell, a function of plain data: train it, evaluate it, build its record, write it.

An exception marks the run FAILED with its traceback and the grid goes on; an interruption marks
it KILLED (its finished epochs are logged already) and propagates.
"""

import math
import time
import traceback

from kerasce.config.spec import RunSpec
from kerasce.datasets import Dataset, load_dataset
from kerasce.run.job import CellOutcome, StoreRef
from kerasce.run.record import cell_record, cell_start
from kerasce.tracking.schema import Artifact, RunRecord, Tag
from kerasce.tracking.store import check_reachable
from kerasce.tracking.writer import open_experiment
from kerasce.training.fit import train_run
from kerasce.training.result import TrainingResult


def dataset_for(spec: RunSpec, cache: dict) -> Dataset:
    """The cell's dataset split, loaded once per process."""
    if spec.dataset_key not in cache:
        cache[spec.dataset_key] = load_dataset(spec.config["data"], spec.config["seed"])
    return cache[spec.dataset_key]


def run_cell(spec: RunSpec, store: StoreRef, datasets: dict) -> CellOutcome:
    """Train, evaluate and record one cell into `store`; `datasets` caches loaded splits."""
    dataset = dataset_for(spec, datasets)
    tracker = open_experiment(store.tracking_uri, store.experiment_name)
    run = tracker.start_run(cell_start(spec, dataset, store.parent_run_id))
    started = time.perf_counter()
    try:
        result = train_run(spec.resolved, dataset, on_epoch=run.log_epoch)
        record, test_metrics = cell_record(spec, dataset, result)
        run.complete(record)
    except KeyboardInterrupt:
        run.finish("KILLED")
        raise
    except Exception as error:
        if interrupted(error):
            run.finish("KILLED")
            raise KeyboardInterrupt from error
        check_reachable(tracker.uri)  # a tracking server that went away ends the grid, not just this cell
        run.complete(RunRecord(texts={Artifact.TRACEBACK: traceback.format_exc()}, status="FAILED"))
        return CellOutcome(spec.run_name, "FAILED", f"FAILED {spec.run_name}: see traceback.txt in its run")
    seconds = time.perf_counter() - started
    return CellOutcome(spec.run_name, "FINISHED", summary_line(spec, result, test_metrics, seconds))


def interrupted(error: BaseException) -> bool:
    """Whether `error` is a Ctrl-C or SIGTERM in disguise. One that lands inside a library's
    cleanup can surface as the error that cleanup raised next, with the KeyboardInterrupt as its
    context (TensorFlow: "Exiting device scope without proper scope nesting", seen in a test)."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__context__
    return False


def run_cell_once(spec: RunSpec, store: StoreRef, datasets: dict) -> CellOutcome:
    """run_cell for an executor that may start a cell again after the process running it died (Ray
    retries such a task): the dead attempt's run of this grid invocation, left RUNNING, is marked
    KILLED, and a cell this invocation has FINISHED already is not run a second time."""
    dataset = dataset_for(spec, datasets)
    tracker = open_experiment(store.tracking_uri, store.experiment_name)
    attempts = [
        run
        for run in tracker.runs_by_tag(Tag.CELL_HASH, spec.identity(dataset.fingerprint))
        if run["tags"].get(Tag.PARENT_RUN) == store.parent_run_id
    ]
    if any(run["status"] == "FINISHED" for run in attempts):
        return CellOutcome(spec.run_name, "FINISHED", f"{spec.run_name}: FINISHED by an earlier attempt")
    for run in attempts:
        if run["status"] == "RUNNING":  # one task per cell and invocation: its process is gone
            tracker.end_run(run["run_id"], "KILLED")
    return run_cell(spec, store, datasets)


def summary_line(spec: RunSpec, result: TrainingResult, test_metrics: dict, seconds: float) -> str:
    ap = test_metrics.get("average_precision", test_metrics.get("average_precision_macro", math.nan))
    return (
        f"{spec.run_name}: path={result.loss_path} test_loss={result.test_loss:.4g} AP={ap:.3f} "
        f"ECE={test_metrics.get('ece', math.nan):.3f} NaN events={result.event_count} "
        f"({result.nan_status}) [{seconds:.1f}s]"
    )
