"""Overlaid comparison figures render with one line per group."""

import numpy as np
import pandas as pd

from kerasce.analyze.comparison_figures import (
    loss_band_figure,
    overlaid_pr_figure,
    overlaid_reliability_figure,
)


def test_one_line_per_group():
    recall = np.linspace(0, 1, 5)
    pr = overlaid_pr_figure(recall, {"a": np.ones(5), "b": np.linspace(1, 0.5, 5)}, "PR")
    assert len(pr.axes[0].lines) == 2
    table = pd.DataFrame({"mean_confidence": [0.6, 0.9], "accuracy": [0.5, 0.95]})
    reliability = overlaid_reliability_figure({"a": table, "b": None}, "R")
    assert len(reliability.axes[0].lines) == 2  # the diagonal and group a (b has no table)
    history = pd.DataFrame({"epoch": [0, 1], "mean": [1.0, 0.5], "std": [0.1, np.nan]})
    assert len(loss_band_figure({"a": history}, "val_loss", "L").axes[0].lines) == 1
