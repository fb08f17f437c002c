"""python -m kerasce.bench: what the runner costs over bare Keras, and how grids use the cores.

Per workload, interleaved and repeated (median of --repeats after one warm-up):
  (a) bare model.fit with the same validation data, no callbacks;
  (b) the same training through the kerasce runner with full logging into a temporary SQLite store;
  (c) the same bare fit under mlflow.keras.autolog().
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kerasce.config import expand_grid, load_config, parse_config

WORKLOADS = {
    "digits": {
        "data": {"dataset": "digits"},
        "model": {"hidden_units": [64]},
        "train": {"epochs": 15, "batch_size": 64},
    },
    "synthetic-20k": {
        "data": {"dataset": "synthetic", "n_samples": 20000, "n_features": 64, "n_classes": 10},
        "model": {"hidden_units": [128]},
        "train": {"epochs": 10, "batch_size": 64},
    },
}


def bare_fit(config, dataset) -> float:
    """Build, compile and fit exactly as a user would, timing all three."""
    from kerasce.formulations import get_formulation
    from kerasce.models import build_model, compile_model
    from kerasce.training import seed_everything

    seed_everything(config["seed"], config["train"]["deterministic"])
    started = time.perf_counter()
    formulation = get_formulation(config["formulation"])
    model = build_model(
        formulation,
        dataset.n_features,
        dataset.n_classes,
        tuple(config["model"]["hidden_units"]),
        config["precision"],
        seed=config["seed"],
    )
    compile_model(
        model,
        formulation,
        config["precision"],
        config["train"]["optimizer"],
        config["train"]["learning_rate"],
    )
    model.fit(
        dataset.x_train,
        dataset.y_train,
        batch_size=config["train"]["batch_size"],
        epochs=config["train"]["epochs"],
        validation_data=(dataset.x_val, dataset.y_val),
        verbose=0,
    )
    return time.perf_counter() - started


def measure_workload(name: str, repeats: int, store: Path) -> dict:
    from kerasce.datasets import load_dataset
    from kerasce.runner import run_cell
    from kerasce.tracking import Tracker, keras_autolog_run

    config, grid = parse_config({"name": f"bench-{name}", **WORKLOADS[name]})
    spec = expand_grid(config, grid)[0]
    no_figures = expand_grid(
        *parse_config({"name": f"bench-{name}", **WORKLOADS[name]}, ["train.figures=false"])
    )[0]
    dataset = load_dataset(config["data"], config["seed"])
    uri = f"sqlite:///{store / 'mlflow.db'}"
    tracker = Tracker(uri, f"bench-{name}")
    parent = tracker.start_run("bench", {}, {})

    def runner(cell):
        started = time.perf_counter()
        run_cell(tracker, parent.run_id, cell, dataset)
        return time.perf_counter() - started

    def autolog():
        with keras_autolog_run(uri, f"bench-{name}-autolog"):
            return bare_fit(config, dataset)

    modes = {
        "bare": lambda: bare_fit(config, dataset),
        "kerasce": lambda: runner(spec),
        "autolog": autolog,
        "kerasce-no-figures": lambda: runner(no_figures),
    }
    times = {mode: [] for mode in modes}
    for repetition in range(repeats + 1):  # the first round warms up and is not counted
        this_round = {mode: measure() for mode, measure in modes.items()}
        if repetition:
            for mode, seconds in this_round.items():
                times[mode].append(seconds)
        label = f"  {name} round {repetition}{' (warm-up)' if not repetition else ''}: "
        print(label + ", ".join(f"{m} {t:.2f}s" for m, t in this_round.items()), flush=True)
    parent.finish()
    return {mode: statistics.median(values) for mode, values in times.items()}


def cli_seconds(*args) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kerasce.experiment", "--quiet", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def framework_startup_seconds() -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import tensorflow, keras, mlflow, kerasce.runner"],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure_grid(path: Path, store: Path) -> dict:
    """The grid through the CLI against the sum of its bare fits plus one framework start-up."""
    from kerasce.runner import dataset_key, load_datasets

    config, grid = load_config(path)
    specs = expand_grid(config, grid)
    datasets = load_datasets(specs)
    bare = sum(bare_fit(spec.config, datasets[dataset_key(spec.config)]) for spec in specs)
    startup = framework_startup_seconds()
    wall = cli_seconds("--config", str(path), "--tracking-uri", f"sqlite:///{store / 'grid.db'}")
    return {
        "cells": len(specs),
        "bare_sum": bare,
        "startup": startup,
        "wall": wall,
        "ratio": wall / (bare + startup),
    }


def measure_jobs(store: Path) -> dict:
    """A 12-cell grid with --jobs 1 and --jobs 2."""
    args = [
        "--config",
        "experiments/smoke.toml",
        "--set",
        "grid.seed=[0, 1, 2]",
        "--set",
        "data.max_samples=1797",
        "--set",
        "model.hidden_units=[64]",
        "--set",
        "train.epochs=15",
        "--set",
        "grid.formulation=['softmax_ce', 'logits_ce']",
    ]
    assert len(expand_grid(*load_config("experiments/smoke.toml", args[3::2]))) == 12
    one = cli_seconds(*args, "--tracking-uri", f"sqlite:///{store / 'jobs1.db'}", "--jobs", "1")
    two = cli_seconds(*args, "--tracking-uri", f"sqlite:///{store / 'jobs2.db'}", "--jobs", "2")
    return {"jobs1": one, "jobs2": two, "speedup": one / two}


def measure_compare(store: Path, count: int) -> dict:
    """`kerasce.compare` (table only) over `count` runs shaped like a real one."""
    from kerasce.compare import finished_cells
    from kerasce.compare import main as compare_main
    from kerasce.tracking import StoreReader, Tracker, log_synthetic_runs

    uri = f"sqlite:///{store / 'compare.db'}"
    cells = finished_cells(StoreReader(None).runs(["default"]))
    if cells.empty:
        raise SystemExit("--compare copies the shape of a real run: run `make experiment` first")
    real = cells.iloc[0]
    template = {
        kind: {
            c.split(".", 1)[1]: real[c] for c in real.index if c.startswith(f"{kind}.") and real[c] == real[c]
        }
        for kind in ("params", "tags", "metrics")
    }
    template["tags"] = {k: v for k, v in template["tags"].items() if not k.startswith("mlflow.")}
    log_synthetic_runs(Tracker(uri, "compare-bench"), template, count)
    arguments = [
        "--experiment",
        "compare-bench",
        "--tracking-uri",
        uri,
        "--no-figures",
        "--no-log",
        "--group-by",
        "formulation,precision",
    ]
    started = time.perf_counter()
    compare_main(arguments)
    in_process = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kerasce.compare", *arguments], check=True, stdout=subprocess.DEVNULL
    )
    return {"runs": count, "in_process": in_process, "command": time.perf_counter() - started}


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
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    lines = []

    def report(line):  # printed at once, so a later failure does not lose it
        lines.append(line)
        print(line, flush=True)

    with tempfile.TemporaryDirectory() as directory:
        store = Path(directory)
        if not arguments.only_extra:
            for name in arguments.workload or list(WORKLOADS):
                medians = measure_workload(name, arguments.repeats, store)
                a, b, c = medians["bare"], medians["kerasce"], medians["autolog"]
                report(
                    f"{name:<14} bare fit (a) {a:6.2f}s  kerasce runner (b) {b:6.2f}s  autolog (c) "
                    f"{c:6.2f}s  b/a {b / a:5.3f}  c/a {c / a:5.3f}  (b without figures: "
                    f"{medians['kerasce-no-figures']:.2f}s, {medians['kerasce-no-figures'] / a:5.3f})"
                )
        if arguments.grid:
            grid = measure_grid(arguments.grid, store)
            report(
                f"grid {arguments.grid} ({grid['cells']} cells): wall {grid['wall']:.1f}s; bare fits "
                f"{grid['bare_sum']:.1f}s + start-up {grid['startup']:.1f}s; ratio {grid['ratio']:.3f}"
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
    sys.exit(main())
