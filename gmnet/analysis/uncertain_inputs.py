"""The uncertain inputs of a network and how they map to its parameters: PERT (and log-uniform,
Bernoulli) draws of every ranged number, the source document's Critical Unknowns as labelled
assumptions that transform the draws, and the limits on how many draws a run may take.

:func:`gmnet.analysis.uncertainty.uncertainty` propagates them to an answer."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.inference.batched import BatchedQuery, default_workers, plan_query
from gmnet.model.pert_kernel import pert_draws
from gmnet.model.schema import DECISION_UNITS
from gmnet.random import as_generator, keyed_generators

if TYPE_CHECKING:
    from gmnet.model.network import Network


DISTRIBUTIONS = ("pert", "log_uniform", "bernoulli")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
PERT_WEIGHT = 4.0  # the classic PERT: mean = (low + 4 mode + high) / 6
MAX_SAMPLES = 1_000_000  # the draws of ~50 inputs alone then take ~400 MB
MAX_PORTFOLIO_ENTRIES = 20_000_000  # samples x portfolios: 160 MB per array of answers
TIE = 1e-12  # differences of probabilities below this are floating-point noise

Progress = Callable[[int], None]


# ============================================================================ inputs
@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input: a ranged number of the network, or a Critical Unknown.

    ``distribution`` is ``"pert"`` (Beta-PERT on [low, high] with mode ``point``),
    ``"log_uniform"`` (uniform in log between low and high: no direction preferred) or
    ``"bernoulli"`` (1 with probability ``probability``, else 0; ``low``/``high`` are 0/1).
    ``point`` is the value that reproduces the network's own point answer.
    """

    name: str
    label: str
    distribution: str
    low: float
    point: float
    high: float
    unit: str
    source: str
    critical_unknown: bool = False
    probability: float | None = None

    @property
    def pert_shape(self) -> tuple[float, float]:
        """The Beta shape parameters (alpha, beta) of a PERT input."""
        width = self.high - self.low
        if width <= 0:
            return 1.0, 1.0
        alpha = 1.0 + PERT_WEIGHT * (self.point - self.low) / width
        beta = 1.0 + PERT_WEIGHT * (self.high - self.point) / width
        return alpha, beta

    @property
    def mean(self) -> float:
        if self.distribution == "pert":
            return (self.low + PERT_WEIGHT * self.point + self.high) / (PERT_WEIGHT + 2.0)
        if self.distribution == "log_uniform":
            a, b = math.log(self.low), math.log(self.high)
            return (self.high - self.low) / (b - a)
        return float(self.probability)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws (exact: Beta variates for a PERT)."""
        if self.distribution == "pert":
            alpha, beta = self.pert_shape
            drawn = pert_draws(rng, alpha, beta, self.low, self.high, n)  # the same numbers
            if drawn is not None:
                return drawn
            return self.low + (self.high - self.low) * rng.beta(alpha, beta, size=n)
        if self.distribution == "log_uniform":
            return np.exp(rng.uniform(math.log(self.low), math.log(self.high), size=n))
        return (rng.random(n) < self.probability).astype(float)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The quantile function: maps uniform numbers in [0, 1] to this input's values.

        Used for Sobol designs. A PERT uses a 4097-point table of the Beta CDF, inverted by
        linear interpolation (error below 1e-4 of the range).
        """
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.distribution == "pert":
            x, cdf = _beta_cdf_table(*self.pert_shape)
            return self.low + (self.high - self.low) * np.interp(u, cdf, x)
        if self.distribution == "log_uniform":
            a, b = math.log(self.low), math.log(self.high)
            return np.exp(a + u * (b - a))
        return (u < self.probability).astype(float)

    def to_dict(self) -> dict:
        out = {"name": self.name, "label": self.label, "distribution": self.distribution,
               "low": self.low, "point": self.point, "high": self.high, "unit": self.unit,
               "source": self.source, "critical_unknown": self.critical_unknown}
        if self.probability is not None:
            out["probability"] = self.probability
        return out


