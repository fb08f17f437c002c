"""--jobs N: grid cells in N worker processes writing to the same store.

Each worker imports TensorFlow once, limits it to its share of the cores, and pulls cells from a
queue until there are none left. The parent keeps the processes, so an interruption reaches them
(SIGTERM, which each worker turns into KILLED runs) and a dead worker is noticed.
"""

import multiprocessing
import os
import queue
import signal

from tqdm import tqdm

POLL_SECONDS = 1.0


def raise_interrupt(signum, frame):
    """SIGTERM behaves like Ctrl-C: the current run ends KILLED."""
    raise KeyboardInterrupt(f"signal {signum}")


def _worker(tasks, results, tracking_uri, experiment_name, parent_id, threads):
    signal.signal(signal.SIGTERM, raise_interrupt)
    import tensorflow as tf

    # N workers on C cores: each gets C / N threads, so they do not fight over the cores.
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from kerasce.runner import dataset_key, run_cell
    from kerasce.tracking import Tracker

    tracker = Tracker(tracking_uri, experiment_name)  # the experiment exists: this only opens it
    datasets = {}
    try:
        while (task := tasks.get()) is not None:
            index, spec = task
            key = dataset_key(spec.config)
            if key not in datasets:
                from kerasce.datasets import load_dataset

                datasets[key] = load_dataset(spec.config["data"], spec.config["seed"])
            results.put((index, run_cell(tracker, parent_id, spec, datasets[key])))
    except KeyboardInterrupt:
        os._exit(130)  # the run is marked KILLED already; no traceback noise from a worker


def run_in_workers(specs, tracker, parent_id, jobs, quiet) -> list:
    """Run the specs in `jobs` spawned processes; outcomes in the order of `specs`."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters: TensorFlow does not survive fork
    tasks, results = context.Queue(), context.Queue()
    for task in enumerate(specs):
        tasks.put(task)
    jobs = min(jobs, len(specs))
    for _ in range(jobs):
        tasks.put(None)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    workers = [
        context.Process(
            target=_worker,
            daemon=True,
            args=(tasks, results, tracker.uri, tracker.experiment_name, parent_id, threads),
        )
        for _ in range(jobs)
    ]
    for worker in workers:
        worker.start()
    outcomes = {}
    try:
        with tqdm(total=len(specs), unit="run", disable=quiet, dynamic_ncols=True) as progress:
            while len(outcomes) < len(specs):
                try:
                    index, outcome = results.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    if not any(w.is_alive() for w in workers):
                        raise RuntimeError(
                            "every worker process ended before the grid did; runs they left "
                            "RUNNING are marked KILLED and rerun by the next invocation"
                        ) from None
                    continue
                outcomes[index] = outcome
                if not quiet:
                    progress.write(outcome.summary)
                progress.update()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        for worker in workers:
            worker.join()
    return [outcomes[i] for i in range(len(specs))]
