"""A comparison as files: each format parses, and the HTML page is self-contained."""

import pandas as pd

from kerasce.analyze.outputs import comparison_texts, write_outputs


def test_formats_write_what_they_name(tmp_path):
    table = pd.DataFrame({"formulation": ["a"], "test_loss_mean": [0.5]})
    shown = pd.DataFrame({"formulation": ["a"], "test_loss": ["0.5 (n=1)"]})
    texts = comparison_texts("t", table, shown, ["a note"], {"x.png": b"\x89PNG"})
    assert "a note" in texts["comparison.html"] and "data:image/png;base64," in texts["comparison.html"]
    assert write_outputs(tmp_path / "csv", "csv", texts, {}) == ["comparison.csv", "paired.csv"]
    assert pd.read_csv(tmp_path / "csv" / "comparison.csv").equals(table)
    written = write_outputs(tmp_path / "all", "table", texts, {"x.png": b"\x89PNG"})
    assert sorted(written) == ["comparison.csv", "comparison.html", "comparison.md", "paired.csv", "x.png"]


def test_the_paired_table_is_in_every_format():
    table = pd.DataFrame({"formulation": ["a"], "test_loss_mean": [0.5]})
    shown = pd.DataFrame({"formulation": ["a"], "test_loss": ["0.5 (n=1)"]})
    paired = pd.DataFrame({"formulation": ["a"], "reference": ["b"], "test_loss_diff_mean": [0.1]})
    paired_shown = pd.DataFrame({"formulation": ["a"], "reference": ["b"], "Δ test_loss": ["+0.1 (n=2)"]})
    texts = comparison_texts("t", table, shown, [], {}, paired, paired_shown)
    assert "Paired differences" in texts["comparison.html"] and "+0.1 (n=2)" in texts["comparison.html"]
    assert "+0.1 (n=2)" in texts["comparison.md"] and "test_loss_diff_mean" in texts["paired.csv"]
