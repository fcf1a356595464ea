"""Which mitigations to fund: every portfolio's cost and risk, the Pareto frontier, the best.

Each mitigation ``m`` has a cost parameter ``cost_m`` (unit ``cost``, relative units, with a
range: the source document's Implementation Cost column read as labelled assumptions), and the
network may carry ``cost_weight``, the P(harm) one unit of cost is worth. A portfolio's

* **cost** is the sum of its members' costs (point values);
* **risk** is P(target | evidence, do(baseline, portfolio)) at the point values, with a 90%
  interval from paired draws of every uncertain number (:func:`gmnet.portfolio_draws`);
* **loss** is risk + cost_weight x cost.

A portfolio is **feasible** under a budget when its point cost is within it (a budget is a
commitment made before the numbers are known); the **best** feasible portfolio has the lowest
loss, ties broken by cost, then by the portfolio index. The **Pareto frontier** holds every
portfolio that no other is at least as cheap and as safe as, and strictly one of the two.
Under uncertainty, ``p_best`` is the share of draws in which a portfolio is the best feasible
one (drawn risks and, when cost_weight > 0, drawn costs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gmnet.analysis.decision_question import BaselineQuestion, baseline_question
from gmnet.analysis.mitigations import portfolio_members
from gmnet.errors import InvalidArgumentError
from gmnet.model.network import Network
from gmnet.model.parameters import Parameter

__all__ = ["COST_PREFIX", "COST_WEIGHT", "TIE", "mitigation_costs", "member_cost_draws",
           "cost_weight_of", "portfolio_costs", "feasible_portfolios", "pareto_frontier",
           "best_index", "PortfolioRow", "PortfolioAnalysis", "portfolio_analysis"]

COST_PREFIX = "cost_"
COST_WEIGHT = "cost_weight"
TIE = 1e-12  # risks closer than this are equal (floating-point noise)
LEVEL = 0.9


def mitigation_costs(network: Network, mitigations: Sequence[str]) -> dict[str, Parameter]:
    """The cost parameter ``cost_<mitigation>`` of each mitigation.

    >>> import gmnet
    >>> mitigation_costs(gmnet.load_network(), ["ai_control"])["ai_control"].value
    1.5
    """
    out = {}
    missing = []
    for m in mitigations:
        p = network.parameters.get(COST_PREFIX + m)
        if p is None:
            missing.append(COST_PREFIX + m)
        else:
            out[m] = p
    if missing:
        raise InvalidArgumentError(
            f"network {network.name!r} has no cost for {len(missing)} mitigation(s): add the "
            f"parameter(s) {', '.join(missing)} (unit: cost) to its file (docs/decisions.md)")
    return out


def member_cost_draws(network: Network, mitigations: Sequence[str], samples: int, *,
                      rng: int | np.random.Generator | None = None) -> np.ndarray:
    """PERT draws of each mitigation's cost (its point where it has no range): (samples, k).

    One random stream per cost, as :meth:`gmnet.analysis.uncertainty.UncertaintyModel.sample`
    gives every uncertain number.
    """
    from gmnet.analysis.uncertainty import UncertainInput, UncertaintyModel

    params = mitigation_costs(network, mitigations)
    inputs = tuple(UncertainInput(p.name, p.name, "pert", float(p.low), float(p.value),
                                  float(p.high), p.unit, p.source)
                   for p in params.values() if p.ranged)
    drawn = UncertaintyModel(network, inputs, ()).sample(samples, rng=rng) if inputs else {}
    return np.stack([drawn.get(params[m].name, np.full(samples, params[m].value))
                     for m in mitigations], axis=1)


def cost_weight_of(network: Network, weight: float | None = None) -> float:
    """``weight`` if given, else the network's ``cost_weight`` parameter (0 if it has none)."""
    if weight is None:
        p = network.parameters.get(COST_WEIGHT)
        return 0.0 if p is None else float(p.value)
    weight = float(weight)
    if not np.isfinite(weight) or weight < 0:
        raise InvalidArgumentError(
            f"the cost weight must be a finite number >= 0 (P(harm) per unit of cost), got "
            f"{weight}")
    return weight


