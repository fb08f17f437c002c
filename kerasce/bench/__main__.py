"""python -m kerasce.bench: what the runner costs over bare Keras, and how grids use the cores.

Per workload, interleaved and repeated (median of --repeats after one warm-up):
  (a) bare model.fit of exactly the model the runner trains, same validation data, no callbacks;
  (b) the same training through the kerasce runner with full logging into a temporary SQLite store;
      as a cell group's first seed (a model compiled for it; it draws the group's intuition
      figures), and as a later seed of its group (the kept compiled model, restarted; its PR and
      reliability figures only), and as a later seed without figures;
  (c) the same bare fit under mlflow.keras.autolog();
  (d) the same fit, kerasce.instrument-ed, with the kerasce.MlflowLogger callback in an active run.
Then the bitwise check: every runner cell's final weights hash (its epochs fused into compiled calls
of several batches) against a plain fit's of the same model on the same batches.
"""

import argparse
import os
import tempfile
from pathlib import Path

from kerasce.bench.measure import (
    WORKLOADS,
    Workload,
    measure_compare,
    measure_grid,
    measure_jobs,
    measure_workload,
)
from kerasce.command import exit_command
from kerasce.framework import import_keras_quietly


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m kerasce.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m kerasce.bench                       # (a) (b) (c) on both workloads\n"
        "  python -m kerasce.bench --workload digits --repeats 3\n"
        "  python -m kerasce.bench --only-extra --grid experiments/default.toml \\\n"
        "      --jobs-speedup --compare 1000",
    )
    parser.add_argument(
        "--workload",
        action="append",
        choices=sorted(WORKLOADS),
        help="workload to measure (repeatable; default: all)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="counted repetitions after the warm-up (default 5)"
    )
    parser.add_argument(
        "--grid",
        type=Path,
        metavar="PATH",
        help="also time this grid through the CLI against its bare fits plus one start-up",
    )
    parser.add_argument(
        "--jobs-speedup", action="store_true", help="also time a 12-cell grid with --jobs 1 and 2"
    )
    parser.add_argument("--compare", type=int, metavar="N", help="also time kerasce.compare over N runs")
    parser.add_argument("--only-extra", action="store_true", help="skip the (a) (b) (c) workloads")
    parser.add_argument(
        "--backend",
        choices=("tensorflow", "jax", "torch"),
        default="tensorflow",
        help="the Keras backend of the (a) (b) (c) workloads (default: tensorflow)",
    )
    return parser.parse_args(argv)


def workload_line(name: str, backend: str, medians: dict) -> str:
    """One workload's medians, each against the bare fit (a)."""
    a = medians["bare"]

    def against_a(mode):
        return f"{medians[mode]:.2f}s, {medians[mode] / a:5.3f}"

    return (
        f"{name:<14} [{backend}] bare fit (a) {a:6.2f}s  kerasce runner (b) {medians['kerasce']:6.2f}s  "
        f"autolog (c) {medians['autolog']:6.2f}s  b/a {medians['kerasce'] / a:5.3f}  "
        f"c/a {medians['autolog'] / a:5.3f}  (b as a later seed: {against_a('kerasce-later-seed')}; "
        f"without figures: {against_a('kerasce-no-figures')})  callback (d) {medians['callback']:.2f}s  "
        f"d/a {medians['callback'] / a:5.3f}"
    )


def bitwise_line(name: str, workload: Workload) -> str:
    """Whether every runner cell's final weights equal a plain fit's on the same batches."""
    hashes = ", ".join(sorted(workload.runner_hashes))
    steps = ", ".join(str(s) for s in sorted(workload.steps_per_execution))
    verdict = "equal to the bit" if workload.bitwise_equal else "DIFFERENT"
    return (
        f"{name:<14} weights: {len(workload.runner_hashes)} hash(es) over the runner's cells ({hashes}; "
        f"{steps} batches per compiled call) against bare fit {workload.bare_hash} (one call per "
        f"batch): {verdict}"
    )


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    os.environ["KERAS_BACKEND"] = arguments.backend  # before Keras is imported: it reads it once
    import_keras_quietly()
    lines = []

    def report(line):  # printed at once, so a later failure does not lose it
        lines.append(line)
        print(line, flush=True)

    with tempfile.TemporaryDirectory() as directory:
        store = Path(directory)
        if not arguments.only_extra:
            for name in arguments.workload or list(WORKLOADS):
                workload = measure_workload(name, arguments.repeats, store, arguments.backend)
                report(workload_line(name, arguments.backend, workload.medians))
                report(bitwise_line(name, workload))
        if arguments.grid:
            grid = measure_grid(arguments.grid, store)
            report(
                f"grid {arguments.grid} ({grid['cells']} cells, {grid['workers']} workers): wall "
                f"{grid['wall']:.1f}s; bare fits {grid['bare_sum']:.1f}s, start-up {grid['startup']:.1f}s; "
                f"(wall - start-up) / (bare fits / workers) = {grid['ratio']:.3f}"
            )
        if arguments.jobs_speedup:
            jobs = measure_jobs(store)
            report(
                f"12-cell grid: --jobs 1 {jobs['jobs1']:.1f}s, --jobs 2 {jobs['jobs2']:.1f}s, "
                f"speed-up {jobs['speedup']:.2f}x"
            )
        if arguments.compare:
            compared = measure_compare(store, arguments.compare)
            report(
                f"kerasce.compare over {compared['runs']} runs: {compared['in_process']:.2f}s in process, "
                f"{compared['command']:.2f}s as a command (Python start-up included)"
            )
    print("\nsummary:\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    exit_command(main())
