"""python -m kerasce.audit MODEL.keras: which loss path each classification head of a saved model
really takes, per precision policy (and backend), its dead zone on your data, the fix for every
clipped setting, and with --fix the repaired model, proven.

From Python: `kerasce.api.audit(model_or_path, data=None, backends=False)` returns an Audit
(`.rows`, `.heads`, `.clipped`, `.text()`, `.to_dict()`); see docs/audit.md.
"""

import argparse
import json
from pathlib import Path

from kerasce.command import exit_command, run_command
from kerasce.errors import AuditError, ExitCode

EXAMPLES = """\
examples:
  python -m kerasce.audit model.keras                     # float32, mixed_float16, mixed_bfloat16 here
  python -m kerasce.audit model.keras --backends          # ... on every installed Keras backend
  python -m kerasce.audit model.keras --data val.npz      # ... with its dead zone on arrays x, y
  python -m kerasce.audit model.keras --import my_layers  # a model with your registered layers
  python -m kerasce.audit model.keras --fix fixed.keras   # write the repaired model, proven
  python -m kerasce.audit model.keras --strict --json     # in CI: exit 1 when any setting clips

Exit codes: 0 audited (with --strict: no setting clips; with --fix: repaired and proven),
1 with --strict: some setting takes the clipped (or naive) path, 2 bad input (the file, the
data, an option or a model the audit cannot read: the message says which), 70 an internal error
(a kerasce bug: the message names the file holding the traceback).
"""


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kerasce.audit",
        description="Audit a saved, compiled Keras model: find each classification head, measure the loss "
        "path Keras really takes under float32 and mixed precision, say how to fix a clipped one, and "
        "with --fix write the repaired model.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL.keras", help="a model saved with model.save(), compiled")
    parser.add_argument(
        "--data",
        metavar="FILE.npz",
        help="arrays x and y (x_<input>, y_<output> for several): measure the dead zone on them",
    )
    parser.add_argument("--backends", action="store_true", help="also every other installed backend")
    parser.add_argument(
        "--precisions",
        default="float32,mixed_float16,mixed_bfloat16",
        metavar="LIST",
        help="comma-separated precision policies to audit (default: all three)",
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import this module (or .py file) first, so the layers and losses it registers load "
        "(repeatable)",
    )
    parser.add_argument(
        "--fix",
        metavar="OUT.keras",
        help="write the repaired model (linear head, loss from_logits=True) to OUT.keras and "
        "OUT.probabilities.keras, after checking its probabilities and re-auditing it everywhere",
    )
    parser.add_argument("--json", action="store_true", help="print the audit as JSON")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when any setting takes the clipped path"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    return run_command("audit", lambda: audit_command(arguments))


def check_arguments(arguments) -> Path | None:
    """The files named, checked before any framework starts (a mistyped path is one line at once);
    the --fix path to write, if any."""
    model = Path(arguments.model)
    if model.is_dir():
        raise AuditError(f"{model}: is a directory; give the model's .keras file (saved with model.save)")
    if not model.is_file():
        raise AuditError(f"{model}: no such file")
    if arguments.data and not Path(arguments.data).is_file():
        raise AuditError(f"--data {arguments.data}: no such file")
    return _fix_path(arguments)


def _fix_path(arguments) -> Path | None:
    if not arguments.fix:
        return None
    out = Path(arguments.fix)
    if out.suffix != ".keras" or out.is_dir():
        raise AuditError(f"--fix {out}: give the path of a .keras file to write")
    if not out.parent.is_dir():
        raise AuditError(f"--fix {out}: no such directory {out.parent}")
    if out.resolve() == Path(arguments.model).resolve():
        raise AuditError(f"--fix {out}: is the model itself; write the repaired model to another file")
    return out


def audit_command(arguments) -> int:
    out = check_arguments(arguments)
    precisions = tuple(p.strip() for p in arguments.precisions.split(",") if p.strip())
    _import_framework()
    options = {"precisions": precisions, "imports": tuple(arguments.imports)}
    from kerasce.api import audit

    result = audit(arguments.model, data=arguments.data, backends=arguments.backends, **options)
    repaired = fix(arguments, result, out) if out else None
    if arguments.json:
        document = result.to_dict()
        if out:
            document["repair"] = repaired.to_dict() if repaired else None
        print(json.dumps(document, indent=2))
    else:
        print(result.text())
        if out:
            from kerasce.diagnose.table import repair_text

            print("\n" + repair_text(repaired, out))
    return ExitCode.FAILURE if arguments.strict and result.clipped else ExitCode.OK


def fix(arguments, result, out: Path):
    """The repaired model written to `out` (None when nothing needs repairing)."""
    from kerasce.diagnose.auditing import PRECISIONS, audit
    from kerasce.diagnose.loading import load_data, load_model_file
    from kerasce.diagnose.repair import needs_repair, random_features, write_repair

    if not any(needs_repair(head) for head in result.heads):
        return None
    model = load_model_file(arguments.model)
    if arguments.data:
        features, checked = load_data(arguments.data, model, result.heads)[0], f"the {arguments.data} inputs"
    else:
        features, checked = random_features(model), "64 seeded random inputs"

    def reaudit(path):
        return audit(path, backends=True, precisions=PRECISIONS, imports=tuple(arguments.imports)).rows

    return write_repair(model, result.heads, out, features, checked, reaudit)


def _import_framework() -> None:
    """Keras, imported on use (--help starts no framework); TensorFlow without its start-up lines."""
    import os

    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        from kerasce.framework import import_keras_quietly

        import_keras_quietly()


if __name__ == "__main__":
    exit_command(main())
