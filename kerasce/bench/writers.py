"""python -m kerasce.bench.writers: how many cell runs per second a tracking store takes from N
concurrent writer processes, each writing runs shaped like a cell's (params, per-epoch metric
batches with a heartbeat, the final metrics and tags, artifacts, the end), through the same
Tracker/RunWriter the cells use.

    python -m kerasce.bench.writers --tracking-uri http://127.0.0.1:5000 --writers 8 --runs 10
    python -m kerasce.bench.writers --tracking-uri sqlite:////tmp/w/mlflow.db --writers 8 --runs 10
"""

import argparse
import multiprocessing
import time

from kerasce.command import exit_command
from kerasce.tracking.schema import RunRecord, RunStart
from kerasce.tracking.writer import Tracker

EPOCHS = 20  # the default config's epochs: one batch of metrics each
PARAMS = {f"param_{i}": i for i in range(40)}  # about what a cell logs
HISTORY = "epoch,loss\n" + "".join(f"{e},{1 / (e + 1)}\n" for e in range(EPOCHS))


def write_cell_runs(uri: str, experiment: str, runs: int, writer: int) -> None:
    tracker = Tracker(uri, experiment)
    for index in range(runs):
        run = tracker.start_run(RunStart(f"writer {writer} run {index}", PARAMS, {"kerasce.kind": "bench"}))
        for epoch in range(EPOCHS):
            run.log_epoch(epoch, {"loss": 1 / (epoch + 1), "val_loss": 1 / (epoch + 2), "accuracy": 0.5})
        metrics = {f"test_metric_{i}": i / 10 for i in range(20)}
        run.complete(
            RunRecord(
                metrics=metrics, tags={"kerasce.loss_path": "fused_logits"}, texts={"history.csv": HISTORY}
            )
        )


def _writer(uri, experiment, runs, writer, barrier, results):
    barrier.wait()
    started = time.perf_counter()
    write_cell_runs(uri, experiment, runs, writer)
    results.put(time.perf_counter() - started)


def measure(uri: str, writers: int, runs: int) -> dict:
    """Wall seconds for `writers` processes writing `runs` cell-shaped runs each, started together."""
    experiment = f"bench-writers-{time.time():.0f}"
    Tracker(uri, experiment)  # the store and experiment exist before the clock starts
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(writers + 1), context.Queue()
    processes = [
        context.Process(target=_writer, args=(uri, experiment, runs, w, barrier, results))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    seconds = [results.get() for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join()
    total = writers * runs
    return {"runs": total, "wall": wall, "runs_per_second": total / wall, "slowest_writer": max(seconds)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kerasce.bench.writers", description=__doc__)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--runs", type=int, default=10, help="runs per writer (default 10)")
    arguments = parser.parse_args(argv)
    result = measure(arguments.tracking_uri, arguments.writers, arguments.runs)
    print(
        f"{arguments.writers} writers x {arguments.runs} runs into {arguments.tracking_uri}: "
        f"{result['runs']} runs in {result['wall']:.1f}s = {result['runs_per_second']:.2f} runs/s "
        f"({result['runs_per_second'] * 3600:.0f} runs/hour; {EPOCHS} epoch writes per run)"
    )
    return 0


if __name__ == "__main__":
    exit_command(main())
