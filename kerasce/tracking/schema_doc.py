"""docs/records.md's tables, rendered from tracking/schema.py (`make docs`).

The page's prose is written by hand; each table sits between `<!-- generated: NAME -->` and
`<!-- end generated -->` and is replaced by the rendering of that name, so a tag, metric or
artifact added to the schema appears on the page, and one without a meaning stops the rendering.
Plain Python: no Keras, no MLflow.
"""

import argparse
import re
import sys
from pathlib import Path

from kerasce.command import exit_command, run_command
from kerasce.errors import ExitCode, KerasceError
from kerasce.tracking import schema
from kerasce.vocabulary import LossPath, NanStatus

PAGE = Path(__file__).resolve().parents[2] / "docs" / "records.md"
REGION = re.compile(r"(<!-- generated: (\w+) -->\n).*?(<!-- end generated -->)", re.S)
# Tags whose values are a vocabulary: the table lists each value with its meaning.
TAG_VALUES = {schema.Tag.LOSS_PATH: LossPath, schema.Tag.NAN_STATUS: NanStatus}


class SchemaDocError(KerasceError):
    """The schema and its meanings disagree, or the page lacks a region."""


def names_of(namespace) -> list[str]:
    """The stored names a schema class defines, in definition order."""
    return [value for key, value in vars(namespace).items() if key.isupper() and isinstance(value, str)]


def table(header: tuple[str, str], rows) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| `{name}` | {meaning.replace('|', chr(92) + '|')} |" for name, meaning in rows]
    return "\n".join(lines) + "\n"


def described(names, meanings: dict, what: str) -> list[tuple[str, str]]:
    missing = [name for name in names if name not in meanings]
    if missing:
        raise SchemaDocError(f"{what} without a meaning in kerasce/tracking/schema.py: {', '.join(missing)}")
    return [(name, meanings[name]) for name in names]


def tag_rows() -> list[tuple[str, str]]:
    rows = []
    for name, meaning in described(names_of(schema.Tag), schema.TAG_MEANINGS, "tags"):
        if name in TAG_VALUES:
            meaning += ": " + "; ".join(f"`{value}` ({value.meaning})" for value in TAG_VALUES[name])
        elif name == schema.Tag.KIND:
            meaning += ": " + "; ".join(f"`{kind}` ({text})" for kind, text in kind_rows())
        rows.append((name + "<package>" if name == schema.Tag.VERSION else name, meaning))
    return rows


def kind_rows() -> list[tuple[str, str]]:
    return described(names_of(schema.Kind), schema.KIND_MEANINGS, "run kinds")


def run_metric_rows() -> list[tuple[str, str]]:
    names = [name for name in names_of(schema.Metric) if not name.endswith("_")]  # the prefixes
    return described(names, schema.METRIC_MEANINGS, "run metrics")


def artifact_rows() -> list[tuple[str, str]]:
    return described(names_of(schema.Artifact), schema.ARTIFACT_MEANINGS, "artifacts")


SECTIONS = {
    "tags": lambda: table(("tag", "meaning"), tag_rows()),
    "epoch_metrics": lambda: table(("metric", "meaning"), schema.EPOCH_METRIC_MEANINGS.items()),
    "run_metrics": lambda: table(("metric", "meaning"), run_metric_rows()),
    "test_metrics": lambda: table(("metric", "meaning"), schema.TEST_METRIC_MEANINGS.items()),
    "artifacts": lambda: table(("artifact", "what it holds"), artifact_rows()),
}


def render(page_text: str) -> str:
    """The page with every generated region replaced by its current rendering."""
    found = {match.group(2) for match in REGION.finditer(page_text)}
    unknown, absent = found - SECTIONS.keys(), SECTIONS.keys() - found
    if unknown or absent:
        raise SchemaDocError(f"regions unknown: {sorted(unknown)}, missing: {sorted(absent)}")
    return REGION.sub(lambda m: m.group(1) + "\n" + SECTIONS[m.group(2)]() + "\n" + m.group(3), page_text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kerasce.tracking.schema_doc",
        description="Rewrite the tables of docs/records.md from kerasce/tracking/schema.py.",
    )
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to rewrite (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not up to date")
    arguments = parser.parse_args(argv)
    return run_command("schema_doc", lambda: rewrite(arguments.page, arguments.check))


def rewrite(page: Path, check: bool) -> int:
    current = page.read_text()
    wanted = render(current)
    if check:
        if wanted == current:
            return ExitCode.OK
        print(f"{page} is out of date: run `make docs`", file=sys.stderr)
        return ExitCode.FAILURE
    page.write_text(wanted)
    print(f"wrote {page}")
    return ExitCode.OK


if __name__ == "__main__":
    exit_command(main())
