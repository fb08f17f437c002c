"""Executors: who runs a grid's cells. The grid loop hands an executor plain, picklable cell specs
and a store reference, and reads outcomes as they finish; it never knows which executor runs.

- InProcess: one cell after another in this process (whose Keras backend is fixed).
- ProcessPool: spawned worker processes pulling tasks (a cell group's seeds) from a queue, each
  started with its cells' KERAS_BACKEND (Keras reads it once, at import), importing the framework
  once and limited to its share of the cores. The parent keeps the processes, so an interruption
  reaches them (SIGTERM, which each worker turns into KILLED runs) and a dead worker is noticed.
- Local (--jobs N, default one per core): per backend, InProcess when one process would do and
  this process runs that backend, else a ProcessPool.
"""

import math
import multiprocessing
import os
import queue
import signal
from collections.abc import Iterator
from typing import Protocol

from kerasce.config.spec import RunSpec
from kerasce.errors import KerasceError
from kerasce.framework import import_keras_quietly
from kerasce.run.outcome import CellOutcome, StoreRef
from kerasce.run.provenance import keras_backend

POLL_SECONDS = 1.0
EXIT_SECONDS = 30  # a finished worker's own exit (framework clean-up) before it is terminated


class Executor(Protocol):
    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        """Run every cell into `store`, yielding each outcome as it finishes."""
        ...

    def describe(self, cells: list[RunSpec]) -> str:
        """Where the cells will run, for the plan line: "in 2 worker processes"."""
        ...


def raise_interrupt(signum, frame):
    """SIGTERM behaves like Ctrl-C: the current run ends KILLED."""
    raise KeyboardInterrupt(f"signal {signum}")


def process_backend() -> str:
    """The Keras backend this process runs (fixed once Keras is imported)."""
    return keras_backend()


def by_backend(cells: list[RunSpec]) -> dict[str, list[RunSpec]]:
    groups = {}
    for spec in cells:
        groups.setdefault(spec.resolved.backend, []).append(spec)
    return groups


def available_cores() -> int:
    """Cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class InProcess:
    """Cells one after another in this process, on datasets already loaded (`datasets` is a cache)."""

    def __init__(self, datasets: dict | None = None):
        self.datasets = datasets if datasets is not None else {}
        self.cache = None  # the ProcessCache of the cells run here (made with the first)

    def describe(self, cells: list[RunSpec]) -> str:
        return "in this process"

    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        foreign = sorted(set(by_backend(cells)) - {process_backend()})
        if foreign:
            raise KerasceError(
                f"this process runs Keras on {process_backend()}; cells on {', '.join(foreign)} need "
                "worker processes started with that backend (run them with --jobs 2 or more)"
            )
        import_keras_quietly()  # only when cells really run here, not in a pool's parent
        from kerasce.run.cell import ProcessCache, run_cell

        self.cache = self.cache or ProcessCache(self.datasets)
        for spec in cells:
            yield run_cell(spec, store, self.cache)


def limit_threads(backend: str, threads: int) -> None:
    """N workers on C cores: each gets C / N threads, so they do not fight over the cores."""
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)


def _worker(backend: str, tasks, results, store: StoreRef, threads: int):
    os.environ["KERAS_BACKEND"] = backend  # before Keras is imported: Keras reads it once
    signal.signal(signal.SIGTERM, raise_interrupt)
    import_keras_quietly()
    limit_threads(backend, threads)
    from kerasce.run.cell import ProcessCache, run_cell

    cache = ProcessCache()
    try:
        while (task := tasks.get()) is not None:
            for spec in task:
                results.put(run_cell(spec, store, cache))
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # no run left to end KILLED: exit quietly
    except KeyboardInterrupt:
        os._exit(130)  # the run is marked KILLED already; no traceback noise from a worker
    except KerasceError as error:  # the tracking server went away: the parent ends the grid with it
        results.put(error)
    # Every run is complete and its writes committed; once the results are in the pipe nothing is
    # left to do. A normal exit would tear the framework down first, and the grid would wait for it.
    results.close()
    results.join_thread()
    os._exit(0)


def worker_tasks(cells: list[RunSpec], jobs: int) -> list[list[RunSpec]]:
    """The cells as the tasks of `jobs` workers: a cell group's seeds one after another in one
    task, so a worker's later seeds train the model it compiled for the group's first
    (training/compiled_models.py). A group larger than a task's share of the grid (a quarter of
    it with two workers) is split, so that every worker has work to the end."""
    groups: dict[str, list[RunSpec]] = {}
    for spec in cells:
        groups.setdefault(spec.group_key, []).append(spec)
    share = max(1, math.ceil(len(cells) / (2 * jobs)))
    return [group[i : i + share] for group in groups.values() for i in range(0, len(group), share)]


class ProcessPool:
    """Cells in up to `jobs` spawned worker processes writing to the same store; the cells of each
    backend in workers of that backend, one backend after another."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def describe(self, cells: list[RunSpec]) -> str:
        groups = by_backend(cells)
        workers = max(min(self.jobs, len(group)) for group in groups.values())
        on = f" ({', '.join(groups)})" if len(groups) > 1 else ""
        return f"in {workers} worker process{'es' if workers > 1 else ''}{on}"

    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        for backend, group in by_backend(cells).items():
            yield from self._run_backend(backend, group, store)

    def _run_backend(self, backend: str, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        context = multiprocessing.get_context("spawn")  # fresh interpreters: frameworks do not survive fork
        tasks, results = context.Queue(), context.Queue()
        jobs = min(self.jobs, len(cells))
        for task in [*worker_tasks(cells, jobs), *[None] * jobs]:
            tasks.put(task)
        threads = max(1, available_cores() // jobs)
        workers = [
            context.Process(target=_worker, daemon=True, args=(backend, tasks, results, store, threads))
            for _ in range(jobs)
        ]
        for worker in workers:
            worker.start()
        finished = False
        try:
            for _ in cells:
                yield self._next_outcome(results, workers)
            finished = True
        finally:
            if finished:  # every worker has its end-of-work marker: let it exit on its own
                for worker in workers:
                    worker.join(timeout=EXIT_SECONDS)
            for worker in workers:
                if worker.is_alive():
                    worker.terminate()
            for worker in workers:
                worker.join()

    @staticmethod
    def _next_outcome(results, workers) -> CellOutcome:
        while True:
            try:
                outcome = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers):
                    raise RuntimeError(
                        "every worker process ended before the grid did; runs they left "
                        "RUNNING are marked KILLED and rerun by the next invocation"
                    ) from None
                continue
            if isinstance(outcome, KerasceError):
                raise outcome
            return outcome


class Local:
    """`--jobs N` on this machine: per backend, in this process when one process would do and this
    process runs that backend, else in worker processes."""

    def __init__(self, jobs: int, datasets: dict):
        self.jobs, self.datasets = jobs, datasets

    def _chosen(self, backend: str, cells: list[RunSpec]) -> Executor:
        if min(self.jobs, len(cells)) <= 1 and backend == process_backend():
            return InProcess(self.datasets)
        return ProcessPool(self.jobs)

    def describe(self, cells: list[RunSpec]) -> str:
        groups = by_backend(cells)
        if len(groups) == 1:
            return self._chosen(*next(iter(groups.items()))).describe(cells)
        return ", ".join(f"{b} {self._chosen(b, group).describe(group)}" for b, group in groups.items())

    def run(self, cells: list[RunSpec], store: StoreRef) -> Iterator[CellOutcome]:
        for backend, group in by_backend(cells).items():
            yield from self._chosen(backend, group).run(group, store)
