"""One number format for people: percent, one decimal (two below 1%).

JSON carries raw floats; everything a person reads (terminal, page, report, plots) goes through
:func:`percent`, so 0.2770 never reads 27.70% in one place and 0.277 in another.

>>> percent(0.27699999), percent(0.0036), percent(0.00001), percent(0.0), percent(0.1125)
('27.7%', '0.36%', '<0.01%', '0%', '11.3%')
>>> percent_interval(0.13, 0.365)
'13.0-36.5%'
"""

from __future__ import annotations

from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal

__all__ = ["percent", "percent_interval", "points"]


def percent(p: float) -> str:
    """``p`` (a probability) as a percentage for people."""
    if p != p:  # NaN: a value that does not exist (e.g. a reduction of nothing)
        return "-"
    if p == 0:
        return "0%"
    if abs(p) < 5e-5:
        return "<0.01%" if p > 0 else ">-0.01%"
    digits = 2 if abs(p) < 0.01 else 1
    return f"{_fixed(100 * p, digits)}%"


def _fixed(x: float, digits: int) -> str:
    """``x`` with ``digits`` decimals, a tie rounded up as the page's JavaScript does
    (``Number.toFixed``: 11.25 -> 11.3, where Python's format would give 11.2), so the page and
    the command line print the same number."""
    exact = Decimal(x)  # the double's exact value, as toFixed sees it
    mode = ROUND_HALF_UP if x >= 0 else ROUND_HALF_DOWN
    return str(exact.quantize(Decimal(1).scaleb(-digits), rounding=mode))


def percent_interval(low: float, high: float) -> str:
    """An interval of probabilities, ``13.0-36.5%``."""
    lo, hi = percent(low), percent(high)
    return f"{lo.rstrip('%')}-{hi}"


def points(d: float) -> str:
    """A difference of probabilities in percentage points, signed."""
    return f"{100 * d:+.1f} pp" if abs(d) >= 0.01 or d == 0 else f"{100 * d:+.2f} pp"
