"""A comparison as files: each format parses, and the HTML page is self-contained."""

import pandas as pd

from kerasce.analyze.outputs import comparison_texts, write_outputs


def test_formats_write_what_they_name(tmp_path):
    table = pd.DataFrame({"formulation": ["a"], "test_loss_mean": [0.5]})
    shown = pd.DataFrame({"formulation": ["a"], "test_loss": ["0.5 (n=1)"]})
    texts = comparison_texts("t", table, shown, ["a note"], {"x.png": b"\x89PNG"})
    assert "a note" in texts["comparison.html"] and "data:image/png;base64," in texts["comparison.html"]
    assert write_outputs(tmp_path / "csv", "csv", texts, {}) == ["comparison.csv"]
    assert pd.read_csv(tmp_path / "csv" / "comparison.csv").equals(table)
    written = write_outputs(tmp_path / "all", "table", texts, {"x.png": b"\x89PNG"})
    assert sorted(written) == ["comparison.csv", "comparison.html", "comparison.md", "x.png"]
