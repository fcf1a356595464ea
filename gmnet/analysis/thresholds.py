"""Break-even values: how far a number must move before the answer, or the choice, changes.

Two questions about one number of the network, everything else at its point value, asked at
the baseline (:mod:`gmnet.analysis.decision_question`):

* :func:`break_even` - the values at which the best portfolio within the budget changes (or,
  with ``between=(A, B)``, at which portfolio A and portfolio B are equally good);
* :func:`value_for_target` - the values that bring P(target | do(baseline, portfolio)) to X,
  and the ranges of the number in which it stays below X.

Both scan the number over a span (default: its whole admissible range, [0, 1] for a
probability, [0, 2 x max(point, high)] otherwise) on a grid of batched evaluations, then refine
every change found by bisection to ``tol``. A change between two grid points that changes
back before the next is missed: a finer ``grid`` finds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gmnet.analysis.decision_question import BaselineQuestion, baseline_question
from gmnet.analysis.mitigations import portfolio_index, portfolio_members
from gmnet.analysis.portfolios import (
    COST_PREFIX,
    TIE,
    best_index,
    cost_weight_of,
    feasible_portfolios,
    mitigation_costs,
    portfolio_costs,
)
from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.model.network import Network

__all__ = ["Crossing", "BreakEven", "break_even", "TargetValue", "value_for_target",
           "default_span"]

TOL = 1e-9


def default_span(network: Network, parameter: str) -> tuple[float, float]:
    """The admissible values of a number: [0, 1] for a probability or fraction, else
    [0, 2 x max(point, high)]."""
    p = network.parameters[parameter]
    if p.unit in ("probability", "fraction"):
        return 0.0, 1.0
    top = max(p.value, p.high if p.high is not None else p.value)
    return 0.0, 2.0 * top if top > 0 else 1.0


def _check(network: Network, parameter: str, span, grid: int) -> tuple[float, float]:
    if parameter not in network.parameters:
        raise UnknownNameError("parameter", str(parameter), sorted(network.parameters))
    lo, hi = default_span(network, parameter) if span is None else map(float, span)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
        raise InvalidArgumentError(f"--span must be two finite numbers LOW < HIGH, got {span}")
    p = network.parameters[parameter]
    if p.unit in ("probability", "fraction") and (lo < 0 or hi > 1):
        raise InvalidArgumentError(
            f"--span [{lo}, {hi}] leaves [0, 1]: {parameter} is a {p.unit}")
    if p.unit not in ("probability", "fraction") and lo < 0:
        raise InvalidArgumentError(f"--span [{lo}, {hi}]: {parameter} is a {p.unit}, >= 0")
    if int(grid) < 3:
        raise InvalidArgumentError(f"grid must be at least 3 points, got {grid}")
    return lo, hi


class _Evaluator:
    """Losses of every portfolio as a function of one number (batched over values)."""

    def __init__(self, network: Network, question: BaselineQuestion, parameter: str,
                 cost_weight: float | None):
        from gmnet.inference.batched import plan_query

        self.network = network
        self.names = question.mitigations
        self.parameter = parameter
        self.weight = cost_weight_of(network, cost_weight)
        params = mitigation_costs(network, self.names)
        self.member = np.array([params[m].value for m in self.names])
        self.query = plan_query(network, question.target, evidence=question.evidence,
                                do=question.do, free_do=list(self.names))
        self.state = network.check_state(question.target, question.state)
        self.cost_slot = (self.names.index(parameter[len(COST_PREFIX):])
                          if parameter.startswith(COST_PREFIX)
                          and parameter[len(COST_PREFIX):] in self.names else None)
        self.reaches = parameter in self.query.parameters or self.cost_slot is not None \
            or (parameter == "cost_weight")

    def risks(self, values: np.ndarray) -> np.ndarray:
        from gmnet.analysis.portfolio_draws import _portfolio_columns

        values = np.asarray(values, dtype=float).reshape(-1)
        if self.parameter in self.query.parameters:
            out = self.query.run({self.parameter: values})[..., self.state]
        else:
            out = self.query.run({})[..., self.state]
        cols = _portfolio_columns(self.network, self.names, out)
        return np.broadcast_to(cols, (values.size, cols.shape[1]))

    def costs(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float).reshape(-1)
        member = np.repeat(self.member[None, :], values.size, axis=0)
        if self.cost_slot is not None:
            member[:, self.cost_slot] = values
        return portfolio_costs(member)

    def losses(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = np.asarray(values, dtype=float).reshape(-1)
        weight = values[:, None] if self.parameter == "cost_weight" else self.weight
        costs = self.costs(values)
        return self.risks(values) + weight * costs, costs


def _refine(f: Callable[[float], object], a: float, b: float, tol: float) -> float:
    """Bisection for the point where f changes between a and b (f(a) != f(b))."""
    fa = f(a)
    for _ in range(200):
        if b - a <= tol:
            break
        m = 0.5 * (a + b)
        if f(m) == fa:
            a = m
        else:
            b = m
    return 0.5 * (a + b)


@dataclass(frozen=True)
class Crossing:
    """One value at which the choice (or the sign of a difference) changes."""

    value: float
    before: tuple[str, ...]  # best (or the better of A, B) just below the value
    after: tuple[str, ...]
    inside_range: bool  # within the number's declared range

    def to_dict(self) -> dict:
        return {"value": self.value, "before": list(self.before), "after": list(self.after),
                "inside_declared_range": self.inside_range}


@dataclass(frozen=True)
class BreakEven:
    """The result of :func:`break_even`."""

    network: str
    question: BaselineQuestion
    parameter: str
    point: float
    declared_range: tuple[float, float] | None
    span: tuple[float, float]
    budget: float | None
    cost_weight: float
    between: tuple[tuple[str, ...], tuple[str, ...]] | None
    best_at_point: tuple[str, ...]
    crossings: tuple[Crossing, ...]
    reaches: bool

    @property
    def nearest_below(self) -> Crossing | None:
        below = [c for c in self.crossings if c.value < self.point]
        return below[-1] if below else None

    @property
    def nearest_above(self) -> Crossing | None:
        above = [c for c in self.crossings if c.value >= self.point]
        return above[0] if above else None

    def summary(self) -> str:
        what = ("the better of " + " / ".join(" + ".join(p) or "none" for p in self.between)
                if self.between else "the best portfolio")
        if not self.crossings:
            why = ("" if self.reaches else f"; the question does not depend on "
                   f"{self.parameter} (e.g. its node is cut by do() or held)")
            return (f"{what} does not change for {self.parameter} anywhere in "
                    f"[{self.span[0]:g}, {self.span[1]:g}] (point {self.point:g}){why}")
        parts = []
        for c, side in ((self.nearest_below, "down"), (self.nearest_above, "up")):
            if c is not None:
                rel = (c.value - self.point) / self.point if self.point else float("nan")
                parts.append(f"{side} to {c.value:.6g} ({rel:+.0%}): "
                             f"{' + '.join(c.after if side == 'up' else c.before) or 'none'}")
        return f"{what} changes when {self.parameter} (point {self.point:g}) moves " + \
            "; ".join(parts)

    def to_dict(self) -> dict:
        below, above = self.nearest_below, self.nearest_above
        return {"network": self.network, **self.question.to_dict(),
                "parameter": self.parameter, "point": self.point,
                "declared_range": None if self.declared_range is None
                else list(self.declared_range), "span": list(self.span),
                "budget": self.budget, "cost_weight": self.cost_weight,
                "between": None if self.between is None else [list(p) for p in self.between],
                "best_at_point": list(self.best_at_point),
                "reaches_question": self.reaches,
                "crossings": [c.to_dict() for c in self.crossings],
                "nearest_below": None if below is None else below.to_dict(),
                "nearest_above": None if above is None else above.to_dict(),
                "summary": self.summary(),
                "assumptions": [self.question.held_text(),
                                "every other number at its point value; best: lowest P(harm)"
                                + (f" + {self.cost_weight:g} x cost" if self.cost_weight else "")
                                + " within the budget (point costs)"]}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{**c.to_dict(), "before": " + ".join(c.before) or "none",
                              "after": " + ".join(c.after) or "none"} for c in self.crossings])


def _question(network, target, state, evidence, do, keep_priors):
    return baseline_question(network, target=target, state=state, evidence=evidence, do=do,
                             keep_priors=keep_priors)


def break_even(network: Network, parameter: str, *, target: str = "harm", state: str = "yes",
               evidence: Mapping[str, str] | None = None, do: Mapping[str, str] | None = None,
               keep_priors: Iterable[str] = (), budget: float | None = None,
               cost_weight: float | None = None, max_size: int | None = None,
               between: tuple[Sequence[str], Sequence[str]] | None = None,
               span: tuple[float, float] | None = None, grid: int = 201,
               tol: float = TOL) -> BreakEven:
    """Where the best portfolio (or the better of two) changes as ``parameter`` moves.

    >>> import gmnet
    >>> b = break_even(gmnet.load_network(), "m_interpretability_verification",
    ...                do={"shift_type": "extreme"},
    ...                between=(["interpretability_verification"], ["ai_control"]))
    >>> round(b.crossings[0].value, 6)  # 0.277 x m = 0.277 x (1 - 0.75)
    0.25
    """
    lo, hi = _check(network, parameter, span, grid)
    question = _question(network, target, state, evidence, do, keep_priors)
    ev = _Evaluator(network, question, parameter, cost_weight)
    names = ev.names
    feasible_portfolios(np.zeros(2 ** len(names)), len(names), budget=budget,
                        max_size=max_size)  # checks both before the scan
    pair = None
    if between is not None:
        a, b = (portfolio_index(names, p) for p in between)
        if a == b:
            raise InvalidArgumentError("--between needs two different portfolios")
        pair = (portfolio_members(names, a), portfolio_members(names, b))

    def choice(values: np.ndarray) -> np.ndarray:
        losses, costs = ev.losses(values)
        if pair is not None:
            return np.where(losses[:, a] <= losses[:, b] + TIE, a, b)
        feasible = feasible_portfolios(costs, len(names), budget=budget, max_size=max_size)
        return np.array([best_index(losses[i], costs[i], feasible[i])
                         for i in range(losses.shape[0])])

    grid_values = np.linspace(lo, hi, int(grid))
    picks = choice(grid_values)
    point = float(network.parameters[parameter].value)
    at_point = int(choice(np.array([point]))[0])
    crossings = []
    p = network.parameters[parameter]
    for i in np.flatnonzero(picks[1:] != picks[:-1]):
        x = _refine(lambda v: int(choice(np.array([v]))[0]), grid_values[i],
                    grid_values[i + 1], tol)
        inside = p.low is not None and p.low <= x <= p.high
        crossings.append(Crossing(float(x), portfolio_members(names, int(picks[i])),
                                  portfolio_members(names, int(picks[i + 1])), bool(inside)))
    return BreakEven(network.name, question, parameter, point,
                     (p.low, p.high) if p.low is not None else None, (lo, hi),
                     None if budget is None else float(budget), ev.weight, pair,
                     portfolio_members(names, at_point), tuple(crossings), ev.reaches)


# ============================================================================ value for a target
@dataclass(frozen=True)
class TargetValue:
    """The result of :func:`value_for_target`."""

    network: str
    question: BaselineQuestion
    parameter: str
    portfolio: tuple[str, ...]
    threshold: float
    point: float
    p_at_point: float
    span: tuple[float, float]
    crossings: tuple[float, ...]  # values where P = threshold
    below: tuple[tuple[float, float], ...]  # intervals of the span where P < threshold

    def summary(self) -> str:
        on = " + ".join(self.portfolio) or "no mitigation"
        q = f"P({self.question.target}={self.question.state} | do({on}))"
        if not self.below:
            return (f"no value of {self.parameter} in [{self.span[0]:g}, {self.span[1]:g}] "
                    f"brings {q} below {self.threshold:g} (at its point {self.point:g}: "
                    f"{self.p_at_point:.4g})")
        spans = ", ".join(f"[{a:.6g}, {b:.6g}]" for a, b in self.below)
        return f"{q} < {self.threshold:g} for {self.parameter} in {spans} (point {self.point:g}: " \
            f"{self.p_at_point:.4g})"

    def to_dict(self) -> dict:
        return {"network": self.network, **self.question.to_dict(),
                "parameter": self.parameter, "portfolio": list(self.portfolio),
                "below": self.threshold, "point": self.point, "p_at_point": self.p_at_point,
                "span": list(self.span), "crossings": list(self.crossings),
                "intervals_below": [list(b) for b in self.below], "summary": self.summary(),
                "assumptions": [self.question.held_text(),
                                "every other number at its point value"]}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{"low": a, "high": b} for a, b in self.below])


def value_for_target(network: Network, parameter: str, below: float, *,
                     portfolio: Iterable[str] = (), target: str = "harm", state: str = "yes",
                     evidence: Mapping[str, str] | None = None,
                     do: Mapping[str, str] | None = None, keep_priors: Iterable[str] = (),
                     span: tuple[float, float] | None = None, grid: int = 201,
                     tol: float = TOL) -> TargetValue:
    """The values of ``parameter`` at which P(target | do(baseline, portfolio)) < ``below``."""
    lo, hi = _check(network, parameter, span, grid)
    below = float(below)
    if not 0.0 < below <= 1.0:
        raise InvalidArgumentError(f"--below must be a probability in (0, 1], got {below}")
    question = _question(network, target, state, evidence, do, keep_priors)
    ev = _Evaluator(network, question, parameter, None)
    index = portfolio_index(ev.names, portfolio)
    on = portfolio_members(ev.names, index)

    def prob(values: np.ndarray) -> np.ndarray:
        return ev.risks(values)[:, index]

    xs = np.linspace(lo, hi, int(grid))
    ps = prob(xs)
    under = ps < below
    crossings = []
    for i in np.flatnonzero(under[1:] != under[:-1]):
        crossings.append(float(_refine(lambda v: bool(prob(np.array([v]))[0] < below),
                                       xs[i], xs[i + 1], tol)))
    edges = [lo, *crossings, hi]
    intervals = []
    state_ = bool(under[0])
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if state_:
            intervals.append((float(a), float(b)))
        state_ = not state_
    point = float(network.parameters[parameter].value)
    return TargetValue(network.name, question, parameter, on, below, point,
                       float(prob(np.array([point]))[0]), (lo, hi), tuple(crossings),
                       tuple(intervals))
