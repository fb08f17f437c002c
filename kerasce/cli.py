"""The `kerasce` command: one entry point whose subcommands are the package's commands.

    kerasce run --config experiments/smoke.toml     # = python -m kerasce.experiment ...
    kerasce compare --experiment default            # = python -m kerasce.compare ...
    kerasce audit model.keras                       # = python -m kerasce.audit ...

Each subcommand is the same main as its `python -m` module, given the remaining arguments, so
their options, help and exit codes are the same.
"""

import importlib
import sys

from kerasce.command import exit_command

SUBCOMMANDS = {  # name: (module whose main runs it, what it does)
    "run": ("kerasce.experiment", "run a grid of experiments from a TOML config into MLflow"),
    "compare": ("kerasce.compare", "compare finished runs: paired differences, tables, figures"),
    "report": ("kerasce.report", "write docs/FINDINGS.md from the claim experiments' runs"),
    "audit": ("kerasce.audit", "audit a saved Keras model's head and loss path (and --fix it)"),
    "ui": ("kerasce.ui", "browse the runs in the MLflow UI"),
    "server": ("kerasce.server", "start, stop or check a team tracking server on PostgreSQL"),
    "bench": ("kerasce.bench.__main__", "time the runner against Keras' own fit"),
}


def usage() -> str:
    width = max(map(len, SUBCOMMANDS))
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in SUBCOMMANDS.items()]
    return (
        "usage: kerasce COMMAND [OPTIONS]   (kerasce COMMAND --help for its options)\n\n"
        "How softmax, log-softmax, sigmoid and cross-entropy are wired in Keras, and what each\n"
        "choice does to training.\n\ncommands:\n" + "\n".join(lines)
    )


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        from kerasce.errors import choices_message

        print(f"error: {choices_message('command', name, SUBCOMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(SUBCOMMANDS[name][0])
    sys.argv[0] = f"kerasce {name}"
    return module.main(rest)


def console_main() -> None:
    """The `[project.scripts]` entry point."""
    exit_command(main())
