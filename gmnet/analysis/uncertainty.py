"""Second-order uncertainty: every ranged number is a distribution, propagated to the answer.

A network's numbers have point values and, where the source document (or an assumption) gives
one, a range. :func:`uncertainty_model` turns each ranged number into a distribution - a PERT
with its mode at the point value and its support the range - and adds the source document's
Critical Unknowns as labelled assumptions that transform the draws (see
:data:`CRITICAL_UNKNOWNS`). :func:`uncertainty` draws N sets of numbers and answers a query for
every set with the batched engine (:mod:`gmnet.inference.batched`); :func:`portfolio_draws` does
the same for every mitigation portfolio at once. docs/uncertainty.md explains the choices.

Draws are reproducible: each uncertain input has its own random stream, derived from the seed
and the input's name, so the draws of one input never depend on which other inputs a query
needs, and the same seed always gives the same numbers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gmnet.analysis.influence import moving_inputs
from gmnet.errors import InvalidArgumentError
from gmnet.inference.batched import plan_query
from gmnet.inference.forked import Workers, drawn_meanwhile
from gmnet.io.atomic import check_destination

if TYPE_CHECKING:
    from gmnet.model.network import Network

from gmnet.analysis.portfolio_draws import (  # re-exported: the public names live here too
    ComparisonUncertainty,
    PortfolioDraws,
    comparison_uncertainty,
    portfolio_draws,
)
from gmnet.analysis.uncertain_inputs import (
    CRITICAL_UNKNOWNS,
    DISTRIBUTIONS,
    MAX_PORTFOLIO_ENTRIES,
    MAX_SAMPLES,
    QUANTILES,
    CriticalUnknown,
    Progress,  # re-exported: the public names live here too
    UncertainInput,
    UncertaintyModel,
    _check_samples,
    check_samples,
    plan,
    query_text,
    seed_of,
    state_names,
    uncertainty_model,
)

__all__ = [
    "DISTRIBUTIONS",
    "QUANTILES",
    "CriticalUnknown",
    "CRITICAL_UNKNOWNS",
    "UncertainInput",
    "UncertaintyModel",
    "uncertainty_model",
    "UncertaintyResult",
    "uncertainty",
    "PortfolioDraws",
    "portfolio_draws",
    "ComparisonUncertainty",
    "comparison_uncertainty",
    "check_samples",
    "check_plot_path",
    "MAX_SAMPLES",
    "MAX_PORTFOLIO_ENTRIES",
]

# ============================================================================ one query
@dataclass(frozen=True)
class UncertaintyResult:
    """The distribution of P(target=state | evidence, do) over draws of the uncertain numbers."""

    network: str
    target: str
    state: str
    evidence: dict[str, str]
    do: dict[str, str]
    samples: int
    seed: int | None
    unknowns: tuple[str, ...]
    inputs: tuple[str, ...]  # the inputs that can move this answer (gmnet.analysis.influence)
    point: float
    draws: np.ndarray = field(repr=False)
    cancelling: tuple[str, ...] = ()  # inputs that reach the answer but cannot move it
    soft: tuple[str, ...] = ()  # soft evidence, as text (issue 19)

    @property
    def query(self) -> str:
        return query_text(self.target, self.state, self.evidence, self.do, self.soft)

    @property
    def mean(self) -> float:
        return float(self.draws.mean())

    @property
    def median(self) -> float:
        return float(np.quantile(self.draws, 0.5))

    @property
    def std(self) -> float:
        """Standard deviation of the draws (NaN for a single draw: it has none)."""
        return float(self.draws.std(ddof=1)) if self.draws.size > 1 else math.nan

    def quantiles(self, levels: Sequence[float] = QUANTILES) -> dict[float, float]:
        """Quantiles of the draws (numpy's default linear interpolation)."""
        values = np.quantile(self.draws, list(levels))
        return {float(q): float(v) for q, v in zip(levels, values, strict=True)}

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """The central interval holding ``level`` of the draws."""
        # rounded so that interval(0.9) is exactly the 5% and 95% quantiles
        lo, hi = np.quantile(self.draws, [round((1 - level) / 2, 12), round((1 + level) / 2, 12)])
        return float(lo), float(hi)

    def histogram(self, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """Counts and bin edges of the draws."""
        lo, hi = float(self.draws.min()), float(self.draws.max())
        if hi <= lo:
            hi = lo + 1e-9
        return np.histogram(self.draws, bins=bins, range=(lo, hi))

    def summary(self) -> str:
        """The result in one sentence."""
        cancel = (f" ({len(self.cancelling)} more reach it but cancel)" if self.cancelling
                  else "")
        if not self.inputs:
            return (f"{self.query} is {self.point:.4g} in every draw: none of the uncertain "
                    f"numbers can move it{cancel}.")
        numbers = (f"the {len(self.inputs)} uncertain number"
                   + ("s" if len(self.inputs) != 1 else "") + " that can move it" + cancel)
        if self.samples == 1:
            return (f"{self.query} is {self.point:.4g} at the point values; one draw of "
                    f"{numbers} gives {float(self.draws[0]):.4g} (quantiles need more draws).")
        lo, hi = self.interval(0.9)
        if hi - lo < 1e-12:
            return (f"{self.query} is {self.point:.4g} at the point values and "
                    f"{self.median:.4g} in all {self.samples:,} draws of {numbers}.")
        return (f"{self.query} is {self.point:.4g} at the point values; over {self.samples:,} "
                f"draws of {numbers}, its median "
                f"is {self.median:.4g} and 90% of draws lie between {lo:.4g} and {hi:.4g}.")

    def to_dict(self, *, include_draws: bool = False) -> dict:
        out: dict[str, Any] = {
            "network": self.network, "query": self.query, "target": self.target,
            "state": self.state, "evidence": dict(self.evidence), "do": dict(self.do),
            "samples": self.samples, "seed": self.seed, "critical_unknowns": list(self.unknowns),
            "inputs": list(self.inputs), "reached_but_cancel": list(self.cancelling),
            "point": self.point, "mean": self.mean,
            "median": self.median, "std": None if self.samples < 2 else self.std,
            "quantiles": {f"{q:g}": v for q, v in self.quantiles().items()},
            "interval_90": list(self.interval(0.9)), "summary": self.summary(),
        }
        if include_draws:
            out["draws"] = self.draws.tolist()
        return out


    def to_frame(self, what: str = "summary"):
        """A pandas DataFrame: ``"summary"`` (point, mean, median, quantiles) or ``"draws"``
        (the answer in every draw)."""
        from gmnet.analysis.frames import uncertainty_frame

        return uncertainty_frame(self, what)

# Draws sampled and answered at a time by :func:`uncertainty`: 131,072 draws of 50 inputs are
# 52 MB, so a run of any length stays far inside 500 MB.
SAMPLE_BLOCK = 131_072

# Blocks a long run draws in a forked child while it finds the inputs that move the answer (one
# thread of Python, 0.45-0.6 s on the nothing-held question, most of it numba's loading): two
# blocks of the bundled network's 49 inputs, 103 MB shared with the child, about 0.26 s of
# drawing on two cores (gmnet.inference.forked.drawn_meanwhile)
DRAWN_AHEAD = 2


def uncertainty(network: Network, target: str, state: str | None = None, *,
                evidence: Mapping[str, str] | None = None,
                do: Mapping[str, str] | None = None, samples: int = 10_000,
                rng: int | np.random.Generator | None = None,
                unknowns: bool | Iterable[str] = True, chunk: int | None = None,
                progress: Progress | None = None, soft=None,
                scheduler=None) -> UncertaintyResult:
    """Propagate the uncertain numbers to P(target=state | evidence, do(...)).

    Parameters
    ----------
    network
        The network (with any scenario or worldview already applied).
    target, state
        What to compute; ``state`` defaults to the target's first state.
    evidence, do
        Observed and intervened variables, as in :meth:`gmnet.Network.query`.
    samples
        Number of draws.
    rng
        Seed or generator; the same seed gives the same numbers.
    unknowns
        Which Critical Unknowns to include (see :func:`uncertainty_model`).
    chunk, progress
        Draws per contraction; a callback told how many draws finished after each chunk.
    soft
        Soft evidence (see :func:`gmnet.inference.soft.soft_query`); a fixed marginal holds
        in every draw.
    scheduler
        A ``dask.distributed.Client`` or scheduler address: the draws are computed on that Dask
        cluster, with the same numbers (docs/distributed.md). None: on this machine.

    Examples
    --------
    >>> import gmnet
    >>> net = gmnet.load_network()
    >>> result = uncertainty(net, "harm", "yes", evidence={"shift_type": "extreme"},
    ...                      samples=2000, rng=1)
    >>> result.quantiles()[0.05] < result.median < result.quantiles()[0.95]
    True
    """
    samples = _check_samples(samples)
    query, state_index, state = plan(network, target, state, evidence, do)
    model = uncertainty_model(network, unknowns=unknowns)
    if soft:  # soft evidence (issue 19): its nodes' ancestors matter too, so draw every input
        from gmnet.inference.soft import batched_soft_posterior

        reach = set(query.parameters)
        for f in _soft_terms(soft):  # the soft nodes' ancestors join the target's
            network.node(f.node)
            reach |= plan_query(network, f.node, evidence=evidence, do=do).parameters
        needed = model.inputs_for(reach)

        full_index = network.check_state(target, state)

        def run(vals, progress=None, scheduler=None, pool=None):
            return batched_soft_posterior(network, target, soft=soft, evidence=evidence, do=do,
                                          values=vals, chunk=chunk, progress=progress,
                                          scheduler=scheduler)[:, full_index:full_index + 1]
    else:
        needed = model.inputs_for(query.parameters)

        def run(vals, progress=None, scheduler=None, pool=None):
            # the whole run's draws decide whether it compiles loops, not one block's
            return query.run(vals, chunk=chunk, progress=progress, scheduler=scheduler,
                             effort=samples, pool=pool)
    # drawn and answered block by block: memory stays bounded whatever ``samples`` is, and
    # the draws are exactly those of drawing them all at once (one stream per input)
    streams = model.streams(rng=rng, names=needed)
    sizes = [min(SAMPLE_BLOCK, samples - start) for start in range(0, samples, SAMPLE_BLOCK)]
    ahead: list[dict[str, np.ndarray]] = []
    if soft:
        moving, cancelling = tuple(needed), ()
    elif len(sizes) > 1:  # a long run: its first blocks drawn while the moving inputs are found
        (moving, cancelling), ahead = drawn_meanwhile(
            lambda: moving_inputs(model, query, state_index, needed), streams.take,
            streams.generators, [item.name for item in streams.items], sizes[:DRAWN_AHEAD])
    else:
        moving, cancelling = moving_inputs(model, query, state_index, needed)
    answers = np.empty(samples)
    # a long run's worker processes forked once, not at every block (forked.Workers)
    with Workers() if len(sizes) > 1 and not soft and scheduler is None \
            else contextlib.nullcontext() as pool:
        for k, size in enumerate(sizes):
            block = ahead[k] if k < len(ahead) else streams.take(size)
            if k < len(ahead):
                ahead[k] = {}  # its memory goes with the last block drawn ahead
            start = k * SAMPLE_BLOCK
            answers[start:start + size] = run(model.parameter_values(block), progress,
                                              scheduler, pool)[:, state_index]
            del block
    # the point is the exact engine's answer, as `gmnet query` and /api/query give it: the same
    # number to the last bit on every surface (the batched engine at the point values agrees
    # to about 1e-16, not always to the bit, where evidence is normalised), and cheaper
    point = float(network.query(target, evidence=evidence, do=do, soft=soft or None)[state])
    return UncertaintyResult(
        network.name, target, state, state_names(network, query.evidence),
        state_names(network, query.do), samples, seed_of(rng),
        tuple(u.key for u in model.unknowns), moving, point, answers, cancelling,
        tuple(str(f) for f in _soft_terms(soft)))


def _soft_terms(soft) -> tuple:
    from gmnet.model.soft_evidence import as_findings

    return as_findings(soft)



# ============================================================================ plot paths
def _plot_format(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InvalidArgumentError(
            f"cannot plot to {path}: the file name must end in .png or .svg")
    return fmt


def check_plot_path(path: str | Path) -> Path:
    """Check that a plot can be written to ``path`` (a .png or .svg file in a folder that
    exists), before anything is computed; returns it as a Path."""
    if not str(path).strip():
        raise InvalidArgumentError("an empty plot file name; name a .png or .svg file, "
                                   "e.g. out/plot.svg")
    path = Path(path)
    _plot_format(path)
    check_destination(path)
    return path