def portfolio_costs(costs: Sequence[float] | np.ndarray) -> np.ndarray:
    """The cost of every portfolio from the members' costs: shape (..., 2**k).

    ``costs`` has shape (..., k) (k mitigations in portfolio-bit order).

    >>> portfolio_costs([1.0, 2.0]).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    c = np.asarray(costs, dtype=float)
    k = c.shape[-1]
    bits = (np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1  # (2**k, k)
    return c @ bits.T.astype(float)


def feasible_portfolios(costs: np.ndarray, k: int, *, budget: float | None = None,
                        max_size: int | None = None) -> np.ndarray:
    """Boolean mask of the portfolios allowed: point cost within ``budget`` and at most
    ``max_size`` mitigations (None: no limit). ``costs`` has shape (..., 2**k).

    >>> feasible_portfolios(np.array([0.0, 1.0, 2.0, 3.0]), 2, budget=2.5).tolist()
    [True, True, True, False]
    """
    costs = np.asarray(costs, dtype=float)
    ok = np.ones(costs.shape, bool)
    if budget is not None:
        budget = float(budget)
        if not np.isfinite(budget) or budget < 0:
            raise InvalidArgumentError(f"--budget must be a number >= 0 (relative cost units), "
                                       f"got {budget}")
        ok &= costs <= budget + TIE
    if max_size is not None:
        if isinstance(max_size, bool) or int(max_size) != max_size or max_size < 0:
            raise InvalidArgumentError(f"--max-size must be a whole number >= 0, got {max_size}")
        sizes = np.array([bin(i).count("1") for i in range(2**k)])
        ok &= sizes <= int(max_size)
    return ok


def pareto_frontier(costs: np.ndarray, risks: np.ndarray, *, tie: float = TIE) -> np.ndarray:
    """A boolean mask: True for the portfolios no other dominates.

    ``j`` dominates ``i`` when cost_j <= cost_i and risk_j <= risk_i, one strictly (risks
    within ``tie`` count as equal). Of equal (cost, risk) pairs all stay on the frontier.

    >>> pareto_frontier(np.array([0.0, 1.0, 2.0]), np.array([0.5, 0.6, 0.1])).tolist()
    [True, False, True]
    """
    c = np.asarray(costs, dtype=float)[:, None]
    r = np.asarray(risks, dtype=float)[:, None]
    cj, rj = c.T, r.T
    no_worse = (cj <= c + tie) & (rj <= r + tie)
    better = (cj < c - tie) | (rj < r - tie)
    return ~np.any(no_worse & better, axis=1)


def best_index(losses: np.ndarray, costs: np.ndarray, feasible: np.ndarray, *,
               tie: float = TIE) -> np.ndarray:
    """Index of the best feasible portfolio along the last axis (lowest loss, then cost,
    then index). ``losses`` (..., P), ``costs`` (P,) or (..., P), ``feasible`` (P,)."""
    losses = np.asarray(losses, dtype=float)
    masked = np.where(feasible, losses, np.inf)
    low = masked.min(axis=-1, keepdims=True)
    near = masked <= low + tie
    cost = np.broadcast_to(np.asarray(costs, dtype=float), masked.shape)
    return np.argmin(np.where(near, cost, np.inf), axis=-1)


# ============================================================================ results
@dataclass(frozen=True)
class PortfolioRow:
    """One portfolio: members, cost, risk (point and interval), loss, frontier, P(best)."""

    index: int
    mitigations: tuple[str, ...]
    cost: float
    p_harm: float
    interval: tuple[float, float] | None
    loss: float
    on_frontier: bool
    feasible: bool
    p_best: float | None

    def to_dict(self) -> dict:
        return {"mitigations": list(self.mitigations), "cost": self.cost, "p_harm": self.p_harm,
                "interval": None if self.interval is None else list(self.interval),
                "loss": self.loss, "on_frontier": self.on_frontier, "feasible": self.feasible,
                "p_best": self.p_best}


@dataclass(frozen=True)
class PortfolioAnalysis:
    """The result of :func:`portfolio_analysis`; ``rows`` are in portfolio-index order."""

    network: str
    question: BaselineQuestion
    mitigations: tuple[str, ...]
    member_costs: dict[str, dict[str, Any]]
    budget: float | None
    cost_weight: float
    max_size: int | None
    samples: int
    seed: int | None
    unknowns: tuple[str, ...]
    rows: tuple[PortfolioRow, ...]
    best: int
    risks: np.ndarray = field(repr=False)  # (2**k,) point
    draws: np.ndarray | None = field(repr=False, default=None)  # (N, 2**k) risks
    cost_draws: np.ndarray | None = field(repr=False, default=None)  # (N, 2**k)
    scenarios: tuple[str, ...] = ()
    worldview: str | None = None

    @property
    def frontier(self) -> tuple[PortfolioRow, ...]:
        """The frontier portfolios, cheapest first."""
        return tuple(sorted((r for r in self.rows if r.on_frontier),
                            key=lambda r: (r.cost, r.p_harm, r.index)))

    @property
    def best_row(self) -> PortfolioRow:
        return self.rows[self.best]

    def row(self, mitigations: Iterable[str]) -> PortfolioRow:
        """The row of the portfolio with exactly these mitigations on."""
        from gmnet.analysis.mitigations import portfolio_index

        return self.rows[portfolio_index(self.mitigations, mitigations)]

    def assumptions(self) -> list[str]:
        out = [self.question.held_text(),
               "cost: sum of the members' point costs (relative units; docs/decisions.md)",
               "best: lowest P(" + f"{self.question.target}={self.question.state}" + ")"
               + (f" + {self.cost_weight:g} x cost" if self.cost_weight else "")
               + " among portfolios whose point cost is within the budget"
               + ("" if self.budget is not None else " (no budget given: every portfolio)")
               + ("" if self.max_size is None else f", at most {self.max_size} mitigations")]
        if self.samples:
            out.append(f"interval: 5%-95% of {self.samples:,} paired draws (seed {self.seed}); "
                       "p_best: share of those draws in which the portfolio is best"
                       + (f"; Critical Unknowns: {', '.join(self.unknowns)}"
                          if self.unknowns else ""))
        if self.scenarios or self.worldview:
            out.append("applied: " + "; ".join(
                ([f"scenario {', '.join(self.scenarios)}"] if self.scenarios else [])
                + ([f"worldview {self.worldview}"] if self.worldview else [])))
        return out

    def to_dict(self, *, frontier_only: bool = False) -> dict:
        rows = self.frontier if frontier_only else self.rows
        best = self.best_row
        return {
            "network": self.network, "question": self.question.text(),
            **self.question.to_dict(), "scenarios": list(self.scenarios),
            "worldview": self.worldview, "mitigation_costs": self.member_costs,
            "cost_weight": self.cost_weight, "samples": self.samples, "seed": self.seed,
            "critical_unknowns": list(self.unknowns),
            "portfolios": [r.to_dict() for r in rows],
            "frontier": [list(r.mitigations) for r in self.frontier],
            "budget": self.budget, "max_size": self.max_size,
            "best": {"mitigations": list(best.mitigations), "cost": best.cost,
                     "p_harm": best.p_harm,
                     "interval": None if best.interval is None else list(best.interval),
                     "p_best": best.p_best},
            "assumptions": self.assumptions(),
        }

    def to_frame(self, *, frontier_only: bool = False):
        """A pandas DataFrame, one row per portfolio (members joined by '+', '-' for none)."""
        import pandas as pd

        rows = self.frontier if frontier_only else self.rows
        records = []
        for r in rows:
            lo, hi = r.interval if r.interval is not None else (np.nan, np.nan)
            records.append({"portfolio": " + ".join(r.mitigations) or "-", "size":
                            len(r.mitigations), "cost": r.cost, "p_harm": r.p_harm,
                            "low": lo, "high": hi, "loss": r.loss, "on_frontier": r.on_frontier,
                            "feasible": r.feasible, "p_best": r.p_best})
        return pd.DataFrame(records).set_index("portfolio")


# ============================================================================ the analysis
def portfolio_analysis(network: Network, *, target: str = "harm", state: str = "yes",
                       evidence: Mapping[str, str] | None = None,
                       do: Mapping[str, str] | None = None, keep_priors: Iterable[str] = (),
                       budget: float | None = None, cost_weight: float | None = None,
                       max_size: int | None = None, samples: int = 2000,
                       rng: int | np.random.Generator | None = 0,
                       unknowns: bool | Iterable[str] = True,
                       chunk: int | None = None, progress=None,
                       scheduler=None) -> PortfolioAnalysis:
    """Every mitigation portfolio with its cost and risk, the frontier and the best.

    Parameters
    ----------
    network
        A network whose mitigations each have a ``cost_<name>`` parameter.
    target, state, evidence, do, keep_priors
        The question, asked at the baseline (:func:`baseline_question`).
    budget
        Largest point cost allowed (None: no limit).
    max_size
        Most mitigations a portfolio may have (None: no limit), e.g. 2 for the best pair.
    cost_weight
        P(harm) per unit of cost (default: the network's ``cost_weight``, else 0).
    samples
        Paired draws for the intervals and p_best (0: point values only).
    rng, unknowns, chunk, progress, scheduler
        As in :func:`gmnet.portfolio_draws` (``scheduler``: a Dask cluster, docs/distributed.md).

    Examples
    --------
    >>> import gmnet
    >>> a = portfolio_analysis(gmnet.load_network(), do={"shift_type": "extreme"},
    ...                        budget=1.5, samples=0)
    >>> a.best_row.mitigations, round(a.best_row.p_harm, 5)
    (('ai_control',), 0.06925)
    """
    question = baseline_question(network, target=target, state=state, evidence=evidence,
                                 do=do, keep_priors=keep_priors)
    names = question.mitigations
    if not names:
        raise InvalidArgumentError(f"network {network.name!r} has no mitigation nodes; "
                                   "nothing to choose")
    weight = cost_weight_of(network, cost_weight)
    params = mitigation_costs(network, names)
    member = np.array([params[m].value for m in names])
    costs = portfolio_costs(member)
    feasible = feasible_portfolios(costs, len(names), budget=budget, max_size=max_size)
    budget = None if budget is None else float(budget)
    samples = int(samples)
    if samples < 0:
        raise InvalidArgumentError(f"samples must be >= 0, got {samples}")
    draws = cost_draws = None
    used_unknowns: tuple[str, ...] = ()
    if samples:
        from gmnet.analysis.uncertainty import portfolio_draws

        pd_ = portfolio_draws(network, target, state, names, evidence=question.evidence,
                              do=question.do, samples=samples, rng=rng, unknowns=unknowns,
                              chunk=chunk, progress=progress, scheduler=scheduler)
        risks, draws, used_unknowns = pd_.point, pd_.values, pd_.unknowns
        if weight > 0:
            cost_draws = portfolio_costs(member_cost_draws(network, names, samples,
                                                           rng=_cost_seed(rng)))
    else:
        # the same computation as the point of portfolio_draws: the same numbers to the bit
        from gmnet.analysis.portfolio_draws import _portfolio_columns
        from gmnet.inference.batched import plan_query

        query = plan_query(network, target, evidence=question.evidence, do=question.do,
                           free_do=list(names))
        risks = _portfolio_columns(network, names, query.run({})[
            ..., network.check_state(target, state)])[0]
    losses = risks + weight * costs
    frontier = pareto_frontier(costs, risks)
    best = int(best_index(losses, costs, feasible))
    p_best = intervals = None
    if draws is not None:
        drawn_costs = costs if cost_draws is None else cost_draws
        winners = best_index(draws + weight * drawn_costs, costs, feasible)
        p_best = np.bincount(winners, minlength=costs.size) / samples
        q = np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        intervals = q.T
    rows = tuple(PortfolioRow(
        i, portfolio_members(names, i), float(costs[i]), float(risks[i]),
        None if intervals is None else (float(intervals[i, 0]), float(intervals[i, 1])),
        float(losses[i]), bool(frontier[i]), bool(feasible[i]),
        None if p_best is None else float(p_best[i])) for i in range(costs.size))
    member_costs = {m: {"parameter": COST_PREFIX + m, "cost": params[m].value,
                        "range": [params[m].low, params[m].high] if params[m].ranged else None,
                        "source": params[m].source} for m in names}
    return PortfolioAnalysis(
        network.name, question, names, member_costs, budget, weight, max_size, samples,
        rng if isinstance(rng, int) and not isinstance(rng, bool) else None, used_unknowns,
        rows, best, risks, draws, cost_draws,
        tuple(network.metadata.get("scenarios", []) or ()), network.metadata.get("worldview"))


def _cost_seed(rng):
    """A stream for the cost draws that does not disturb the risk draws."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(np.random.SeedSequence(entropy=rng, spawn_key=(7,)))
