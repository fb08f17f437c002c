"""python -m kerasce.experiment: expand a config into a grid of runs and log them to MLflow."""

import argparse
import sys
from pathlib import Path

from kerasce.command import exit_command, run_command
from kerasce.errors import KerasceError
from kerasce.vocabulary import ExecutorName

EXAMPLES = """\
examples:
  python -m kerasce.experiment                                  # experiments/default.toml into mlruns/
  python -m kerasce.experiment --config experiments/smoke.toml --dry-run
  python -m kerasce.experiment --config experiments/naive_overflow.toml --set train.epochs=3
  python -m kerasce.experiment --set 'grid.seed=[0]' --tracking-uri sqlite:///tmp/store/mlflow.db
  python -m kerasce.experiment --executor ray --ray-address auto --tracking-uri http://head:5000

Config keys: name, formulation, precision, seed, [data], [model], [train], [grid]; see docs/experiments.md.
Repeating a command resumes it: cells with a FINISHED run are skipped (--rerun runs them again).
Exit codes: 0 all runs finished, 1 a run failed, 2 bad input or an unreachable Ray cluster
(nothing written), 3 tracking server unreachable, 130/143 interrupted by Ctrl-C/SIGTERM (the
current runs are marked KILLED).
Browse the results with `make ui`, compare them with `python -m kerasce.compare`.
"""


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kerasce.experiment",
        description="Train Keras models that differ only in how softmax/sigmoid and cross-entropy "
        "are wired, over a grid of settings, and log every run to MLflow: per-epoch losses, "
        "NaN/Inf events, the loss path Keras took, precision-recall, calibration, provenance.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--config",
        type=Path,
        default=Path("experiments") / "default.toml",
        metavar="PATH",
        help="TOML experiment config (default: experiments/default.toml)",
    )
    add(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value, TOML syntax: train.epochs=3, "
        "'grid.seed=[0,1]', data.dataset=breast_cancer (repeatable)",
    )
    add(
        "--tracking-uri",
        metavar="URI",
        help="MLflow store or server (default: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)",
    )
    add(
        "--experiment-name",
        metavar="NAME",
        help="MLflow experiment to log into (default: the config's `name`)",
    )
    add(
        "--dry-run",
        action="store_true",
        help="validate the config and datasets, print the expanded grid, train nothing",
    )
    add("--list-formulations", action="store_true", help="print the registered head/loss wirings and exit")
    add(
        "--jobs",
        type=jobs_count,
        default="auto",
        metavar="N",
        help="run cells in N worker processes writing to the same store; 1 runs them in this "
        "process (default: auto, one per core)",
    )
    add(
        "--executor",
        choices=list(ExecutorName),
        default=ExecutorName.LOCAL,
        help="where cells run: " + "; ".join(f"{name} ({name.meaning})" for name in ExecutorName),
    )
    add(
        "--ray-address",
        metavar="ADDRESS",
        help="with --executor ray: the cluster to run on (host:port of `ray start --head`, or auto "
        "for the one this machine belongs to); default: a local Ray instance for this command",
    )
    add(
        "--rerun",
        action="store_true",
        help="run every cell again, even those with a FINISHED run "
        "(default: skip them, so repeating a command resumes an interrupted grid)",
    )
    add("--quiet", action="store_true", help="no progress bar and no per-run summary lines")
    return parser.parse_args(argv)


def jobs_count(text: str):
    """--jobs: a positive integer or "auto"."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not valid; give a number of workers (1 or more) or auto"
        )
    return int(text)


def list_formulations() -> str:
    from kerasce.config.formulations import FORMULATIONS

    width = max(map(len, FORMULATIONS))
    return "\n".join(f"{f.name:<{width}}  {f.task:<10}  {f.description}" for f in FORMULATIONS.values())


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    if arguments.list_formulations:
        print(list_formulations())
        return 0
    return run_command("experiment", lambda: run(arguments), interrupted=INTERRUPTED)


INTERRUPTED = "interrupted: the current runs and the grid are marked KILLED; repeat the command to resume"


def run(arguments) -> int:
    from kerasce import api

    grid = api.load_grid(arguments.config, arguments.overrides, experiment_name=arguments.experiment_name)
    if arguments.dry_run:
        print(grid.table().to_string(index=False))
        print(
            f"\n{len(grid.specs)} runs on {len(grid.datasets)} dataset splits; the config is valid "
            "(nothing trained)"
        )
        return 0
    if arguments.ray_address and arguments.executor != ExecutorName.RAY:
        raise KerasceError("--ray-address: only used with --executor ray")
    result = api.run_grid(
        grid,
        arguments.tracking_uri,
        jobs=arguments.jobs,
        rerun=arguments.rerun,
        quiet=arguments.quiet,
        executor=arguments.executor,
        ray_address=arguments.ray_address,
    )
    if not result.outcomes:
        return 0  # every cell has a FINISHED run already; the plan line said so
    failed = len(result.failed)
    if not arguments.quiet or failed:
        print(
            f"{result.counts()}; experiment {grid.name!r} in {result.tracking_uri}",
            file=sys.stderr if failed else sys.stdout,
        )
        print(f"Runs: {result.runs_link}{ui_hint(result.tracking_uri)}")
    return 1 if failed else 0


def ui_hint(tracking_uri: str) -> str:
    """A SQLite store has no UI of its own: say how to start one on it."""
    from kerasce.tracking.store import DEFAULT_TRACKING_URI

    if tracking_uri.startswith(("http://", "https://")):
        return ""
    if tracking_uri == DEFAULT_TRACKING_URI:
        return "  (start the UI first: make ui)"
    return f"  (start the UI first: python -m kerasce.ui --tracking-uri {tracking_uri})"


if __name__ == "__main__":
    exit_command(main())
