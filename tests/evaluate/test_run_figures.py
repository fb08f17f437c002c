"""A run's figures: built from tables and arrays, rendered to PNG bytes for the record."""

import math

import numpy as np
import pandas as pd

from kerasce.evaluate.metrics import reliability_table
from kerasce.evaluate.run_figures import (
    IntuitionGrids,
    intuition_figures,
    logit_views,
    png_bytes,
    pr_curve_figure,
    reliability_figure,
)


def test_logit_views_are_exact_distributions_and_losses():
    logits, labels = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]), np.array([0, 2])
    views = logit_views(logits, labels)
    np.testing.assert_allclose(views["probabilities"].sum(axis=1), 1.0)
    np.testing.assert_allclose(views["losses"][1], math.log(3))
    single = logit_views(np.array([[0.0]]), np.array([1]))  # one sigmoid unit: p = 0.5
    np.testing.assert_allclose(single["probabilities"], [[0.5, 0.5]])


def test_every_figure_renders_to_png():
    curve = pd.DataFrame(
        {"class": "1", "threshold": [0.5, np.nan], "precision": [1.0, 1.0], "recall": [1.0, 0.0]}
    )
    labels = np.array([0, 1, 1, 0])
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4]])
    views = logit_views(np.log(probabilities), labels)
    figures = [
        pr_curve_figure(curve, "PR", {"1": 1.0}),
        reliability_figure(reliability_table(labels, probabilities), "R", 0.1),
        *intuition_figures(views, views, ("0", "1"), math.log(2)).values(),
    ]
    assert all(png_bytes(figure)[:4] == b"\x89PNG" for figure in figures)


def test_intuition_figures_have_a_row_per_present_class_untrained_beside_trained():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(12), 5)
    labels = labels[labels != 3]  # class 3 has no test sample: no row for it
    views = logit_views(rng.normal(size=(len(labels), 12)), labels)
    names = tuple(f"c{k}" for k in range(12))
    figures = intuition_figures(views, views, names, math.log(12))
    assert set(figures) == {
        "intuition_logits.png",
        "intuition_softmax_boxes.png",
        "intuition_log_softmax_boxes.png",
        "intuition_losses.png",
    }
    histogram_titles = [axis.get_title() for axis in figures["intuition_logits.png"].axes]
    assert len(histogram_titles) == 20  # ten classes at most, a panel per stage
    assert histogram_titles[:2] == ["untrained: true class 'c0'", "trained: true class 'c0'"]
    boxes = figures["intuition_softmax_boxes.png"]
    box_titles = [axis.get_title() for axis in boxes.axes]
    assert len(box_titles) == 10 and box_titles[0] == "true class 'c0'"  # both stages in one panel
    assert [text.get_text() for text in boxes.legends[0].get_texts()] == ["untrained", "trained"]
    assert not any("'c3'" in title for title in histogram_titles + box_titles)
    loss_axis = figures["intuition_losses.png"].axes[0]
    assert any("ln C" in text.get_text() for text in loss_axis.get_legend().get_texts())


def _views(seed: int):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), 8)
    before = logit_views(rng.normal(size=(24, 3)) * 0.1, labels)
    after = logit_views(rng.normal(size=(24, 3)) * (seed + 2) + 5 * np.eye(3)[labels], labels)
    return before, after, ("a", "b", "c"), math.log(3)


def test_a_reused_per_class_grid_draws_exactly_what_a_new_one_draws():
    first_alone, second_alone = (IntuitionGrids().render(*_views(seed)) for seed in (0, 1))
    assert first_alone != second_alone
    fresh = {name: png_bytes(f) for name, f in intuition_figures(*_views(0)).items()}
    assert fresh == first_alone
    # The second run's grids reuse the first run's panels: nothing of the first may show through.
    grids = IntuitionGrids()
    assert grids.render(*_views(0)) == first_alone
    assert grids.render(*_views(1)) == second_alone
    assert len(grids.kept) == 3  # logits, softmax and log-softmax grids, each kept once
