"""The benchmark's measurements (its command: python -m kerasce.bench): what the runner costs over
a bare fit of the same model, what a grid costs over its bare fits, how --jobs uses the cores, and
how fast kerasce.compare reads many runs."""

import dataclasses
import statistics
import subprocess
import sys
import time
from pathlib import Path

from kerasce.config import RunConfig, expand_grid, load_config, parse_config

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


def bare_fit(run: RunConfig, dataset, callback=None) -> float:
    """The seconds to build, compile and fit exactly the model the runner trains, fed as the
    runner feeds it (kerasce.training.batches).
    With a `callback` (kerasce.MlflowLogger), the model is `kerasce.instrument`-ed first."""
    started = time.perf_counter()
    fit_bare_model(run, dataset, callback)
    return time.perf_counter() - started


def bare_weights_hash(run: RunConfig, dataset) -> str:
    """The final weights hash of a plain fit (one compiled call per batch) fed the runner's
    batches, as the runner hashes its own. Like the runner, it evaluates before fitting: on JAX,
    Keras' fit of a model whose compiled state is not built yet builds it from a batch of a first
    shuffle it then discards, so without the evaluate every epoch would take the next shuffle."""
    from kerasce.training.fit import weights_hash

    return weights_hash(fit_bare_model(run, dataset, evaluate_first=True))


def fit_bare_model(run: RunConfig, dataset, callback=None, evaluate_first: bool = False):
    from kerasce.training.batches import feed, validation
    from kerasce.training.fit import EVALUATION_BATCH, build_compiled_model, seed_everything
    from kerasce.training.user_model import instrument

    seed_everything(run.seed, run.train.deterministic)
    model = build_compiled_model(run, dataset)
    if evaluate_first:
        model.evaluate(**feed(dataset.x_val, dataset.y_val, EVALUATION_BATCH), verbose=0)
    if callback is not None:
        model = instrument(model)
    model.fit(
        **feed(dataset.x_train, dataset.y_train, run.train.batch_size, shuffle_seed=run.seed),
        epochs=run.train.epochs,
        validation_data=validation(dataset.x_val, dataset.y_val, run.train.batch_size),
        callbacks=[callback] if callback is not None else [],
        verbose=0,
    )
    return model


def measure_workload(name: str, repeats: int, store: Path, backend: str = "tensorflow") -> dict:
    from kerasce.integrations.mlflow_logger import MlflowLogger
    from kerasce.run.cell import ProcessCache, run_cell
    from kerasce.run.outcome import StoreRef
    from kerasce.tracking.autolog import active_run, keras_autolog_run
    from kerasce.tracking.schema import RunStart
    from kerasce.tracking.writer import Tracker
    from kerasce.training.compiled_models import CompiledModels
    from kerasce.vocabulary import Outcome

    workload = {"name": f"bench-{name}", "backend": backend, **WORKLOADS[name]}
    spec = expand_grid(*parse_config(workload))[0]
    no_figures = expand_grid(*parse_config(workload, ["train.figures=false"]))[0]
    # a cell group draws its intuition figures for its first seed only: this is every later seed
    later_seed = dataclasses.replace(spec, draws_intuition=False)
    cache = ProcessCache()
    dataset = cache.dataset_for(spec)
    uri = f"sqlite:///{store / 'mlflow.db'}"
    parents = []

    def runner(cell, first_seed=False):
        # an experiment of its own each time: in one experiment a finished cell is skipped
        tracker = Tracker(uri, f"bench-{name}-runner-{len(parents)}")
        parents.append(tracker.start_run(RunStart("bench", {}, {})))
        target = StoreRef(uri, tracker.experiment_name, parents[-1].run_id)
        # a group's first seed compiles a model of its own; a later one trains the kept model
        kept = dataclasses.replace(cache, models=CompiledModels()) if first_seed else cache
        started = time.perf_counter()
        outcome = run_cell(cell, target, kept)
        seconds = time.perf_counter() - started
        if outcome.status != Outcome.FINISHED:
            raise RuntimeError(f"the bench's runner cell did not finish: {outcome.summary}")
        return seconds

    def autolog():
        with keras_autolog_run(uri, f"bench-{name}-autolog"):
            return bare_fit(spec.resolved, dataset)

    def callback():
        with active_run(uri, f"bench-{name}-callback"):
            return bare_fit(spec.resolved, dataset, MlflowLogger((dataset.x_val, dataset.y_val)))

    modes = {
        "bare": lambda: bare_fit(spec.resolved, dataset),
        "kerasce": lambda: runner(spec, first_seed=True),
        "autolog": autolog,
        "callback": callback,
        "kerasce-no-figures": lambda: runner(no_figures),
        "kerasce-later-seed": lambda: runner(later_seed),
    }
    times = {mode: [] for mode in modes}
    for repetition in range(repeats + 1):  # the first round warms up and is not counted
        this_round = {mode: measure() for mode, measure in modes.items()}
        if repetition:
            for mode, seconds in this_round.items():
                times[mode].append(seconds)
        label = f"  {name} round {repetition}{' (warm-up)' if not repetition else ''}: "
        print(label + ", ".join(f"{m} {t:.2f}s" for m, t in this_round.items()), flush=True)
    for parent in parents:
        parent.finish()
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    hashes, steps = runner_hashes(uri, name, len(parents))
    return Workload(medians, hashes, steps, bare_weights_hash(spec.resolved, dataset))


