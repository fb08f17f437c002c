"""A comparison as files: the numeric CSV, the readable Markdown, and one self-contained HTML page."""

import base64
from pathlib import Path

import pandas as pd

FORMATS = {
    "table": ["comparison.csv", "comparison.md", "comparison.html", "paired.csv"],
    "csv": ["comparison.csv", "paired.csv"],
    "markdown": ["comparison.md"],
    "html": ["comparison.html"],
}
PAIRED_INTRO = "Paired: each wiring minus its reference on the same seed: mean [95% interval] (n, Wilcoxon p)"


def comparison_texts(title, table, shown, notes, images, paired=None, paired_shown=None) -> dict:
    """{file name: text} of every format; the paired table is beside the aggregate in each."""
    paired = pd.DataFrame() if paired is None else paired
    paired_shown = pd.DataFrame() if paired_shown is None else paired_shown
    markdown = shown.to_markdown(index=False)
    if not paired_shown.empty:
        markdown += f"\n\n{PAIRED_INTRO}\n\n{paired_shown.to_markdown(index=False)}"
    return {
        "comparison.csv": table.to_csv(index=False),
        "paired.csv": paired.to_csv(index=False),
        "comparison.md": markdown,
        "comparison.html": html_page(title, shown, notes, images, paired_shown),
    }


def write_outputs(directory: Path, chosen: str, texts: dict, images: dict) -> list[str]:
    """Write the chosen format (all of them for "table") and the figures; returns the file names."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in FORMATS[chosen]:
        (directory / name).write_text(texts[name])
    for name, png in images.items():
        (directory / name).write_bytes(png)
    return FORMATS[chosen] + list(images)


def html_page(title: str, shown: pd.DataFrame, notes: list[str], images: dict, paired_shown=None) -> str:
    """One self-contained page: the tables and the figures embedded as data URIs."""
    figures = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></figure>'
        for name, png in images.items()
    )
    notes_html = "".join(f"<li>{note}</li>" for note in notes)
    paired_html = (
        f"<h2>Paired differences</h2><p>{PAIRED_INTRO}</p>{paired_shown.to_html(index=False)}"
        if paired_shown is not None and not paired_shown.empty
        else ""
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:90%}"
        "td,th{border:1px solid #ccc;padding:4px 8px}img{max-width:100%}</style></head><body>"
        f"<h1>{title}</h1><ul>{notes_html}</ul>{shown.to_html(index=False)}{paired_html}"
        f"<h2>Figures</h2>{figures}</body></html>"
    )
