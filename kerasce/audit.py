"""python -m kerasce.audit MODEL.keras: which loss path a saved model's head really takes, per
precision policy (and backend), its dead zone on your data, and the fix for every clipped setting.

The module is also the Python function: `kerasce.audit(model_or_path, data=None, backends=False)`
returns an Audit (`.rows`, `.clipped`, `.text()`, `.to_dict()`); see kerasce/diagnose/auditing.py.
"""

import argparse
import json
import sys
import types

from kerasce.command import exit_command, run_command
from kerasce.errors import ExitCode

EXAMPLES = """\
examples:
  python -m kerasce.audit model.keras                     # float32, mixed_float16, mixed_bfloat16 here
  python -m kerasce.audit model.keras --backends          # ... on every installed Keras backend
  python -m kerasce.audit model.keras --data val.npz      # ... with its dead zone on arrays x, y
  python -m kerasce.audit model.keras --strict --json     # in CI: exit 1 when any setting clips

Exit codes: 0 audited (with --strict: no setting clips), 1 with --strict: some setting takes the
clipped (or naive) path, 2 the file or model cannot be audited (the message says why).
"""


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kerasce.audit",
        description="Audit a saved, compiled Keras model: find its output head, measure the loss path "
        "Keras really takes under float32 and mixed precision, and say how to fix a clipped one.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL.keras", help="a model saved with model.save(), compiled")
    parser.add_argument("--data", metavar="FILE.npz", help="arrays x and y: measure the dead zone on them")
    parser.add_argument("--backends", action="store_true", help="also every other installed backend")
    parser.add_argument(
        "--precisions",
        default="float32,mixed_float16,mixed_bfloat16",
        metavar="LIST",
        help="comma-separated precision policies to audit (default: all three)",
    )
    parser.add_argument("--json", action="store_true", help="print the audit as JSON")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when any setting takes the clipped path"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    return run_command("audit", lambda: audit_command(arguments))


def audit_command(arguments) -> int:
    precisions = tuple(p.strip() for p in arguments.precisions.split(",") if p.strip())
    result = run(arguments.model, data=arguments.data, backends=arguments.backends, precisions=precisions)
    print(json.dumps(result.to_dict(), indent=2) if arguments.json else result.text())
    return ExitCode.FAILURE if arguments.strict and result.clipped else ExitCode.OK


def run(model, data=None, backends=False, **options):
    """The audit itself (kerasce.diagnose.auditing.audit), imported on use: --help starts no framework."""
    import os

    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        from kerasce.framework import import_keras_quietly

        import_keras_quietly()  # TensorFlow without its start-up lines
    from kerasce.diagnose.auditing import audit

    return audit(model, data=data, backends=backends, **options)


class _CallableModule(types.ModuleType):
    """`import kerasce.audit` binds the attribute kerasce.audit to this module; calling it audits."""

    def __call__(self, model, data=None, backends=False, **options):
        return run(model, data=data, backends=backends, **options)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    exit_command(main())
