"""python -m kerasce.compare: runs read back from MLflow into pandas tables and figures."""

import argparse
import sys
from pathlib import Path

from kerasce.command import exit_command, run_command

EPILOG = """\
examples:
  python -m kerasce.compare --experiment default
  python -m kerasce.compare --experiment default --group-by formulation,precision \\
      --filter "params.`data.dataset` = 'digits'" --format html --output comparison/
The findings report has its own command: python -m kerasce.report
"""


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kerasce.compare",
        description="Compare kerasce runs: group them (by default by every grid key except the seed), "
        "aggregate each metric over seeds (mean, std, n, 95%% CI), pair every wiring with its reference "
        "on the same seeds and say which differ (identical, float rounding, or an effect with its "
        "interval), draw each wiring's curves minus its reference's, and log the comparison to MLflow.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--experiment",
        action="append",
        metavar="NAME",
        help="MLflow experiment to read (repeatable; default: 'default')",
    )
    add(
        "--tracking-uri",
        metavar="URI",
        help="MLflow store or server (default: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)",
    )
    add("--group-by", metavar="KEYS", help="comma-separated params, e.g. formulation,precision")
    add("--metric", action="append", metavar="NAME", help="metric to aggregate (repeatable)")
    add(
        "--filter",
        default="",
        metavar="EXPR",
        help="MLflow search filter, e.g. \"params.precision = 'float32'\"",
    )
    add(
        "--format",
        choices=("table", "csv", "markdown", "html"),
        default="table",
        help="table prints; csv, markdown and html also write a file to --output",
    )
    add("--output", type=Path, metavar="DIR", help="folder for tables and figures (default: comparison/)")
    add(
        "--reference",
        default="twin",
        metavar="FORMULATION",
        help="pair every wiring with this one, trained on the same seed (default: twin, each wiring's "
        "from-logits twin, logits_ce or logit_bce)",
    )
    add("--no-figures", action="store_true", help="skip the figures (they read every run's artifacts)")
    add("--no-log", action="store_true", help="do not log the comparison as an MLflow run")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    return run_command("compare", lambda: run(arguments))


def run(arguments) -> int:
    from kerasce import api

    experiments = arguments.experiment or ["default"]
    comparison = api.compare(
        experiments,
        arguments.tracking_uri,
        group_by=arguments.group_by.split(",") if arguments.group_by else None,
        metrics=arguments.metric or api.DEFAULT_METRICS,
        filter_string=arguments.filter,
        figures=not arguments.no_figures,
        reference=arguments.reference,
    )
    print(comparison.terminal())
    for note in comparison.notes:
        print(note, file=sys.stderr)
    if arguments.format != "table" or arguments.output:
        from kerasce.analyze.outputs import write_outputs, written_lines

        directory = arguments.output or Path("comparison")
        written = write_outputs(directory, arguments.format, comparison.texts, comparison.images)
        print(written_lines(written, directory))
        if "paired.csv" in written and comparison.paired.empty:
            print("paired.csv holds its header only: no wiring ran beside its reference on the same seeds")
    if not arguments.no_log:
        api.log_comparison(comparison, experiments[0])
    return 0


if __name__ == "__main__":
    exit_command(main())
