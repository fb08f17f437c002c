"""Curves of differences: the interval by hand, the figure's drawn data on hand-made curves, and
the curves of a small real grid against the runs' own tables."""

import math

import numpy as np
import pandas as pd
import pytest

from kerasce.analyze.comparison import RECALL_GRID, RunCurves, finished_cells, read_curves
from kerasce.analyze.comparison_figures import difference_figure
from kerasce.analyze.differences import (
    LOSS,
    PR,
    CurveDifference,
    curve_difference,
    differences_by_setting,
    pointwise_interval,
)
from kerasce.analyze.tolerance import Difference
from kerasce.tracking.reader import StoreReader
from kerasce.tracking.schema import Artifact

X = np.arange(3.0)


def curve(name, mean, zero=None, reference="logits_ce"):
    mean = np.asarray(mean, dtype=float)
    return CurveDifference(name, reference, X, mean, mean - 0.1, mean + 0.1, 2, zero)


def drawn(axis) -> dict:
    return {line.get_label(): line.get_ydata().tolist() for line in axis.lines if line.get_label() != "_zero"}


def test_pointwise_interval_by_hand():
    # column 0: 1, 2, 3 -> mean 2, sd 1, half t(0.975, 2) / sqrt(3); column 1: one finite value
    mean, low, high = pointwise_interval(np.array([[1.0, np.nan], [2.0, 5.0], [3.0, np.nan]]))
    half = 4.302652729911275 / math.sqrt(3)
    assert mean.tolist() == [2.0, 5.0]
    assert low[0] == pytest.approx(2 - half) and high[0] == pytest.approx(2 + half)
    assert math.isnan(low[1]) and math.isnan(high[1])


def test_wirings_equal_to_their_reference_are_listed_not_drawn():
    settings = {
        (("precision", "mixed_float16"),): {
            LOSS: [
                curve("softmax_ce", [0.1, 0.05, 0.01]),
                curve("clipped_softmax_ce", [0.1, 0.05, 0.01]),  # the very same curve: one line
                curve("log_softmax_nll", [0.0, 0.0, 0.0], Difference.IDENTICAL),
                curve("naive_softmax_ce", [1e-9, 0, 0], Difference.ROUNDING),
            ],
            PR: [curve("softmax_ce", [0.0, -0.02, -0.05])],
        }
    }
    figure = difference_figure(settings, "digits")
    loss, precision = figure.axes
    assert drawn(loss) == {"clipped_softmax_ce = softmax_ce": [0.1, 0.05, 0.01]}
    title = loss.get_title(loc="left")
    assert "not drawn, identical: log_softmax_nll" in title
    assert "not drawn, ≈ 0 (float rounding): naive_softmax_ce" in title
    assert drawn(precision) == {"softmax_ce": [0.0, -0.02, -0.05]}
    band = precision.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(-0.15) and band.max() == pytest.approx(0.1)


def test_a_setting_where_every_wiring_equals_its_reference_gets_a_line_not_a_row():
    identical = {LOSS: [curve("softmax_ce", [0, 0, 0], Difference.IDENTICAL)], PR: []}
    differing = {LOSS: [curve("softmax_ce", [0.1, 0.0, 0.0])], PR: [curve("softmax_ce", [0.0, 0.1, 0.0])]}
    figure = difference_figure(
        {(("precision", "float32"),): identical, (("precision", "mixed_float16"),): differing}, "digits"
    )
    assert len(figure.axes) == 2  # one row: mixed_float16
    assert "mixed_float16" in figure.axes[0].get_title(loc="left")
    footer = " ".join(text.get_text() for text in figure.texts)
    assert "precision = float32: every wiring has its reference's curves (identical: softmax_ce)" in footer


@pytest.mark.slow
def test_the_curves_of_a_real_grid_are_each_wiring_minus_its_twin(precision_store):
    reader = StoreReader(precision_store)
    runs = finished_cells(reader.runs(["precisions"]))
    keys = ["formulation", "precision"]
    settings = differences_by_setting(read_curves(reader, runs), runs, keys, "twin")["digits"]
    float32, mixed = settings[(("precision", "float32"),)], settings[(("precision", "mixed_float16"),)]
    # float32: Keras recovers the logits, so softmax_ce trains exactly like logits_ce
    assert [(d.formulation, d.reference, d.zero) for d in float32[LOSS]] == [
        ("softmax_ce", "logits_ce", Difference.IDENTICAL)
    ]
    assert float32[PR][0].zero == Difference.IDENTICAL
    (loss,) = mixed[LOSS]
    assert loss.zero is None and loss.n_pairs == 2
    by_hand = []
    for seed in ("0", "1"):

        def val_loss(formulation, seed=seed):
            chosen = runs[
                (runs["params.formulation"] == formulation)
                & (runs["params.precision"] == "mixed_float16")
                & (runs["params.seed"] == seed)
            ]
            return reader.table(chosen["run_id"].iloc[0], Artifact.HISTORY)["val_loss"].to_numpy()

        by_hand.append(val_loss("softmax_ce") - val_loss("logits_ce"))
    assert loss.mean == pytest.approx(np.mean(by_hand, axis=0), abs=0)
    assert loss.x.tolist() == [0.0, 1.0]
    # the figure draws exactly those numbers; float32 is a line under the panels
    figure = difference_figure(settings, "digits")
    assert len(figure.axes) == 2 and drawn(figure.axes[0]) == {"softmax_ce": loss.mean.tolist()}
    assert "identical: softmax_ce" in " ".join(text.get_text() for text in figure.texts)


def test_points_finite_on_one_side_only_are_named_on_the_panel():
    # seed 1's wiring has an infinite first validation loss and stops after two epochs
    losses = {"w0": [1.0, 0.5, 0.25], "w1": [np.inf, 0.5], "r0": [1.0, 0.5, 0.25], "r1": [1.0, 0.5, 0.25]}
    curves = {
        run: RunCurves(np.zeros(len(RECALL_GRID)), pd.Series(loss, index=range(len(loss))), None)
        for run, loss in losses.items()
    }
    pairs = pd.DataFrame(
        {"run_id": ["w0", "w1"], "partner_id": ["r0", "r1"], "reference": "logits_ce"}
    ).assign(**{"params.formulation": "naive_softmax_ce"})
    loss = curve_difference(curves, pairs, LOSS)
    assert loss.one_sided == 1 and loss.zero is None  # the equal points do not make it identical
    assert loss.mean.tolist() == [0.0, 0.0, 0.0]  # the finite differences, drawn
    assert curve_difference(curves, pairs, PR).zero == Difference.IDENTICAL
    figure = difference_figure({(): {LOSS: [loss], PR: []}}, "digits")
    assert "left out where finite on one side only: naive_softmax_ce (1 of 2 pairs)" in figure.axes[
        0
    ].get_title(loc="left")
