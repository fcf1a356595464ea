"""Every mitigation portfolio over the same parameter draws (paired draws): the draws behind
``gmnet compare --samples`` and the decision analyses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gmnet.errors import InvalidArgumentError
from gmnet.inference.batched import plan_query

if TYPE_CHECKING:
    from gmnet.analysis.mitigations import MitigationComparison
    from gmnet.model.network import Network

from gmnet.analysis.uncertain_inputs import (
    TIE,
    Progress,
    _check_samples,
    check_samples,
    seed_of,
    uncertainty_model,
)


# ============================================================================ every portfolio
@dataclass(frozen=True)
class PortfolioDraws:
    """P(target=state | evidence, do(context, portfolio)) for every portfolio and draw.

    ``values`` has shape (N, 2**k): column ``i`` is the portfolio with ``mitigations[j]`` on
    exactly when bit ``j`` of ``i`` is set (the convention of
    :func:`gmnet.analysis.mitigations.portfolio_index`). ``point`` is the same at the point
    values, shape (2**k,).
    """

    mitigations: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    point: np.ndarray = field(repr=False)
    samples: int = 0
    unknowns: tuple[str, ...] = ()


def portfolio_draws(network: Network, target: str, state: str, mitigations: Sequence[str], *,
                    evidence: Mapping[str, str] | None = None,
                    do: Mapping[str, str] | None = None, samples: int = 10_000,
                    rng: int | np.random.Generator | None = None,
                    unknowns: bool | Iterable[str] = True, chunk: int | None = None,
                    progress: Progress | None = None, scheduler=None) -> PortfolioDraws:
    """Every mitigation portfolio under N draws of the uncertain numbers, in one contraction.

    The mitigation nodes are cut from their parents like any do(), but keep their axes free,
    so each chunk of draws is one contraction for all 2**k portfolios; the draws are shared by
    every portfolio (paired), which is what makes "A beats B in 80% of draws" meaningful.

    Each mitigation needs states ``on`` and ``off``. ``scheduler`` (a
    ``dask.distributed.Client`` or address) computes the draws on a Dask cluster, with the same
    numbers (docs/distributed.md).

    >>> import gmnet
    >>> net = gmnet.load_network()
    >>> d = portfolio_draws(net, "harm", "yes", ["ai_control", "human_override"],
    ...                     do={"shift_type": "extreme"}, samples=500, rng=0)
    >>> d.values.shape, bool((d.values[:, 1] <= d.values[:, 0]).all())
    ((500, 4), True)
    """
    names = list(mitigations)
    check_samples(samples, portfolios=2 ** len(names))
    for m in names:
        states = network.states(m)
        if "on" not in states or "off" not in states:
            raise InvalidArgumentError(
                f"mitigation {m!r} has states {', '.join(states)}; a portfolio needs the "
                "states 'on' and 'off'")
    network.check_state(target, state)
    query = plan_query(network, target, evidence=evidence, do=do, free_do=names, state=state)
    index = 0  # the query answers P(target=state) alone
    model = uncertainty_model(network, unknowns=unknowns)
    needed = model.inputs_for(query.parameters)
    values = model.parameter_values(model.sample(samples, rng=rng, names=needed))
    draws = _portfolio_columns(network, names, query.run(values, chunk=chunk,
                                                         progress=progress,
                                                         scheduler=scheduler)[..., index])
    samples = _check_samples(samples)
    if draws.shape[0] != samples:  # nothing uncertain reaches the answer
        draws = np.repeat(draws, samples, axis=0)
    point = _portfolio_columns(network, names, query.run({})[..., index])[0]
    return PortfolioDraws(tuple(names), draws, point, samples,
                          tuple(u.key for u in model.unknowns))


def _portfolio_columns(network, names, answers: np.ndarray) -> np.ndarray:
    """(N, card_1, ..., card_k) -> (N, 2**k) with bit j set when names[j] is on."""
    n = answers.shape[0]
    for axis, m in enumerate(names, start=1):
        states = network.states(m)
        answers = np.take(answers, [states.index("off"), states.index("on")], axis=axis)
    # reversed axes so that a C-order reshape puts names[j] on bit j
    order = [0] + list(range(len(names), 0, -1))
    return np.ascontiguousarray(answers.transpose(order)).reshape(n, 2 ** len(names))


# ============================================================================ compare with draws
@dataclass(frozen=True)
class ComparisonUncertainty:
    """Intervals for a mitigation comparison, from paired draws of every portfolio.

    ``portfolios`` maps a portfolio row name to its (5%, 95%) interval of P(target);
    ``mitigations`` maps a mitigation to the intervals of its reduction alone, its marginal
    value (added last) and its Shapley value; ``beats`` lists, for adjacent rows of each of the
    comparison's tables, the share of draws in which the upper row beats the lower one
    (``p_a_beats_b``) and in which they tie (``p_tie``).
    """

    samples: int
    seed: int | None
    unknowns: tuple[str, ...]
    level: float
    portfolios: dict[str, tuple[float, float]]
    mitigations: dict[str, dict[str, tuple[float, float]]]
    beats: dict[str, list[dict]]
    draws: PortfolioDraws = field(repr=False)

    def to_dict(self) -> dict:
        return {"samples": self.samples, "seed": self.seed,
                "critical_unknowns": list(self.unknowns), "level": self.level,
                "portfolios": {k: list(v) for k, v in self.portfolios.items()},
                "mitigations": {k: {m: list(iv) for m, iv in v.items()}
                                for k, v in self.mitigations.items()},
                "beats": self.beats}


    def to_frame(self):
        """One row per portfolio with its interval, as a pandas DataFrame."""
        from gmnet.analysis.frames import comparison_uncertainty_frame

        return comparison_uncertainty_frame(self)

def comparison_uncertainty(network: Network, comparison: MitigationComparison, *,
                           samples: int = 10_000, rng: int | np.random.Generator | None = None,
                           unknowns: bool | Iterable[str] = True, level: float = 0.9,
                           chunk: int | None = None, progress: Progress | None = None,
                           scheduler=None) -> ComparisonUncertainty:
    """Intervals and pairwise odds for a :func:`gmnet.compare_mitigations` result.

    The comparison's own evidence and do() (its context included) are kept; every portfolio
    is evaluated on the same draws. ``scheduler``: as in :func:`portfolio_draws`.
    """
    from gmnet.analysis.mitigations import portfolio_index, shapley_values

    if not 0.0 < level < 1.0:
        raise InvalidArgumentError(f"level must lie strictly between 0 and 1, got {level}")
    names = list(comparison.names)
    draws = portfolio_draws(network, comparison.target, comparison.state, names,
                            evidence=comparison.evidence, do=comparison.do, samples=samples,
                            rng=rng, unknowns=unknowns, chunk=chunk, progress=progress,
                            scheduler=scheduler)
    p = draws.values
    q = ((1 - level) / 2, (1 + level) / 2)

    def interval(x) -> tuple[float, float]:
        lo, hi = np.quantile(x, q)
        return float(lo), float(hi)

    portfolios = {row.name: interval(p[:, portfolio_index(names, row.members)])
                  for row in comparison.portfolios}
    reduction = p[:, :1] - p
    shapley = shapley_values(reduction)
    full = (1 << len(names)) - 1
    per_mitigation: dict[str, dict[str, np.ndarray]] = {}
    for i, m in enumerate(names):
        per_mitigation[m] = {"alone": reduction[:, 1 << i],
                             "marginal": p[:, full & ~(1 << i)] - p[:, full],
                             "shapley": shapley[:, i]}
    mitigations = {m: {k: interval(v) for k, v in values.items()}
                   for m, values in per_mitigation.items()}
    beats: dict[str, list[dict]] = {"mitigations": [], "portfolios": []}
    ordered = [v.name for v in comparison.values]
    for a, b in zip(ordered, ordered[1:], strict=False):
        diff = per_mitigation[a]["shapley"] - per_mitigation[b]["shapley"]
        beats["mitigations"].append({"a": a, "b": b, "by": "larger Shapley value",
                                     **_odds(diff)})
    rows = sorted((r for r in comparison.portfolios if r.kind != "mitigation"),
                  key=lambda r: (-r.absolute_reduction, r.name))
    for a, b in zip(rows, rows[1:], strict=False):
        pa = p[:, portfolio_index(names, a.members)]
        pb = p[:, portfolio_index(names, b.members)]
        beats["portfolios"].append({"a": a.name, "b": b.name, "by": "lower probability",
                                    **_odds(pb - pa)})
    return ComparisonUncertainty(draws.samples, seed_of(rng), draws.unknowns, level,
                                 portfolios, mitigations, beats, draws)


def _odds(diff: np.ndarray) -> dict[str, float]:
    """Share of draws in which A beats B (``diff`` > 0) and in which they tie (floating-point
    noise, below 1e-12, counts as a tie)."""
    return {"p_a_beats_b": float(np.mean(diff > TIE)), "p_tie": float(np.mean(np.abs(diff) <= TIE))}


