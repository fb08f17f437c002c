"""python -m kerasce.report: docs/FINDINGS.md from the claim experiments' runs (`make report`)."""

import argparse
from pathlib import Path

from kerasce.command import exit_command, run_command


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kerasce.report",
        description="Write the findings report: each seed-article claim, the experiment that tests it, "
        "its table with confidence intervals, key figures, and a verdict computed from the numbers. "
        "`make report` runs the claim experiments first.",
    )
    parser.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="MLflow store or server (default: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("docs") / "FINDINGS.md",
        metavar="PATH",
        help="the report to write; its figures go to findings/ beside it (default: docs/FINDINGS.md)",
    )
    arguments = parser.parse_args(argv)
    return run_command("report", lambda: write(arguments))


def write(arguments) -> int:
    from kerasce import api

    print(f"wrote {api.write_report(arguments.tracking_uri, output=arguments.output)}")
    return 0


if __name__ == "__main__":
    exit_command(main())