@lru_cache(maxsize=256)
def _beta_cdf_table(alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import betainc

    x = np.linspace(0.0, 1.0, 4097)
    cdf = betainc(alpha, beta, x)
    cdf[0], cdf[-1] = 0.0, 1.0
    return x, cdf


# ============================================================================ critical unknowns
@dataclass(frozen=True)
class CriticalUnknown:
    """One of the source document's Critical Unknowns, as a transformation of the draws.

    ``acts_on`` lists parameter names or whole groups (``p_goal_failure``); the unknown is
    active on a network that has at least one of them. ``how`` is ``"scale"`` (multiply and
    clip to the unit's bounds), ``"succeeds"`` (keep the drawn value where the draw succeeds,
    else ``fallback``) or ``"replace"`` (the unknown's draw replaces the value).
    """

    key: str
    label: str
    distribution: str
    low: float
    high: float
    point: float | None  # None: the replaced parameter's own point value
    acts_on: tuple[str, ...]
    how: str
    description: str
    source: str
    probability: float | None = None
    fallback: float = 1.0
    default: bool = True  # in the default set (``unknowns=True``); else only when asked for

    @property
    def input_name(self) -> str:
        return f"unknown:{self.key}"


CRITICAL_UNKNOWNS: tuple[CriticalUnknown, ...] = (
    CriticalUnknown(
        key="llm_vs_rl_generalization",
        label="Critical Unknown: LLM vs RL generalization",
        distribution="pert", low=0.5, high=1.5, point=1.0,
        acts_on=("p_goal_failure",), how="scale",
        description=(
            "One factor, shared by every shift type, multiplies the goal-failure estimates "
            "(clipped to 1): the document's evidence comes from RL agents, and whether language "
            "models misgeneralize goals as often is open. PERT on [0.5, 1.5], mode 1."),
        source=("Critical Unknowns: LLM vs RL generalization, +-50% on estimates; assumption: "
                "applied to P(goal fails | capability), the factor the RL evidence informs")),
    CriticalUnknown(
        key="interpretability_feasibility",
        label="Critical Unknown: interpretability feasibility",
        distribution="bernoulli", low=0.0, high=1.0, point=1.0, probability=0.5,
        acts_on=("m_alignment.interpretability_verified", "m_interpretability_verification"),
        how="succeeds", fallback=1.0, default=False,
        description=(
            "Interpretability-based verification delivers its multiplier (0.4x in the document) "
            "only if it turns out to be feasible; otherwise it changes nothing (1.0x). Feasible "
            "with probability 0.5 in each draw, one draw shared by every interpretability "
            "lever."),
        source=("Critical Unknowns: interpretability feasibility, 0.4x if successful; "
                "assumption: success probability 0.5 (the document gives none)")),
    CriticalUnknown(
        key="superhuman_capability_effects",
        label="Critical Unknown: superhuman capability effects",
        distribution="log_uniform", low=1.0 / 3.0, high=3.0, point=None,
        acts_on=("m_capability.superhuman",), how="replace", default=False,
        description=(
            "The document cannot say whether superhuman capability makes a misgeneralized goal "
            "more or less harmful. Its multiplier ranges over [1/3, 3], uniform in log, so "
            "raising and lowering the risk are equally likely; it replaces the network's "
            "range [2, 3]. Its point stays the network's 3.0x."),
        source=("Critical Unknowns: superhuman capability effects, direction unknown; "
                "assumption: log-uniform on [1/3, 3]")),
)


def _unknown_targets(network: Network, unknown: CriticalUnknown) -> list[str]:
    names = []
    for entry in unknown.acts_on:
        if entry in network.parameters:
            names.append(entry)
        else:
            names += [n for n, p in network.parameters.items() if p.group == entry]
    return names


# ============================================================================ the model
@dataclass(frozen=True)
class UncertaintyModel:
    """The uncertain inputs of a network and how they map to its parameters.

    Build it with :func:`uncertainty_model`. ``inputs`` are the ranged parameters (PERT) and the
    active Critical Unknowns; :meth:`parameter_values` turns draws of the inputs into values of
    the network's parameters (the unknowns transform them).
    """

    network: Network
    inputs: tuple[UncertainInput, ...]
    unknowns: tuple[CriticalUnknown, ...]
    targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # unknown -> params

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)

    def input(self, name: str) -> UncertainInput:
        for i in self.inputs:
            if i.name == name:
                return i
        raise UnknownNameError("uncertain input", name, self.names)

    def points(self) -> dict[str, float]:
        """Every input at its point: the network's own answer."""
        return {i.name: i.point for i in self.inputs}

    def inputs_for(self, parameters: Iterable[str]) -> list[str]:
        """The inputs that can change any of ``parameters``, in model order."""
        wanted = set(parameters)
        out = []
        for i in self.inputs:
            if i.critical_unknown:
                if wanted & set(self.targets.get(i.name, ())):
                    out.append(i.name)
            elif i.name in wanted:
                out.append(i.name)
        return out

    def sample(self, samples: int, *, rng: int | np.random.Generator | None = None,
               names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """``samples`` draws of the inputs ``names`` (default: all), one stream per input."""
        samples = _check_samples(samples)
        return self.streams(rng=rng, names=names).take(samples)

    def streams(self, *, rng: int | np.random.Generator | None = None,
                names: Iterable[str] | None = None) -> InputStreams:
        """The inputs' random streams, to draw from block by block: ``take(n)`` gives the next
        ``n`` draws of each, and blocks taken one after another are exactly the draws
        :meth:`sample` gives at once (each input draws from its own stream in order), so a
        long run need not hold every draw in memory."""
        base = int(as_generator(rng).integers(0, 2**63 - 1))
        chosen = self.names if names is None else tuple(names)
        return InputStreams([self.input(name) for name in chosen], base)

    def parameter_values(self, draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Network parameter values from draws of (some of) the inputs.

        Inputs left out stay at their points; parameters no input touches keep their point
        value (and are left out of the result).
        """
        params = self.network.parameters
        values: dict[str, np.ndarray] = {}
        for i in self.inputs:
            if not i.critical_unknown and i.name in draws:
                values[i.name] = np.asarray(draws[i.name], dtype=float)
        for unknown in self.unknowns:
            name = unknown.input_name
            if name not in draws:
                continue
            u = np.asarray(draws[name], dtype=float)
            for target in self.targets[name]:
                base = values.get(target, np.asarray([params[target].value]))
                if unknown.how == "scale":
                    scaled = base * u
                    unit = params[target].unit
                    hi = 1.0 if unit in ("probability", "fraction") else np.inf
                    values[target] = np.clip(scaled, 0.0, hi)
                elif unknown.how == "succeeds":
                    values[target] = np.where(u > 0.5, base, unknown.fallback)
                else:  # replace
                    values[target] = np.broadcast_to(u, np.broadcast_shapes(u.shape, base.shape))
        return values

    def to_dict(self) -> dict:
        return {"network": self.network.name,
                "inputs": [i.to_dict() for i in self.inputs],
                "critical_unknowns": [{"key": u.key, "label": u.label,
                                       "description": u.description, "source": u.source,
                                       "acts_on": list(self.targets[u.input_name])}
                                      for u in self.unknowns]}


class InputStreams:
    """One random stream per uncertain input (see :meth:`UncertaintyModel.streams`)."""

    def __init__(self, items: Sequence[UncertainInput], base: int):
        self.items = list(items)
        # default_rng(SeedSequence(entropy=base, spawn_key=(crc32(name),))) for each input
        self.generators = keyed_generators(
            base, [zlib.crc32(item.name.encode("utf-8")) for item in self.items])

    def take(self, samples: int) -> dict[str, np.ndarray]:
        """The next ``samples`` draws of every input."""
        pairs = list(zip(self.items, self.generators, strict=True))

        def draw(pair) -> np.ndarray:
            item, stream = pair
            return item.sample(samples, stream)

        # independent streams: threads (numpy releases the GIL) change nothing but the time
        if samples * len(pairs) >= 1_000_000 and default_workers() > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(default_workers()) as pool:
                return {item.name: arr for item, arr in
                        zip(self.items, pool.map(draw, pairs), strict=True)}
        return {item.name: draw(pair) for item, pair in zip(self.items, pairs, strict=True)}


def uncertainty_model(network: Network, *, unknowns: bool | Iterable[str] = True,
                      interpretability_success: float | None = None) -> UncertaintyModel:
    """The uncertain inputs of ``network``.

    Parameters
    ----------
    network
        Any network; its ranged parameters become PERT inputs (a parameter without a range
        stays fixed: give it one with ``network.with_parameters``).
    unknowns
        ``True`` (default): the default Critical Unknowns that apply to the network (one
        whose parameters it has): LLM vs RL generalization. ``"all"``: every one that applies,
        adding interpretability feasibility (success with probability 0.5) and superhuman
        capability effects (direction unknown, log-uniform 1/3x-3x), which are off by default:
        the document's numbers assume interpretability works (0.4x "if successful") and the
        Key Modifying Factors give superhuman capability its direction (docs/uncertainty.md).
        ``False``: none; or the keys of those to use (see :data:`CRITICAL_UNKNOWNS`), which
        must apply.
    interpretability_success
        Probability that interpretability works, for the interpretability-feasibility unknown
        (default 0.5).

    Examples
    --------
    >>> import gmnet
    >>> model = uncertainty_model(gmnet.load_network())
    >>> model.input("m_spec.low").distribution, model.input("m_spec.low").pert_shape
    ('pert', (3.0, 3.0))
    >>> [u.key for u in model.unknowns]
    ['llm_vs_rl_generalization']
    >>> [u.key for u in uncertainty_model(gmnet.load_network(), unknowns="all").unknowns]
    ['llm_vs_rl_generalization', 'interpretability_feasibility', 'superhuman_capability_effects']
    """
    chosen = _choose_unknowns(network, unknowns)
    if interpretability_success is not None:
        p = float(interpretability_success)
        if not 0.0 <= p <= 1.0:
            raise InvalidArgumentError(
                f"interpretability_success must be a probability in [0, 1], got {p}")
        chosen = [u if u.key != "interpretability_feasibility" else
                  CriticalUnknown(**{**u.__dict__, "probability": p}) for u in chosen]
    targets = {u.input_name: tuple(_unknown_targets(network, u)) for u in chosen}
    replaced = {t for u in chosen if u.how == "replace" for t in targets[u.input_name]}
    inputs: list[UncertainInput] = []
    for p in network.parameters.values():
        # costs and the cost weight belong to the decision analyses, which draw them
        # themselves (gmnet.analysis.portfolios.member_cost_draws): no CPT reads them
        if not p.ranged or p.name in replaced or p.unit in DECISION_UNITS:
            continue
        inputs.append(UncertainInput(
            p.name, p.name, "pert", float(p.low), float(p.value), float(p.high), p.unit,
            p.source))
    for u in chosen:
        point = u.point
        if point is None:  # a replacement keeps the replaced number's point
            point = float(network.parameters[targets[u.input_name][0]].value)
            if not u.low <= point <= u.high:
                point = min(max(point, u.low), u.high)
        inputs.append(UncertainInput(
            u.input_name, u.label, u.distribution, u.low, float(point), u.high,
            "multiplier" if u.distribution != "bernoulli" else "indicator", u.source,
            critical_unknown=True, probability=u.probability))
    return UncertaintyModel(network, tuple(inputs), tuple(chosen), targets)


def _choose_unknowns(network: Network, unknowns) -> list[CriticalUnknown]:
    known = {u.key: u for u in CRITICAL_UNKNOWNS}
    if unknowns is True:
        return [u for u in CRITICAL_UNKNOWNS if u.default and _unknown_targets(network, u)]
    if unknowns == "all":
        return [u for u in CRITICAL_UNKNOWNS if _unknown_targets(network, u)]
    if unknowns is False or unknowns is None:
        return []
    if isinstance(unknowns, str):
        unknowns = [unknowns]
    chosen = []
    for key in unknowns:
        if key not in known:
            raise UnknownNameError("critical unknown", str(key), list(known))
        if not _unknown_targets(network, known[key]):
            raise InvalidArgumentError(
                f"critical unknown {key!r} acts on {', '.join(known[key].acts_on)}, which "
                f"network {network.name!r} does not have")
        if known[key] not in chosen:
            chosen.append(known[key])
    return [u for u in CRITICAL_UNKNOWNS if u in chosen]


def check_samples(samples, *, portfolios: int = 1) -> int:
    """``samples`` as an int, or an error saying what is allowed.

    At most :data:`MAX_SAMPLES` draws; with ``portfolios`` answers per draw (every mitigation
    portfolio at once), at most :data:`MAX_PORTFOLIO_ENTRIES` answers in all. Call it before a
    long computation, so a bad count fails at once.

    >>> check_samples(1000, portfolios=512)
    1000
    """
    samples = _check_samples(samples)
    entries = samples * portfolios
    if entries > MAX_PORTFOLIO_ENTRIES:
        raise InvalidArgumentError(
            f"{samples:,} samples x {portfolios:,} portfolios is {entries:,} answers, more "
            f"than {MAX_PORTFOLIO_ENTRIES:,}; use at most "
            f"{MAX_PORTFOLIO_ENTRIES // portfolios:,} samples")
    return samples


def _check_samples(samples) -> int:
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 1:
        raise InvalidArgumentError(f"samples must be a positive whole number, got {samples!r}")
    if samples > MAX_SAMPLES:
        raise InvalidArgumentError(f"samples must be at most {MAX_SAMPLES:,}, got {samples:,}")
    return int(samples)



def plan(network, target, state, evidence, do) -> tuple[BatchedQuery, int, str]:
    """(the query planned for P(target=state | ...) alone, its answer's column, the state)."""
    states = network.states(target)
    if state is None:
        state = states[0]
    network.check_state(target, state)
    query = plan_query(network, target, evidence=evidence, do=do, state=state)
    return query, 0, state


def state_names(network, assignment: Mapping[str, int]) -> dict[str, str]:
    return {v: network.states(v)[i] for v, i in assignment.items()}


def seed_of(rng) -> int | None:
    return int(rng) if isinstance(rng, int | np.integer) and not isinstance(rng, bool) else None


def query_text(target, state, evidence, do, soft=()) -> str:
    parts = [f"{k}={v}" for k, v in evidence.items()] + [str(f) for f in soft]
    if do:
        parts.append("do(" + ", ".join(f"{k}={v}" for k, v in do.items()) + ")")
    return f"P({target}={state}" + (" | " + ", ".join(parts) if parts else "") + ")"


