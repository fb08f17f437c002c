"""python -m kerasce.experiment: expand a config into a grid of runs and log them to MLflow."""

import argparse
import signal
import sys
from pathlib import Path

from kerasce.errors import KerasceError
from kerasce.formulations import FORMULATIONS

DEFAULT_CONFIG = Path("experiments") / "default.toml"
EXAMPLES = """\
examples:
  python -m kerasce.experiment                                  # experiments/default.toml into mlruns/
  python -m kerasce.experiment --config experiments/smoke.toml --dry-run
  python -m kerasce.experiment --config experiments/naive_overflow.toml --set train.epochs=3
  python -m kerasce.experiment --set 'grid.seed=[0]' --tracking-uri sqlite:///tmp/store/mlflow.db

Config keys: name, formulation, precision, seed, [data], [model], [train], [grid]; see README.md.
Repeating a command resumes it: cells with a FINISHED run are skipped (--rerun runs them again).
Exit codes: 0 all runs finished, 1 a run failed, 2 bad input (nothing written), 3 tracking server
unreachable, 130/143 interrupted by Ctrl-C/SIGTERM (the current runs are marked KILLED).
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
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help=f"TOML experiment config (default: {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value, TOML syntax: train.epochs=3, "
        "'grid.seed=[0,1]', data.dataset=breast_cancer (repeatable)",
    )
    parser.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="MLflow store or server (default: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)",
    )
    parser.add_argument(
        "--experiment-name",
        metavar="NAME",
        help="MLflow experiment to log into (default: the config's `name`)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate the config and datasets, print the expanded grid, train nothing",
    )
    parser.add_argument(
        "--list-formulations", action="store_true", help="print the registered head/loss wirings and exit"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="run cells in N worker processes writing to the same store (default: 1)",
    )
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="run every cell again, even those with a FINISHED run (default: skip them, "
        "so repeating a command resumes an interrupted grid)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no per-run summary lines")
    return parser.parse_args(argv)


def list_formulations() -> str:
    width = max(map(len, FORMULATIONS))
    return "\n".join(f"{f.name:<{width}}  {f.task:<10}  {f.description}" for f in FORMULATIONS.values())


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    if arguments.list_formulations:
        print(list_formulations())
        return 0
    if arguments.jobs < 1:
        print(f"error: --jobs: {arguments.jobs} must be 1 or more", file=sys.stderr)
        return 2
    from kerasce.parallel import raise_interrupt
    from kerasce.tracking import TrackingUnavailable

    received = {}

    def on_sigterm(signum, frame):
        received["signum"] = signum  # so the exit code says which signal ended the grid
        raise_interrupt(signum, frame)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return run(arguments)
    except TrackingUnavailable as error:
        print(
            f"error: {error}\nrepeat the command once the server is back: finished cells are skipped",
            file=sys.stderr,
        )
        return 3
    except KerasceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: the current runs and the grid are marked KILLED; repeat the command to resume",
            file=sys.stderr,
        )
        return 128 + received.get("signum", signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(arguments) -> int:
    from kerasce.config import expand_grid, load_config
    from kerasce.runner import grid_table, load_datasets

    config, grid = load_config(arguments.config, arguments.overrides)
    if arguments.experiment_name:
        config["name"] = arguments.experiment_name
    specs = expand_grid(config, grid)
    datasets = load_datasets(specs)
    if arguments.dry_run:
        print(grid_table(specs, datasets).to_string(index=False))
        print(f"\n{len(specs)} runs on {len(datasets)} dataset splits; the config is valid (nothing trained)")
        return 0
    from kerasce.runner import run_grid
    from kerasce.tracking import Tracker

    tracker = Tracker(arguments.tracking_uri, config["name"])
    outcomes = run_grid(
        specs, datasets, tracker, config, quiet=arguments.quiet, jobs=arguments.jobs, rerun=arguments.rerun
    )
    if not outcomes:
        return 0  # every cell has a FINISHED run already; the plan line said so
    failed = [o for o in outcomes if o.status == "FAILED"]
    if not arguments.quiet or failed:
        print(
            f"{len(outcomes) - len(failed)} of {len(outcomes)} runs finished, {len(failed)} failed; "
            f"experiment {config['name']!r} in {tracker.uri}",
            file=sys.stderr if failed else sys.stdout,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
