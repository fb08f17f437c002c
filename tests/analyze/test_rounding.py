"""Numbers rounded to the digits their interval supports."""

import math

from kerasce.analyze.rounding import decimals_for, format_estimate, format_interval, rounded


def test_two_significant_digits_of_the_half_width_set_the_decimals():
    assert decimals_for(0.11) == 2 and decimals_for(0.0095) == 4 and decimals_for(12.7) == 0
    assert decimals_for(0.0) is None and decimals_for(math.nan) is None


def test_estimates_drop_the_digits_the_interval_does_not_support():
    assert format_estimate(0.2162, 0.11) == "0.22 ± 0.11"
    assert format_estimate(0.9417, 0.028) == "0.942 ± 0.028"
    assert format_estimate(0.2162, math.nan) == "0.2162"  # one seed: no interval, four digits
    assert format_estimate(0.0, 0.0) == "0 ± 0"  # every seed alike
    assert format_estimate(math.nan, 0.1) == "-"


def test_intervals_are_signed_and_rounded_alike():
    assert format_interval(0.006142, -0.00323, 0.0155) == "+0.0061 [-0.0032, +0.0155]"
    assert format_interval(2.0, -10.7, 14.7) == "+2 [-11, +15]"
    assert format_interval(0.5, math.nan, math.nan) == "+0.5"


def test_tiny_values_switch_to_scientific_notation():
    assert rounded(1.2345e-9, 3.2e-10, sign=True) == "+1.23e-09"  # to the 1e-11s, as 0.32e-9 supports
    assert format_interval(2.5e-9, 1e-9, 4e-9) == "+2.5e-09 [+1.0e-09, +4.0e-09]"
    assert rounded(1.23456e-5) == "1.235e-05"
