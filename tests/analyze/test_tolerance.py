"""The tolerance rule on hand-made pairs: exact zeros, float rounding, effects, too few pairs."""

import math

import numpy as np
import pytest

from kerasce.analyze.tolerance import (
    RELATIVE_TOLERANCE,
    Difference,
    classify,
    metric_scale,
    one_sided,
    zero_class,
)

NO_INTERVAL = (math.nan, math.nan)


def test_exact_zeros_are_identical():
    assert classify(np.zeros(3), 0.05, 0.0, 0.0) == Difference.IDENTICAL
    assert (
        classify(np.array([0.0, np.nan, -0.0]), 0.0, *NO_INTERVAL) == Difference.IDENTICAL
    )  # NaN pairs left out


def test_differences_below_a_millionth_of_the_scale_are_float_rounding():
    scale = 0.05
    tiny = np.array([1e-9, -3e-9, 4.9e-8])  # the largest is just under 1e-6 x 0.05
    assert classify(tiny, scale, 1.0, 2.0) == Difference.ROUNDING  # even with an interval off 0
    just_over = np.array([1e-9, 5.1e-8])
    assert classify(just_over, scale, 1e-9, 5e-8) == Difference.DIFFERS


def test_beyond_the_tolerance_the_interval_decides():
    differences = np.array([0.01, 0.02, 0.03])
    assert classify(differences, 0.05, 0.005, 0.035) == Difference.DIFFERS
    assert classify(differences, 0.05, -0.01, 0.05) == Difference.NOT_DETECTED
    assert classify(np.array([0.01]), 0.05, *NO_INTERVAL) == Difference.TOO_FEW
    assert classify(np.array([]), 0.05, *NO_INTERVAL) == Difference.TOO_FEW


def test_a_zero_scale_leaves_only_exact_zeros():
    assert zero_class(np.array([1e-300]), 0.0) is None
    assert zero_class(np.array([0.0]), 0.0) == Difference.IDENTICAL


def test_the_scale_is_the_larger_of_the_seed_spread_and_the_magnitude():
    # seed spread of [1, 3] is sqrt(2); magnitude 2
    assert metric_scale(np.array([1.0, 3.0])) == pytest.approx(2.0)
    # spread sqrt(200) beats the magnitude 10
    assert metric_scale(np.array([0.0, 20.0])) == pytest.approx(math.sqrt(200))
    # a constant reference (every seed alike): its magnitude
    assert metric_scale(np.array([0.9, 0.9, 0.9])) == pytest.approx(0.9)
    assert metric_scale(np.array([np.nan, np.nan])) == 0.0


def test_the_scale_of_curves_is_the_mean_over_points():
    # rows: seeds; columns: epochs. Spreads per epoch sqrt(2) and 0; magnitudes 2 and 5 -> 3.5
    curves = np.array([[1.0, 5.0], [3.0, 5.0]])
    assert metric_scale(curves) == pytest.approx(3.5)
    assert RELATIVE_TOLERANCE == 1e-6


def test_zero_classes_need_nothing_to_show():
    assert Difference.IDENTICAL.is_zero and Difference.ROUNDING.is_zero
    assert not Difference.DIFFERS.is_zero and not Difference.NOT_DETECTED.is_zero


def test_a_pair_finite_on_one_side_only_differs_whatever_the_rest():
    assert classify(np.zeros(2), 0.05, 0.0, 0.0, one_sided_pairs=1) == Difference.DIFFERS
    assert classify(np.zeros(2), 0.05, 0.0, 0.0) == Difference.IDENTICAL


def test_one_sided_pairs_are_counted_per_pair():
    # scalars: inf against a number counts, NaN on both sides does not
    assert one_sided(np.array([1.0, np.inf, np.nan]), np.array([1.0, 2.0, np.nan])) == 1
    # curves (pairs x epochs): a run that stopped early (NaN padding) and an infinite point
    runs = np.array([[1.0, 0.5, np.nan], [np.inf, 0.4, 0.3], [1.0, 0.5, 0.2]])
    references = np.array([[1.0, 0.5, 0.2], [0.9, 0.4, 0.3], [1.0, 0.5, 0.2]])
    assert one_sided(runs, references) == 2
    assert one_sided(np.empty((0, 3)), np.empty((0, 3))) == 0
