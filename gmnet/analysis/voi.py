"""Value of information: which observation, or which unknown number, is worth resolving.

Two kinds, both at the baseline question (:mod:`gmnet.analysis.decision_question`):

**Observations** (exact). For each node X neither observed nor set, the expected reduction of
the target's entropy if X were observed, H(T | e) - sum_x P(x | e) H(T | e, x) (the mutual
information of T and X given the evidence, in bits, as Netica's "sensitivity to findings"),
and of the variance of the indicator of the target state, Var(1[T=s] | e) - E_x Var(...| x)
= Var_x P(T=s | e, x). Both come from one exact joint P(T, X | e, do) per node.

**Numbers** (Monte Carlo). The decision is the choice of a portfolio within the budget
(:mod:`gmnet.analysis.portfolios`); its loss L(a, theta) = P(target | do(baseline, a); theta)
+ cost_weight x cost(a; theta). With N paired draws theta_n of every uncertain number,

* EVPI = min_a mean_n L(a, theta_n) - mean_n min_a L(a, theta_n): what knowing every number
  would save;
* EVPPI of a group phi (one parameter group, or one Critical Unknown) = min_a E[L(a)] -
  E_phi[min_a E[L(a) | phi]], with E[L(a) | phi] estimated by least-squares regression of the
  draws of L(a) on a cubic polynomial basis of phi (each number's powers up to 3 and the
  pairwise products; an indicator for a two-valued unknown) - the regression method of Strong,
  Oakley & Brennan (2014, Medical Decision Making). The estimate is never negative (Jensen's
  inequality holds for the fitted values too) and is capped at the EVPI; its standard error
  comes from a bootstrap over the draws (refitting each time). It excludes the bias of the
  basis (a phi-effect the cubic cannot follow is missed, which biases EVPPI down) and is
  biased up by about the noise of the fit (of order se).

Portfolios that another feasible portfolio, one mitigation larger, beats or ties in every
draw cannot be the choice under any information, and are left out of the fits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from gmnet.analysis.decision_question import BaselineQuestion, baseline_question
from gmnet.analysis.mitigations import portfolio_index, portfolio_members
from gmnet.analysis.portfolios import (
    COST_PREFIX,
    TIE,
    _cost_seed,
    best_index,
    cost_weight_of,
    feasible_portfolios,
    member_cost_draws,
    mitigation_costs,
    portfolio_costs,
)
from gmnet.errors import InvalidArgumentError
from gmnet.inference.contraction import marginal
from gmnet.model.network import Network

__all__ = ["ObservationValue", "ParameterValue", "VoiResult", "observation_values",
           "evppi_regression", "value_of_information", "DOCUMENT_PRIORITIES"]

# The source document's Key Uncertainties & Research Priorities, by the input they bear on.
DOCUMENT_PRIORITIES = {
    "unknown:llm_vs_rl_generalization": (
        "Critical Unknowns: LLM vs RL generalization (+-50% on estimates; large-scale LLM "
        "studies, 1-2 years); Research Cruxes: empirical studies of goal generalization in "
        "LLMs"),
    "unknown:interpretability_feasibility": (
        "Critical Unknowns: interpretability feasibility (0.4x if successful; technical "
        "breakthroughs, 2-5 years); Research Cruxes: interpretability methods for objective "
        "detection"),
    "unknown:superhuman_capability_effects": (
        "Critical Unknowns: superhuman capability effects (direction unknown; scaling "
        "experiments, 2-4 years)"),
    "m_spec": "Research Cruxes: formal frameworks for specification quality measurement",
    "p_goal_features_clear": ("Research Cruxes: formal frameworks for specification quality "
                              "measurement"),
}
NOT_MODELLED = ("Critical Unknowns: goal identity across contexts (measurement validity; "
                "philosophical progress, ongoing): not a number of the model, so no EVPPI")


# ============================================================================ observations
@dataclass(frozen=True)
class ObservationValue:
    """What observing one node is expected to tell about the target."""

    variable: str
    entropy_reduction: float  # bits
    variance_reduction: float  # of the indicator of the target state
    relative_entropy_reduction: float  # share of the target's entropy

    def to_dict(self) -> dict:
        return {"variable": self.variable, "entropy_reduction": self.entropy_reduction,
                "variance_reduction": self.variance_reduction,
                "relative_entropy_reduction": self.relative_entropy_reduction}


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=axis)


def observation_values(network: Network, question: BaselineQuestion,
                       portfolio: Iterable[str] = (), *,
                       variables: Sequence[str] | None = None,
                       ) -> tuple[float, list[ObservationValue]]:
    """The target's entropy and each unobserved node's exact value as an observation.

    Returns (H(target | e) in bits, values sorted by entropy reduction, largest first).
    """
    do = question.do_for(portfolio)
    ev = {v: network.check_state(v, s) for v, s in question.evidence.items()}
    dd = {v: network.check_state(v, s) for v, s in do.items()}
    target = question.target
    s = network.check_state(target, question.state)
    cut = network.compiled.intervene(dd)
    candidates = [v for v in network.variables
                  if v != target and v not in ev and v not in dd]
    if variables is not None:
        wanted = list(variables)
        bad = [v for v in wanted if v not in candidates]
        if bad:
            from gmnet.errors import UnknownNameError

            raise UnknownNameError("unobserved variable", bad[0], candidates,
                                   context="(observed, set or held nodes cannot be observed)")
        candidates = wanted
    base = marginal(cut, [target], ev)[0]
    if not base.sum() > 0:
        raise InvalidArgumentError("the evidence is impossible under the model (probability 0)")
    pt = base / base.sum()
    h = float(_entropy(pt))
    var = float(pt[s] * (1 - pt[s]))
    out = []
    for v in candidates:
        joint = marginal(cut, [target, v], ev)[0]  # (card T, card X)
        joint = joint / joint.sum()
        px = joint.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            cond = np.where(px > 0, joint / np.where(px > 0, px, 1.0), 0.0)  # P(t | x)
        h_after = float((px * _entropy(cond, axis=0)).sum())
        p_s = cond[s]
        var_after = float((px * p_s * (1 - p_s)).sum())
        er = max(0.0, h - h_after)
        out.append(ObservationValue(v, er, max(0.0, var - var_after),
                                    er / h if h > 0 else 0.0))
    out.sort(key=lambda o: (-o.entropy_reduction, o.variable))
    return h, out


# ============================================================================ EVPPI
def _basis(phi: np.ndarray) -> np.ndarray:
    """Intercept, each column's powers 1-3 (1 only for a two-valued column), pairwise products;
    columns standardised first."""
    phi = np.asarray(phi, dtype=float)
    if phi.ndim == 1:
        phi = phi[:, None]
    n, d = phi.shape
    cols = [np.ones(n)]
    z = []
    for j in range(d):
        x = phi[:, j]
        sd = x.std()
        if sd <= 0:
            continue
        x = (x - x.mean()) / sd
        z.append(x)
        cols.append(x)
        if np.unique(phi[:, j]).size > 2:
            cols += [x**2, x**3]
    for i in range(len(z)):
        for j in range(i + 1, len(z)):
            cols.append(z[i] * z[j])
    return np.column_stack(cols)


def evppi_regression(losses: np.ndarray, phi: np.ndarray, *, bootstrap: int = 30,
                     rng: int | np.random.Generator | None = 0) -> tuple[float, float]:
    """EVPPI of ``phi`` for a decision minimising ``losses`` (N draws x A actions).

    Returns (estimate, bootstrap standard error); the estimate uses every draw.

    >>> rng = np.random.default_rng(0)
    >>> theta = rng.uniform(0, 1, 4000)
    >>> losses = np.column_stack([theta, np.full(4000, 0.5)])  # act 0 costs theta, act 1 0.5
    >>> round(evppi_regression(losses, theta)[0], 2)  # E[(0.5 - theta)+] = 0.125
    0.12
    """
    from gmnet.random import as_generator

    losses = np.asarray(losses, dtype=float)
    x = _basis(phi)

    def estimate(rows: np.ndarray | None) -> float:
        xs, ls = (x, losses) if rows is None else (x[rows], losses[rows])
        # normal equations: p is small (at most a few dozen columns), N large; lstsq on the
        # p x p system also copes with a column the bootstrap made constant
        beta, *_ = np.linalg.lstsq(xs.T @ xs, xs.T @ ls, rcond=None)
        fitted = xs @ beta
        return max(0.0, float(fitted.mean(axis=0).min() - fitted.min(axis=1).mean()))

    point = estimate(None)
    if point <= TIE:  # the fitted choice never changes with phi: nothing to resample
        return 0.0, 0.0
    if bootstrap < 2:
        return point, math.nan
    gen = as_generator(rng)
    n = losses.shape[0]
    reps = [estimate(gen.integers(0, n, n)) for _ in range(int(bootstrap))]
    return point, float(np.std(reps, ddof=1))


@dataclass(frozen=True)
class ParameterValue:
    """The EVPPI of one uncertain group for the portfolio decision."""

    name: str
    kind: str  # "parameter group" or "critical unknown"
    inputs: tuple[str, ...]
    evppi: float
    se: float
    share_of_evpi: float
    document: str | None

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "inputs": list(self.inputs),
                "evppi": self.evppi, "se": self.se, "share_of_evpi": self.share_of_evpi,
                "document_priority": self.document}


@dataclass(frozen=True)
class VoiResult:
    """The result of :func:`value_of_information`."""

    network: str
    question: BaselineQuestion
    portfolio: tuple[str, ...]
    entropy: float
    observations: tuple[ObservationValue, ...]
    budget: float | None
    cost_weight: float
    best: tuple[str, ...]
    expected_loss: float
    evpi: float
    evpi_se: float
    parameters: tuple[ParameterValue, ...]
    samples: int
    seed: int | None
    unknowns: tuple[str, ...]
    candidates: int
    method: str = field(default="regression (Strong, Oakley & Brennan 2014), cubic basis")

    def assumptions(self) -> list[str]:
        on = ", ".join(self.portfolio) or "none"
        out = [self.question.held_text(),
               f"observations: exact, at the portfolio {on}; entropy in bits",
               f"decision: the portfolio within budget {self.budget} (point costs) with the "
               f"lowest P({self.question.target}={self.question.state})"
               + (f" + {self.cost_weight:g} x cost" if self.cost_weight else "")]
        if self.samples:
            out.append(f"EVPI/EVPPI: {self.samples:,} paired draws (seed {self.seed}), "
                       f"{self.method}; se: bootstrap standard error; {self.candidates} "
                       "candidate portfolios (the rest are beaten in every draw)")
        out.append(NOT_MODELLED)
        return out

    def to_dict(self) -> dict:
        return {"network": self.network, "question": self.question.text(self.portfolio),
                **self.question.to_dict(), "target": self.question.target,
                "portfolio": list(self.portfolio), "entropy": self.entropy,
                "observations": [o.to_dict() for o in self.observations],
                "budget": self.budget, "cost_weight": self.cost_weight,
                "decision": {"best": list(self.best), "expected_loss": self.expected_loss},
                "parameters": [p.to_dict() for p in self.parameters],
                "evpi": self.evpi, "evpi_se": self.evpi_se, "samples": self.samples,
                "seed": self.seed, "critical_unknowns": list(self.unknowns),
                "method": self.method, "assumptions": self.assumptions()}

    def to_frame(self, table: str = "parameters"):
        """A DataFrame: ``"parameters"`` (EVPPI ranking) or ``"observations"``."""
        import pandas as pd

        if table == "parameters":
            return pd.DataFrame([p.to_dict() for p in self.parameters]).set_index("name")
        if table == "observations":
            return pd.DataFrame([o.to_dict() for o in self.observations]).set_index("variable")
        from gmnet.errors import UnknownNameError

        raise UnknownNameError("table", table, ("parameters", "observations"))


def value_of_information(network: Network, *, target: str = "harm", state: str = "yes",
                         evidence: Mapping[str, str] | None = None,
                         do: Mapping[str, str] | None = None, keep_priors: Iterable[str] = (),
                         portfolio: Iterable[str] | None = None, budget: float | None = None,
                         cost_weight: float | None = None, max_size: int | None = None,
                         samples: int = 4000,
                         rng: int | None = 0, unknowns: bool | Iterable[str] = True,
                         bootstrap: int = 30, chunk: int | None = None,
                         progress=None, scheduler=None) -> VoiResult:
    """Observation VOI (exact) and EVPPI/EVPI of the portfolio decision.

    Parameters
    ----------
    network
        The network (scenario and worldview applied).
    target, state, evidence, do, keep_priors
        The baseline question (:func:`gmnet.analysis.decision_question.baseline_question`).
    portfolio
        Mitigations on for the observation values (default: the best within the budget at the
        point values).
    budget, cost_weight, max_size
        The decision, as in :func:`gmnet.analysis.portfolios.portfolio_analysis`.
    samples
        Paired draws for EVPI and EVPPI (0: observations only).
    rng, unknowns, bootstrap
        Seed, Critical Unknowns to include, bootstrap replicates for the standard errors.
    chunk, progress, scheduler
        Passed to the batched engine; ``scheduler`` (a ``dask.distributed.Client`` or address)
        computes the draws on a Dask cluster, with the same numbers (docs/distributed.md).
    """
    from gmnet.analysis.portfolio_draws import _portfolio_columns
    from gmnet.analysis.uncertain_inputs import uncertainty_model
    from gmnet.inference.batched import plan_query

    question = baseline_question(network, target=target, state=state, evidence=evidence,
                                 do=do, keep_priors=keep_priors)
    names = question.mitigations
    if not names:
        raise InvalidArgumentError(f"network {network.name!r} has no mitigation nodes; "
                                   "there is no decision to value information for")
    weight = cost_weight_of(network, cost_weight)
    params = mitigation_costs(network, names)
    costs = portfolio_costs(np.array([params[m].value for m in names]))
    feasible = feasible_portfolios(costs, len(names), budget=budget, max_size=max_size)
    samples = int(samples)
    if samples < 0:
        raise InvalidArgumentError(f"samples must be >= 0, got {samples}")

    query = plan_query(network, target, evidence=question.evidence, do=question.do,
                       free_do=list(names))
    s = network.check_state(target, state)
    point = _portfolio_columns(network, names, query.run({})[..., s])[0]
    best = int(best_index(point + weight * costs, costs, feasible))

    evpi = evpi_se = math.nan
    expected_loss = float(point[best] + weight * costs[best])
    values: list[ParameterValue] = []
    used_unknowns: tuple[str, ...] = ()
    n_candidates = int(feasible.sum())
    if samples:
        model = uncertainty_model(network, unknowns=unknowns)
        used_unknowns = tuple(u.key for u in model.unknowns)
        needed = model.inputs_for(query.parameters)
        draws = model.sample(samples, rng=rng, names=needed)
        risk = _portfolio_columns(network, names, query.run(
            model.parameter_values(draws), chunk=chunk, progress=progress,
            scheduler=scheduler)[..., s])
        if risk.shape[0] != samples:
            risk = np.repeat(risk, samples, axis=0)
        cost_inputs: list[str] = []
        if weight > 0:  # the costs' own draws enter the loss (and get an EVPPI each)
            per = member_cost_draws(network, names, samples, rng=_cost_seed(rng))
            for j, m in enumerate(names):
                if params[m].ranged:
                    draws[COST_PREFIX + m] = per[:, j]
                    cost_inputs.append(COST_PREFIX + m)
            loss = risk + weight * portfolio_costs(per)
        else:
            loss = risk + 0.0
        keep = _candidates(loss, feasible, len(names))
        n_candidates = int(keep.size)
        lk = loss[:, keep]
        means = lk.mean(axis=0)
        expected_loss = float(means.min())
        best = int(keep[np.argmin(means)])
        evpi = float(means.min() - lk.min(axis=1).mean())
        gen = np.random.default_rng(np.random.SeedSequence(entropy=rng, spawn_key=(11,)))
        reps = []
        for _ in range(max(2, bootstrap)):
            rows = gen.integers(0, samples, samples)
            sub = lk[rows]
            reps.append(sub.mean(axis=0).min() - sub.min(axis=1).mean())
        evpi_se = float(np.std(reps, ddof=1))
        for name, kind, inputs in _groups(network, model, [*needed, *cost_inputs]):
            phi = np.column_stack([draws[i] for i in inputs])
            if lk.shape[1] == 1 or evpi <= 0:
                est, se = 0.0, 0.0
            else:
                est, se = evppi_regression(lk, phi, bootstrap=bootstrap, rng=gen)
            est = min(est, evpi)
            values.append(ParameterValue(name, kind, tuple(inputs), est, se,
                                         est / evpi if evpi > 0 else 0.0,
                                         DOCUMENT_PRIORITIES.get(name)))
        values.sort(key=lambda v: (-v.evppi, v.name))
    chosen_best = portfolio_members(names, best)
    # observations at the portfolio asked for, else at the decision's choice
    chosen = chosen_best if portfolio is None else tuple(portfolio)
    entropy, observations = observation_values(network, question, chosen)
    return VoiResult(network.name, question, tuple(chosen), entropy, tuple(observations),
                     None if budget is None else float(budget), weight, chosen_best,
                     expected_loss, evpi, evpi_se, tuple(values), samples,
                     rng if isinstance(rng, int) and not isinstance(rng, bool) else None,
                     used_unknowns, n_candidates)


def _candidates(loss: np.ndarray, feasible: np.ndarray, k: int) -> np.ndarray:
    """Feasible portfolios not beaten-or-tied in every draw by a feasible one-larger one."""
    idx = np.flatnonzero(feasible)
    keep = []
    for i in idx:
        dominated = False
        for j in range(k):
            if i >> j & 1:
                continue
            b = i | (1 << j)
            if feasible[b] and np.all(loss[:, b] <= loss[:, i] + TIE):
                dominated = True
                break
        if not dominated:
            keep.append(i)
    return np.array(keep, dtype=int)


def _groups(network: Network, model, inputs: Sequence[str]) -> list[tuple[str, str, list[str]]]:
    """Inputs grouped: a parameter's group, or one Critical Unknown each."""
    groups: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for name in inputs:
        if name.startswith("unknown:"):
            groups[name] = [name]
            kinds[name] = "critical unknown"
        else:
            g = network.parameters[name].group
            groups.setdefault(g, []).append(name)
            kinds[g] = "parameter group"
    return [(g, kinds[g], members) for g, members in groups.items()]


def portfolio_label(names: Sequence[str], on: Iterable[str]) -> str:
    """'a + b' ('none' for the empty portfolio); checks the names."""
    portfolio_index(names, on)
    return " + ".join(on) or "none"
