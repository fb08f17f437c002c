"""Numbers rounded to the digits their interval supports: two significant digits of the 95%
half-width, and the estimate to the same decimal place ("0.2162 ± 0.11" is shown "0.22 ± 0.11")."""

import math

SIGNIFICANT = 4  # digits of a value shown without an interval
MAX_DECIMALS = 6  # past this, scientific notation keeps the line short


def _finite(*values) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def decimals_for(half: float) -> int | None:
    """Decimal places that keep two significant digits of `half`; None without a usable half-width."""
    if not _finite(half) or half <= 0:
        return None
    return max(0, 1 - math.floor(math.log10(half)))


def rounded(value: float, half: float = math.nan, sign: bool = False) -> str:
    """`value` to the digits `half` supports (SIGNIFICANT digits without one); '+' kept with `sign`."""
    if not _finite(value):
        return str(value)
    plus = "+" if sign else ""
    decimals = decimals_for(half)
    if decimals is None:
        return f"{value:{plus}.{SIGNIFICANT}g}"
    if decimals <= MAX_DECIMALS and abs(value) < 1e6:
        return f"{value:{plus}.{decimals}f}"
    # scientific: as many mantissa digits as there are between the value's and the half's leading digits
    leading = math.floor(math.log10(abs(value))) if value else math.floor(math.log10(half))
    digits = min(max(leading - math.floor(math.log10(half)) + 1, 1), 8)
    return f"{value:{plus}.{digits}e}"


def format_estimate(mean: float, half: float) -> str:
    """'0.22 ± 0.11'; the mean alone (four significant digits) without a half-width."""
    if not _finite(mean):
        return "-"
    if decimals_for(half) is None:
        return rounded(mean) if not _finite(half) else rounded(mean) + " ± 0"
    return f"{rounded(mean, half)} ± {rounded(half, half)}"


def format_interval(mean: float, low: float, high: float) -> str:
    """'+0.012 [+0.004, +0.020]': a signed difference and its interval, rounded alike."""
    if not _finite(mean):
        return "-"
    if not _finite(low, high):
        return rounded(mean, sign=True)
    half = (high - low) / 2
    return f"{rounded(mean, half, True)} [{rounded(low, half, True)}, {rounded(high, half, True)}]"
