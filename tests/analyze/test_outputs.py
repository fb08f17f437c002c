"""A comparison as files and as terminal lines: each format parses and starts with the summary."""

import io

import pandas as pd
from comparisons import hand_made_comparison, hand_made_runs

from kerasce.analyze.outputs import terminal_lines, write_outputs, written_lines
from kerasce.analyze.summary import TERMINAL_WIDTH


def test_formats_write_what_they_name(tmp_path):
    comparison = hand_made_comparison(images={"x.png": b"\x89PNG"})
    texts = comparison.texts
    assert "a note" in texts["comparison.html"] and "data:image/png;base64," in texts["comparison.html"]
    assert write_outputs(tmp_path / "csv", "csv", texts, {}) == ["comparison.csv", "paired.csv"]
    assert len(pd.read_csv(tmp_path / "csv" / "comparison.csv")) == 6
    assert len(pd.read_csv(tmp_path / "csv" / "paired.csv")) == 4
    written = write_outputs(tmp_path / "all", "table", texts, {"x.png": b"\x89PNG"})
    assert sorted(written) == ["comparison.csv", "comparison.html", "comparison.md", "paired.csv", "x.png"]


def test_the_markdown_starts_with_the_summary_then_the_tables():
    markdown = hand_made_comparison().texts["comparison.md"]
    order = [markdown.index(part) for part in ("## Summary", "## Tables", "Paired: each wiring")]
    assert order == sorted(order)
    assert "| **differs** " in markdown and "+0.0110 [+0.0085, +0.0135]" in markdown


def test_without_pairs_the_paired_csv_is_a_header_pandas_reads():
    runs = hand_made_runs()
    comparison = hand_made_comparison(runs[runs["params.formulation"] != "logits_ce"])
    text = comparison.texts["paired.csv"]
    assert len(text) > 1 and text.startswith("formulation,precision,reference,n_pairs")
    assert pd.read_csv(io.StringIO(text)).empty


def test_terminal_lines_fit_and_lead_with_the_summary():
    text = terminal_lines(hand_made_comparison())
    lines = text.splitlines()
    assert max(map(len, lines)) <= TERMINAL_WIDTH
    assert lines[0] == "hand-made: 18 runs in 6 groups" and lines[2] == "In short:"
    assert text.index("In short:") < text.index("Every group: mean ± 95% half-width")


def test_the_written_files_are_named_within_the_width(tmp_path):
    names = [f"dataset_{i}_reliability.png" for i in range(12)]
    lines = written_lines(names, tmp_path).splitlines()
    assert lines[0] == f"wrote to {tmp_path}/:" and len(lines) > 2
    assert max(map(len, lines[1:])) <= TERMINAL_WIDTH and lines[-1].endswith("dataset_11_reliability.png")
