"""One grid cell, a function of plain data: claim it, train it, evaluate it, build its record,
write it.

An exception marks the run FAILED with its traceback and the grid goes on; an interruption marks
it KILLED (its finished epochs are logged already) and propagates, as does a store that stops
taking writes.
"""

import contextlib
import math
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field

from kerasce.config.spec import RunSpec
from kerasce.datasets import Dataset, load_dataset
from kerasce.run.evaluation import evaluate_run
from kerasce.run.outcome import CellOutcome, StoreRef
from kerasce.run.plan import claim_cell
from kerasce.run.record import cell_record, cell_start
from kerasce.tracking.schema import Artifact, RunRecord
from kerasce.tracking.sqlite import SIGNALS
from kerasce.tracking.store import check_reachable, write_failure, writes_to
from kerasce.tracking.writer import open_experiment
from kerasce.training.compiled_models import CompiledModels
from kerasce.training.fit import train_run
from kerasce.training.result import TrainingResult
from kerasce.vocabulary import Outcome, RunStatus


@dataclass
class ProcessCache:
    """What a process keeps between the cells it runs: their dataset splits, its compiled models,
    its figure layouts."""

    datasets: dict = field(default_factory=dict)
    models: CompiledModels = field(default_factory=CompiledModels)
    images: object = None  # a RunImages, made with the first cell (it imports Matplotlib)

    def dataset_for(self, spec: RunSpec) -> Dataset:
        """The cell's dataset split, loaded once per process."""
        if spec.dataset_key not in self.datasets:
            self.datasets[spec.dataset_key] = load_dataset(spec.resolved.data, spec.resolved.seed)
        return self.datasets[spec.dataset_key]

    def run_images(self):
        """The process's kept figure canvases and layouts: each run's figures drawn on them."""
        if self.images is None:
            from kerasce.evaluate.kept_canvas import RunImages

            self.images = RunImages()
        return self.images


def run_cell(spec: RunSpec, store: StoreRef, cache: ProcessCache) -> CellOutcome:
    """Claim, train, evaluate and record one cell into `store`, with what this process keeps.
    A cell another invocation finished or is training is skipped; a store that stops taking writes
    (a full disk, a read-only file system) ends the grid with StoreUnavailable."""
    dataset = cache.dataset_for(spec)
    tracker = open_experiment(store.tracking_uri, store.experiment_name)
    identity = spec.identity(dataset.fingerprint)
    with writes_to(tracker.uri):
        run = claim_cell(tracker, cell_start(spec, dataset, store.parent_run_id), identity, store)
    if isinstance(run, str):
        return CellOutcome(spec.run_name, Outcome.SKIPPED, f"{spec.run_name}: skipped, {run}")
    started = time.perf_counter()
    with signals_noted() as signalled:
        try:
            result = train_run(spec.resolved, dataset, on_epoch=run.log_epoch, models=cache.models)
            evaluation = evaluate_run(spec, dataset, result, cache.run_images())
            run.complete(cell_record(spec, dataset, result, evaluation))
        except KeyboardInterrupt:
            end_quietly(run, RunStatus.KILLED)
            raise
        except Exception as error:
            return failed(spec, run, tracker.uri, error, bool(signalled))
    seconds = time.perf_counter() - started
    return CellOutcome(
        spec.run_name, Outcome.FINISHED, summary_line(spec, result, evaluation.metrics, seconds)
    )


def failed(spec: RunSpec, run, uri: str, error: Exception, signalled: bool) -> CellOutcome:
    """A cell that raised: FAILED with its traceback, unless the error is an interruption in
    disguise (or came after this process was `signalled` to stop), the store refusing writes, or a
    tracking server gone (those end the grid)."""
    if signalled or interrupted(error):
        end_quietly(run, RunStatus.KILLED)
        raise KeyboardInterrupt from error
    store_down = write_failure(error, uri)
    if store_down is not None:
        end_quietly(run, RunStatus.FAILED)
        raise store_down from None
    check_reachable(uri)  # a tracking server that went away ends the grid, not just this cell
    texts = {Artifact.TRACEBACK: traceback.format_exc()}
    with writes_to(uri):
        run.complete(RunRecord(texts=texts, status=RunStatus.FAILED))
    return CellOutcome(spec.run_name, Outcome.FAILED, f"FAILED {spec.run_name}: see traceback.txt in its run")


def end_quietly(run, status: RunStatus) -> None:
    """End a run as `status` if the store still takes it; else the next invocation marks it
    KILLED (its process will be gone)."""
    with contextlib.suppress(Exception):
        run.finish(status)


@contextlib.contextmanager
def signals_noted():
    """The list of the interrupting signals (SIGINT, SIGTERM; Ray's cancel is a SIGINT) that reach
    this process's handlers during the block, noted before each handler runs. An interruption
    can surface later as another error: a KeyboardInterrupt raised inside a `__del__` or a
    weakref callback is only printed, and the clean-up it cut short can make the next call fail
    for a reason that does not say why. Only Python handlers are wrapped (not SIG_DFL or
    SIG_IGN), and only in the main thread, where signals are handled."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    wrapped = {signum: handler for signum, handler in handlers.items() if callable(handler)}

    def note(signum, frame):
        noted.append(signum)
        wrapped[signum](signum, frame)

    for signum in wrapped:
        signal.signal(signum, note)
    try:
        yield noted
    finally:
        for signum, handler in wrapped.items():
            signal.signal(signum, handler)


def interrupted(error: BaseException) -> bool:
    """Whether `error` is a Ctrl-C or SIGTERM in disguise. One that lands inside a library's
    cleanup can surface as the error that cleanup raised next, with the KeyboardInterrupt as its
    context (TensorFlow: "Exiting device scope without proper scope nesting", seen in a test)."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__context__
    return False


def summary_line(spec: RunSpec, result: TrainingResult, test_metrics: dict, seconds: float) -> str:
    ap = test_metrics.get("average_precision", test_metrics.get("average_precision_macro", math.nan))
    return (
        f"{spec.run_name}: path={result.loss_path} test_loss={result.test_loss:.4g} AP={ap:.3f} "
        f"ECE={test_metrics.get('ece', math.nan):.3f} NaN events={result.event_count} "
        f"({result.nan_status}) [{seconds:.1f}s]"
    )
