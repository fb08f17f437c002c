"""When a paired difference is a difference: the rule every comparison output applies, in one place.

Each wiring is compared with its reference on the same seeds; the differences (wiring minus
reference, one per seed, or one per seed and point of a curve) fall into one of five classes:

- differs, first of all, when a pair is finite on one side only (the wiring's loss is infinite or
  NaN where its reference's is not, or a curve stops early): such a pair has no difference to
  average, and leaving it out silently would make a breaking wiring look like its reference;
- identical: every difference is exactly 0;
- ≈ 0 (float rounding): every |difference| is at most RELATIVE_TOLERANCE times the metric's scale;
- differs: otherwise, and the 95% interval of the mean difference excludes 0;
- no detectable difference: otherwise, and the interval includes 0;
- too few pairs: otherwise, with fewer than two finite pairs (no interval).

Pairs non-finite on both sides (a metric neither run has) are left out.

The metric's scale is the larger of the reference's seed-to-seed spread (standard deviation over
seeds) and its magnitude (mean |value|): float rounding errors grow with the magnitude of the
numbers computed, and a millionth of the spread is far below anything a seed can show.
docs/compare.md writes the rule down for users.
"""

import math
from enum import StrEnum

import numpy as np

RELATIVE_TOLERANCE = 1e-6


class Difference(StrEnum):
    """How a wiring compares with its reference on one metric (or one curve)."""

    IDENTICAL = "identical"
    ROUNDING = "≈ 0 (float rounding)"
    DIFFERS = "differs"
    NOT_DETECTED = "no detectable difference"
    TOO_FEW = "too few pairs"

    @property
    def is_zero(self) -> bool:
        """Identical or within the rounding tolerance: nothing to show."""
        return self in (Difference.IDENTICAL, Difference.ROUNDING)


def metric_scale(reference: np.ndarray) -> float:
    """The scale of a metric from its reference values: rows are seeds, columns points (one
    column for a scalar metric). The larger of the mean seed spread and the mean magnitude;
    NaN values are left out, and 0 when nothing is finite."""
    values = np.atleast_2d(np.asarray(reference, dtype=float).T).T  # a vector is one column
    values = np.where(np.isfinite(values), values, np.nan)
    if not np.isfinite(values).any():
        return 0.0
    magnitude = float(np.nanmean(np.abs(values)))
    counts = np.isfinite(values).sum(axis=0)
    spreads = [np.nanstd(column, ddof=1) for column, n in zip(values.T, counts, strict=True) if n > 1]
    spread = float(np.mean(spreads)) if spreads else 0.0
    return max(spread, magnitude)


def tolerance(scale: float) -> float:
    return RELATIVE_TOLERANCE * scale if math.isfinite(scale) else 0.0


def zero_class(differences: np.ndarray, scale: float) -> Difference | None:
    """IDENTICAL or ROUNDING when the finite differences are exactly or negligibly 0, else None."""
    finite = np.asarray(differences, dtype=float).ravel()
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return None
    if np.all(finite == 0):
        return Difference.IDENTICAL
    if np.max(np.abs(finite)) <= tolerance(scale):
        return Difference.ROUNDING
    return None


def one_sided(values: np.ndarray, references: np.ndarray) -> int:
    """The pairs (rows; a vector is one value per pair) with a point finite on one side only."""
    values, references = (np.asarray(a, dtype=float) for a in (values, references))
    mismatched = np.isfinite(values) != np.isfinite(references)
    return int(mismatched.reshape(len(mismatched), -1).any(axis=1).sum()) if mismatched.size else 0


def classify(
    differences: np.ndarray, scale: float, ci_low: float, ci_high: float, one_sided_pairs: int = 0
) -> Difference:
    """The class of paired differences (NaN ones left out) given the metric's scale, the 95%
    interval of their mean (NaN bounds: no interval) and the count of pairs finite on one side."""
    if one_sided_pairs:
        return Difference.DIFFERS
    zero = zero_class(differences, scale)
    if zero is not None:
        return zero
    if math.isnan(ci_low) or math.isnan(ci_high):
        return Difference.TOO_FEW
    return Difference.DIFFERS if ci_low > 0 or ci_high < 0 else Difference.NOT_DETECTED
