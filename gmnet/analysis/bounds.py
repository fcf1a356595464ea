"""Bounds: the least and the greatest value a query can take over every number's declared range.

A worldview dispute should not hinge on the PERT shapes that :mod:`gmnet.analysis.uncertainty`
puts on the ranges. :func:`bounds` answers "how low and how high can this probability be, with
every number anywhere in its declared range?", and names the settings that attain each end.

**When the corners suffice.** A probability of a Bayesian network is, in any single CPT entry,
a ratio of two linear functions (a linear function for a do() query without evidence), so it
is monotone in that entry with the others fixed. A function that is monotone in each of its
arguments separately (whatever the direction, which may depend on the others) takes its
minimum and maximum over a box at corners: move one argument at a time to the better end and
the value never gets worse. So the corners suffice whenever every number enters the query
monotonically - true when each number sits in one CPT entry (times numbers it does not
depend on), and true for the clipped products (``min(1, ...)``) of this project's expressions.
It can fail for a number used in several CPTs, or inside the calibrated route's derived
split; :func:`bounds` therefore also checks each number at interior points of its range with
the others at the extreme corner, and reports any that beats the corner.

**Search.** With d ranged numbers reaching the query and 2**d at most ``max_corners``, every
corner is evaluated (batched): the bounds over the corners are exact. Otherwise a coordinate
search over corners runs from the corner the signs of the point's finite differences suggest
(and from both all-low and all-high corners), flipping the single number that improves most
until none does: a corner no single flip improves, exact for a function monotone in each
number with a fixed direction, and reported as ``exhaustive: False``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from gmnet.analysis.decision_question import BaselineQuestion, baseline_question
from gmnet.errors import InvalidArgumentError
from gmnet.model.network import Network

__all__ = ["Bound", "BoundsResult", "bounds", "MAX_CORNERS"]

MAX_CORNERS = 1 << 16
CHUNK = 1 << 14
TIE = 1e-12


@dataclass(frozen=True)
class Bound:
    """One end: its value and the settings of the ranged numbers that attain it."""

    value: float
    settings: dict[str, float]
    interior_better: dict[str, float]  # number -> interior value beating the corner

    def to_dict(self) -> dict:
        return {"value": self.value, "settings": dict(self.settings),
                "interior_better": dict(self.interior_better)}


@dataclass(frozen=True)
class BoundsResult:
    """The result of :func:`bounds`."""

    network: str
    question: BaselineQuestion
    portfolio: tuple[str, ...]
    point: float
    minimum: Bound
    maximum: Bound
    ranged: tuple[str, ...]
    fixed: tuple[str, ...]  # numbers that reach the query without a range
    inert: tuple[str, ...]  # ranged numbers the query reads that never moved it
    exhaustive: bool
    corners: int
    pert_interval: tuple[float, float] | None
    pert_samples: int
    seed: int | None

    @property
    def corners_suffice(self) -> bool:
        return not self.minimum.interior_better and not self.maximum.interior_better

    def summary(self) -> str:
        q = self.question.text(self.portfolio)
        out = (f"{q}: point {self.point:.4g}; over every declared range "
               f"[{self.minimum.value:.4g}, {self.maximum.value:.4g}]")
        if self.pert_interval is not None:
            out += (f"; PERT 90% interval [{self.pert_interval[0]:.4g}, "
                    f"{self.pert_interval[1]:.4g}]")
        return out

    def to_dict(self) -> dict:
        return {"network": self.network, "question": self.question.text(self.portfolio),
                **self.question.to_dict(), "portfolio": list(self.portfolio),
                "point": self.point, "min": self.minimum.value, "max": self.maximum.value,
                "argmin": self.minimum.settings, "argmax": self.maximum.settings,
                "interior_better": {"min": self.minimum.interior_better,
                                    "max": self.maximum.interior_better},
                "corners_suffice": self.corners_suffice, "exhaustive": self.exhaustive,
                "corners_evaluated": self.corners, "ranged": list(self.ranged),
                "fixed": list(self.fixed), "inert": list(self.inert),
                "pert_interval_90": None if self.pert_interval is None
                else list(self.pert_interval), "pert_samples": self.pert_samples,
                "seed": self.seed, "summary": self.summary(),
                "assumptions": [self.question.held_text(),
                                "every ranged number anywhere in its declared range, the "
                                "others at their points; Critical Unknowns are not ranges "
                                "and are left out (the PERT interval leaves them out too)"]}

    def to_frame(self):
        """One row per ranged number: its range and its value at the argmin and argmax."""
        import pandas as pd

        return pd.DataFrame([{"parameter": n, "at_min": self.minimum.settings[n],
                              "at_max": self.maximum.settings[n]} for n in self.ranged]
                            ).set_index("parameter")


def bounds(network: Network, *, target: str = "harm", state: str = "yes",
           evidence: Mapping[str, str] | None = None, do: Mapping[str, str] | None = None,
           keep_priors: Iterable[str] = (), portfolio: Iterable[str] = (),
           max_corners: int = MAX_CORNERS, interior: int = 5, samples: int = 4000,
           rng: int | None = 0) -> BoundsResult:
    """Exact minimum and maximum of P(target=state | evidence, do(baseline, portfolio)) over
    every ranged number's declared range, beside the PERT 90% interval (``samples`` draws,
    no Critical Unknowns; 0 skips it).

    >>> import gmnet
    >>> b = bounds(gmnet.load_network(), do={"shift_type": "extreme"}, samples=0)
    >>> round(b.point, 3), b.exhaustive, b.minimum.value < b.point < b.maximum.value
    (0.277, True, True)
    """
    from gmnet.inference.batched import plan_query

    if int(max_corners) < 1:
        raise InvalidArgumentError(f"max_corners must be >= 1, got {max_corners}")
    question = baseline_question(network, target=target, state=state, evidence=evidence,
                                 do=do, keep_priors=keep_priors)
    on = tuple(portfolio)
    do_all = question.do_for(on)
    query = plan_query(network, target, evidence=question.evidence, do=do_all)
    s = network.check_state(target, state)
    params = network.parameters
    ranged = tuple(sorted(n for n in query.parameters if params[n].ranged))
    fixed = tuple(sorted(n for n in query.parameters if not params[n].ranged))
    low = np.array([params[n].low for n in ranged], dtype=float)
    high = np.array([params[n].high for n in ranged], dtype=float)
    d = len(ranged)

    def run(bits: np.ndarray) -> np.ndarray:
        """Values at corners given as a (m, d) boolean array (True: high end)."""
        if d == 0:
            return np.full(bits.shape[0], query.run({})[0, s])
        vals = np.where(bits, high, low)
        return query.run({n: vals[:, j] for j, n in enumerate(ranged)})[:, s]

    point = float(query.run({})[0, s])
    inert: tuple[str, ...] = ()
    if d:
        # numbers the CPTs read but that cannot move this answer (e.g. an alarm's sensitivity
        # with its mitigation off): no effect at the point, the all-low or the all-high corner
        mids = np.array([params[n].value for n in ranged], dtype=float)
        moved = np.zeros(d, bool)
        for base in (mids, low, high):
            vals = np.repeat(base[None, :], 2 * d, axis=0)
            vals[np.arange(d), np.arange(d)] = low
            vals[d + np.arange(d), np.arange(d)] = high
            y = query.run({n: vals[:, j] for j, n in enumerate(ranged)})[:, s]
            moved |= np.abs(y[:d] - y[d:]) > TIE
        inert = tuple(n for j, n in enumerate(ranged) if not moved[j])
        keep = moved
        ranged = tuple(n for j, n in enumerate(ranged) if keep[j])
        low, high = low[keep], high[keep]
        d = len(ranged)
    if d <= 62 and (1 << d) <= int(max_corners):
        exhaustive, evaluated = True, 1 << d
        best_lo = (np.inf, None)
        best_hi = (-np.inf, None)
        for start in range(0, 1 << d, CHUNK):
            idx = np.arange(start, min(start + CHUNK, 1 << d))
            bits = ((idx[:, None] >> np.arange(d)[None, :]) & 1).astype(bool)
            y = run(bits)
            i, j = int(np.argmin(y)), int(np.argmax(y))
            if y[i] < best_lo[0]:
                best_lo = (float(y[i]), bits[i])
            if y[j] > best_hi[0]:
                best_hi = (float(y[j]), bits[j])
        lo_bits, hi_bits = best_lo[1], best_hi[1]
    else:
        exhaustive = False
        lo_bits, n1 = _coordinate_search(run, d, -1)
        hi_bits, n2 = _coordinate_search(run, d, +1)
        evaluated = n1 + n2

    def bound(bits: np.ndarray, sign: int) -> Bound:
        value = float(run(bits[None, :])[0])
        better = {}
        if d and interior > 0:
            ts = np.linspace(0, 1, int(interior) + 2)[1:-1]
            rows = []
            for j in range(d):
                for t in ts:
                    rows.append((j, low[j] + t * (high[j] - low[j])))
            vals = np.repeat(np.where(bits, high, low)[None, :], len(rows), axis=0)
            for r, (j, v) in enumerate(rows):
                vals[r, j] = v
            y = query.run({n: vals[:, j] for j, n in enumerate(ranged)})[:, s]
            for r, (j, v) in enumerate(rows):
                if sign * (y[r] - value) > TIE:
                    better[ranged[j]] = float(v)
        settings = {n: float(high[j] if bits[j] else low[j]) for j, n in enumerate(ranged)}
        return Bound(value, settings, better)

    interval = None
    if samples:
        from gmnet.analysis.uncertainty import uncertainty

        interval = uncertainty(network, target, state, evidence=question.evidence, do=do_all,
                               samples=samples, rng=rng, unknowns=False).interval(0.9)
    return BoundsResult(network.name, question, on, point,
                        bound(np.asarray(lo_bits, bool), -1), bound(np.asarray(hi_bits, bool), 1),
                        ranged, fixed, inert, exhaustive, evaluated, interval, int(samples),
                        rng if isinstance(rng, int) and not isinstance(rng, bool) else None)


def _coordinate_search(run, d: int, sign: int) -> tuple[np.ndarray, int]:
    """Best single flips from three starting corners; returns the best corner found."""
    evaluated = 0
    starts = [np.zeros(d, bool), np.ones(d, bool)]
    base = run(np.zeros((1, d), bool))[0]
    flips = np.eye(d, dtype=bool)
    y = run(flips)  # each number alone at its high end
    evaluated += d + 1
    starts.append(sign * (y - base) > 0)
    best, best_y = None, -np.inf
    for bits in starts:
        current = bits.copy()
        value = sign * run(current[None, :])[0]
        evaluated += 1
        for _ in range(4 * d + 4):
            neighbours = current[None, :] ^ flips
            ys = sign * run(neighbours)
            evaluated += d
            k = int(np.argmax(ys))
            if ys[k] <= value + TIE:
                break
            current, value = neighbours[k], ys[k]
        if value > best_y:
            best, best_y = current, value
    return best, evaluated