@dataclasses.dataclass(frozen=True)
class Workload:
    """A workload's median seconds per mode, and its bitwise check: the final weights hash of
    every runner cell (fused: `steps_per_execution` batches per compiled call) against a plain
    fit's of the same model on the same batches."""

    medians: dict[str, float]
    runner_hashes: frozenset[str]
    steps_per_execution: frozenset[int]
    bare_hash: str

    @property
    def bitwise_equal(self) -> bool:
        return self.runner_hashes == {self.bare_hash}


def runner_hashes(uri: str, name: str, count: int) -> tuple[frozenset[str], frozenset[int]]:
    """The weights hashes and batches per compiled call the runner's cells recorded in the store."""
    from kerasce.tracking.reader import StoreReader
    from kerasce.tracking.schema import Kind, Tag

    runs = StoreReader(uri).runs([f"bench-{name}-runner-{index}" for index in range(count)])
    cells = runs[runs[f"tags.{Tag.KIND}"] == Kind.CELL]
    steps = cells[f"tags.{Tag.STEPS_PER_EXECUTION}"].astype(int)
    return frozenset(cells[f"tags.{Tag.WEIGHTS_HASH}"]), frozenset(steps)


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
        [sys.executable, "-c", "import tensorflow, keras, mlflow, kerasce.run.cell"],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure_grid(path: Path, store: Path) -> dict:
    """The grid through the CLI (default --jobs auto) against the sum of its bare fits shared
    among the workers, plus one framework start-up (the workers start side by side)."""
    from kerasce.run.executors import available_cores
    from kerasce.run.inputs import load_datasets

    specs = expand_grid(*load_config(path))
    datasets = load_datasets(specs)
    bare = sum(bare_fit(spec.resolved, datasets[spec.dataset_key]) for spec in specs)
    startup = framework_startup_seconds()
    wall = cli_seconds("--config", str(path), "--tracking-uri", f"sqlite:///{store / 'grid.db'}")
    workers = min(available_cores(), len(specs))
    return {
        "cells": len(specs),
        "workers": workers,
        "bare_sum": bare,
        "startup": startup,
        "wall": wall,
        "ratio": (wall - startup) / (bare / workers),
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
    from kerasce import api
    from kerasce.analyze.comparison import finished_cells
    from kerasce.tracking.reader import StoreReader

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
    log_synthetic_runs(uri, template, count)
    started = time.perf_counter()
    api.compare(["compare-bench"], uri, group_by=["formulation", "precision"], figures=False)
    in_process = time.perf_counter() - started
    arguments = ["--experiment", "compare-bench", "--tracking-uri", uri, "--no-figures", "--no-log"]
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kerasce.compare", *arguments, "--group-by", "formulation,precision"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return {"runs": count, "in_process": in_process, "command": time.perf_counter() - started}


def log_synthetic_runs(uri: str, template: dict, count: int) -> None:
    """`count` finished cell runs shaped like `template` (params, tags, metrics): what compare reads."""
    from kerasce.tracking.schema import Kind, RunRecord, RunStart, Tag
    from kerasce.tracking.writer import Tracker

    tracker = Tracker(uri, "compare-bench")
    for index in range(count):
        start = RunStart(f"synthetic {index}", template["params"], {**template["tags"], Tag.KIND: Kind.CELL})
        metrics = {k: v * (1 + 0.01 * (index % 7)) for k, v in template["metrics"].items()}
        tracker.start_run(start).complete(RunRecord(metrics=metrics))
