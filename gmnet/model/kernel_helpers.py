"""The scalar helpers a compiled loop's module defines (:mod:`gmnet.model.kernel_source`):
numpy's operations one element at a time, each combination rule's goal and harm factors, and
a calibrated route's offset and slope."""

from __future__ import annotations

__all__ = ["HELPERS", "RULE_HELPERS", "ROUTE_HELPER"]

# Scalar versions of what numpy does element by element, written without branches so that
# LLVM vectorises the loops over the draws; the generated module defines them itself, so that
# numba's disk cache (keyed by that module's source) never holds a stale copy.
HELPERS = """
@numba.njit(inline="always")
def _minimum(a, b):
    # numpy.minimum: NaN if either is NaN, else the smaller
    r = a if not (a > b) else b
    return r if b == b else b


@numba.njit(inline="always")
def _min1(b):
    # _min1(b) for every b (NaN: b), written so that it is one instruction (the
    # x86 minimum returns its second operand when either is NaN): the caps at one
    return 1.0 if 1.0 < b else b


@numba.njit(inline="always")
def _maximum(a, b):
    r = a if not (a < b) else b
    return r if b == b else b
"""

RULE_HELPERS = {
    # gmnet.model.expressions.split_factors and combine, one element at a time
    "expanded_formula": """
@numba.njit(inline="always")
def _goal(g, h, mg, mh, f):
    g0 = g * mg * f
    h0 = h * mh
    both = _min1(g0 * h0)
    return both if h0 > 1.0 else _min1(g0)


@numba.njit(inline="always")
def _harm(g, h, mg, mh, f):
    g0 = g * mg * f
    h0 = h * mh
    both = _min1(g0 * h0)
    return 1.0 if h0 > 1.0 else (both if g0 > 1.0 else h0)


@numba.njit(inline="always")
def _combine(base, factor):
    return _min1(base * factor)
""",
    "relative_risk": """
@numba.njit(inline="always")
def _goal(g, h, mg, mh, f):
    return _min1(g * mg * f)


@numba.njit(inline="always")
def _harm(g, h, mg, mh, f):
    return _min1(h * mh)


@numba.njit(inline="always")
def _combine(base, factor):
    return _min1(base * factor)
""",
    "odds_ratio": """
@numba.njit(inline="always")
def _combine(base, factor):
    odds = base / (1.0 - base) * factor
    p = odds / (1.0 + odds)
    return 1.0 if base >= 1.0 else (0.0 if base <= 0.0 else p)


@numba.njit(inline="always")
def _goal(g, h, mg, mh, f):
    return _combine(g, 1.0 * mg) * f


@numba.njit(inline="always")
def _harm(g, h, mg, mh, f):
    return _combine(h, 1.0 * mh)
""",
}

# a calibrated route's offset and slope at one cell, as numpy computes them
# (gmnet.model.cpts.route_slope): the calibrated route's compiled loop
# (gmnet.model.expression_kernel) and a product-sum's loop both call it
ROUTE_HELPER = """
@numba.njit(inline="always")
def _route(g, d, s):
    d = 0.0 if d < 0.0 else d
    d = 1.0 if d > 1.0 else d
    carried = g / d
    other = (1.0 - g) / (1.0 - d)
    if carried != carried:
        low = other
    elif other != other:
        low = carried
    else:
        low = carried if carried <= other else other
    x = carried if carried <= other * (1.0 + 1e-9) else low
    if math.isnan(x) or math.isinf(x):
        x = 0.0
    x = x * s
    return (0.0 if x == carried else g - x * d), x
"""
