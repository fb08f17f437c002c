"""A comparison as files: the numeric CSV, the readable Markdown, and one self-contained HTML page."""

import base64
from pathlib import Path

import pandas as pd

FORMATS = {
    "table": ["comparison.csv", "comparison.md", "comparison.html"],
    "csv": ["comparison.csv"],
    "markdown": ["comparison.md"],
    "html": ["comparison.html"],
}


def comparison_texts(title: str, table: pd.DataFrame, shown: pd.DataFrame, notes: list, images: dict) -> dict:
    """{file name: text} of every format."""
    return {
        "comparison.csv": table.to_csv(index=False),
        "comparison.md": shown.to_markdown(index=False),
        "comparison.html": html_page(title, shown, notes, images),
    }


def write_outputs(directory: Path, chosen: str, texts: dict, images: dict) -> list[str]:
    """Write the chosen format (all of them for "table") and the figures; returns the file names."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in FORMATS[chosen]:
        (directory / name).write_text(texts[name])
    for name, png in images.items():
        (directory / name).write_bytes(png)
    return FORMATS[chosen] + list(images)


def html_page(title: str, shown: pd.DataFrame, notes: list[str], images: dict) -> str:
    """One self-contained page: the table and the figures embedded as data URIs."""
    figures = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></figure>'
        for name, png in images.items()
    )
    notes_html = "".join(f"<li>{note}</li>" for note in notes)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:90%}"
        "td,th{border:1px solid #ccc;padding:4px 8px}img{max-width:100%}</style></head><body>"
        f"<h1>{title}</h1><ul>{notes_html}</ul>{shown.to_html(index=False)}<h2>Figures</h2>{figures}"
        "</body></html>"
    )
