"""A comparison as files: the numeric CSVs, the readable Markdown, and one self-contained HTML page;
and as the lines the command prints. Every rendering starts with the same summary."""

import textwrap
from pathlib import Path

import pandas as pd

from kerasce.analyze.page import comparison_page
from kerasce.analyze.paired import DATASET_KEY
from kerasce.analyze.summary import TERMINAL_WIDTH, markdown_summary, terminal_summary

FORMATS = {
    "table": ["comparison.csv", "comparison.md", "comparison.html", "paired.csv"],
    "csv": ["comparison.csv", "paired.csv"],
    "markdown": ["comparison.md"],
    "html": ["comparison.html"],
}
PAIRED_INTRO = "Paired: each wiring minus its reference on the same seed: mean [95% interval]"
MORE_HINT = "The paired table, the figures and a page: --format html --output DIR (or markdown, csv)"
AGGREGATE_INTRO = "Every group: mean ± 95% half-width over seeds, rounded to the digits the interval supports"


def comparison_texts(comparison) -> dict:
    """{file name: text} of every format for a comparison (kerasce.api.Comparison). The paired
    CSV is a header alone when nothing was paired, so it still reads back as a table."""
    return {
        "comparison.csv": comparison.table.to_csv(index=False),
        "paired.csv": comparison.paired.to_csv(index=False),
        "comparison.md": comparison_markdown(comparison),
        "comparison.html": comparison_page(comparison),
    }


def comparison_markdown(comparison) -> str:
    parts = [
        f"# {comparison.title}",
        "",
        *[f"- {note}" for note in comparison.notes],
        *([""] if comparison.notes else []),
        markdown_summary(comparison.summary, comparison.group_keys),
        "",
        "## Tables",
        "",
        AGGREGATE_INTRO,
        "",
        comparison.shown.to_markdown(index=False),
    ]
    if not comparison.paired_shown.empty:
        parts += ["", PAIRED_INTRO, "", comparison.paired_shown.to_markdown(index=False)]
    return "\n".join(parts) + "\n"


def terminal_lines(comparison) -> str:
    """What the command prints: the title, the summary, then the aggregate table per dataset,
    wrapped into blocks of columns that fit TERMINAL_WIDTH."""
    parts = [comparison.title, "", terminal_summary(comparison.summary, comparison.group_keys), ""]
    parts.append(AGGREGATE_INTRO + ":")
    for heading, shown in aggregate_by_dataset(comparison.shown):
        parts += ["", heading, shown.to_string(index=False, line_width=TERMINAL_WIDTH)]
    return "\n".join(parts + ["", MORE_HINT])


def aggregate_by_dataset(shown: pd.DataFrame):
    """(heading, table) per dataset, without the dataset column and the columns it has no value in."""
    if DATASET_KEY not in shown:
        yield "all runs", shown
        return
    for dataset, rows in shown.groupby(DATASET_KEY, sort=False):
        rows = rows.drop(columns=DATASET_KEY)
        yield str(dataset), rows.loc[:, ~(rows == "-").all()]


def written_lines(names: list[str], directory: Path) -> str:
    """'wrote to DIR/:' and the file names, wrapped to TERMINAL_WIDTH (names and path never cut)."""
    wrapped = textwrap.wrap(
        ", ".join(names), TERMINAL_WIDTH - 2, break_long_words=False, break_on_hyphens=False
    )
    return "\n".join([f"wrote to {directory}/:", *("  " + line for line in wrapped)])


def write_outputs(directory: Path, chosen: str, texts: dict, images: dict) -> list[str]:
    """Write the chosen format (all of them for "table") and the figures; returns the file names."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in FORMATS[chosen]:
        (directory / name).write_text(texts[name])
    for name, png in images.items():
        (directory / name).write_bytes(png)
    return FORMATS[chosen] + list(images)
