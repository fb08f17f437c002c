"""Executors: who runs a grid's cells. The grid loop hands an executor plain, picklable cell specs
and a store reference, and reads outcomes as they finish; it never knows which executor runs.

- InProcess: one cell after another in this process.
- ProcessPool (--jobs N): N spawned worker processes, each importing TensorFlow once, limited to
  its share of the cores, pulling cells from a queue. The parent keeps the processes, so an
  interruption reaches them (SIGTERM, which each worker turns into KILLED runs) and a dead worker
  is noticed.
"""

import multiprocessing
import os
import queue
import signal
from collections.abc import Iterator
from typing import Protocol

from kerasce.config.spec import RunSpec
from kerasce.run.job import CellOutcome, StoreRef

POLL_SECONDS = 1.0


class Executor(Protocol):
    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        """Run every cell into `store`, yielding each outcome as it finishes."""
        ...


def raise_interrupt(signum, frame):
    """SIGTERM behaves like Ctrl-C: the current run ends KILLED."""
    raise KeyboardInterrupt(f"signal {signum}")


class InProcess:
    """Cells one after another in this process, on datasets already loaded (`datasets` is a cache)."""

    def __init__(self, datasets: dict | None = None):
        self.datasets = datasets if datasets is not None else {}

    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        from kerasce.run.cell import run_cell  # imports Keras: only when cells really run

        for spec in cells:
            yield run_cell(spec, store, self.datasets)


def _worker(tasks, results, store: StoreRef, threads: int):
    signal.signal(signal.SIGTERM, raise_interrupt)
    import tensorflow as tf

    # N workers on C cores: each gets C / N threads, so they do not fight over the cores.
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from kerasce.run.cell import run_cell

    datasets = {}
    try:
        while (spec := tasks.get()) is not None:
            results.put(run_cell(spec, store, datasets))
    except KeyboardInterrupt:
        os._exit(130)  # the run is marked KILLED already; no traceback noise from a worker


class ProcessPool:
    """Cells in `jobs` spawned worker processes writing to the same store."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        context = multiprocessing.get_context("spawn")  # fresh interpreters: TensorFlow does not survive fork
        tasks, results = context.Queue(), context.Queue()
        jobs = min(self.jobs, len(cells))
        for spec in [*cells, *[None] * jobs]:
            tasks.put(spec)
        threads = max(1, (os.cpu_count() or 1) // jobs)
        workers = [
            context.Process(target=_worker, daemon=True, args=(tasks, results, store, threads))
            for _ in range(jobs)
        ]
        for worker in workers:
            worker.start()
        try:
            for _ in cells:
                yield self._next_outcome(results, workers)
        finally:
            for worker in workers:
                if worker.is_alive():
                    worker.terminate()
            for worker in workers:
                worker.join()

    @staticmethod
    def _next_outcome(results, workers) -> CellOutcome:
        while True:
            try:
                return results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers):
                    raise RuntimeError(
                        "every worker process ended before the grid did; runs they left "
                        "RUNNING are marked KILLED and rerun by the next invocation"
                    ) from None


def executor_for(jobs: int, n_cells: int, datasets: dict) -> Executor:
    """In process for one job (or one cell), else a process pool."""
    return ProcessPool(jobs) if jobs > 1 and n_cells > 1 else InProcess(datasets)
