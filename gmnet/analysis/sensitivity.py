"""Which uncertain number matters most for an answer: one-way (tornado) and Sobol indices.

Two complementary views of the same inputs (:func:`gmnet.analysis.uncertainty.uncertainty_model`:
every ranged number and the Critical Unknowns):

- **one-way** (tornado): each input at its low and at its high end, every other at its point
  value. Cheap and easy to read, but blind to interactions.
- **global** (Sobol, SALib's method): every input varies over its distribution at once. The
  first-order index S1 is the share of the answer's variance an input explains on its own; the
  total-order index ST adds its interactions with the others. An input that cannot reach the
  answer has both exactly 0. Confidence intervals come from SALib's bootstrap (reimplemented
  a block at a time: the same numbers, SALib itself is not needed).

Both run on one planned batched query. The Sobol design (SALib's, N (d + 2) rows) is made and
evaluated a block of base rows at a time (:mod:`gmnet.analysis.sobol_design`), so only its
answers are held, never the design; rows that only differ in inputs the query cannot depend on
are not evaluated twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from gmnet.analysis.influence import moving_inputs
from gmnet.analysis.sobol_design import base_blocks, sobol_indices
from gmnet.analysis.uncertain_inputs import (
    MAX_SAMPLES,
    UncertaintyModel,
    _check_samples,
    uncertainty_model,
)
from gmnet.analysis.uncertain_inputs import plan as _plan
from gmnet.analysis.uncertain_inputs import query_text as _query_text
from gmnet.analysis.uncertain_inputs import seed_of as _seed_of
from gmnet.analysis.uncertain_inputs import state_names as _names
from gmnet.errors import InvalidArgumentError
from gmnet.random import as_generator

if TYPE_CHECKING:
    from gmnet.inference.batched import BatchedQuery
    from gmnet.model.network import Network

__all__ = ["SensitivityRow", "SensitivityResult", "sensitivity", "answers",
           "max_sobol_samples", "MAX_SOBOL_ROWS", "DESIGN_BLOCK_ROWS"]

Progress = Callable[[int], None]
# the answers of one block of rows, from its parameter values and its number of rows
Evaluate = Callable[[Mapping[str, np.ndarray], int], np.ndarray]

# A Sobol design of base size N over d inputs has N (d + 2) rows. It is never held (see
# DESIGN_BLOCK_ROWS), but its answers are, one number per row: at most this many (128 MB).
MAX_SOBOL_ROWS = 1 << 24
# Rows evaluated per block of the design: the block's parameter values take about 0.5 KB per row
# (30 MB), and a block spans a few of the engine's chunks, which its threads share. (Twice as
# many rows: the same time, twice the memory; N = 8192 over 49 inputs peaked at 112 MB traced
# with this, 222 MB with twice, 106 MB with half.)
DESIGN_BLOCK_ROWS = 1 << 16


def max_sobol_samples(inputs: int) -> int:
    """The largest Sobol base size N (a power of 2, at most the sample limit) whose design over
    ``inputs`` inputs stays within :data:`MAX_SOBOL_ROWS` rows.

    >>> max_sobol_samples(57), max_sobol_samples(2)
    (262144, 524288)
    """
    d = max(int(inputs), 1)
    n = 1
    while 2 * n * (d + 2) <= MAX_SOBOL_ROWS and 2 * n <= MAX_SAMPLES:
        n *= 2
    return n


@dataclass(frozen=True)
class SensitivityRow:
    """One uncertain input: its range, the one-way swing and its Sobol indices.

    ``output_low`` / ``output_high``: the answer with this input at its low / high end and every
    other input at its point. ``s1``, ``st``: first- and total-order Sobol indices, each with the
    half-width of its confidence interval (``*_conf``); None when Sobol was not run.
    """

    name: str
    label: str
    distribution: str
    low: float
    point: float
    high: float
    critical_unknown: bool
    reaches_target: bool
    output_low: float
    output_high: float
    s1: float | None = None
    s1_conf: float | None = None
    st: float | None = None
    st_conf: float | None = None
    moves_answer: bool | None = None  # None: not checked; False: reaches it but cancels

    @property
    def swing(self) -> float:
        return abs(self.output_high - self.output_low)

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "distribution": self.distribution,
                "low": self.low, "point": self.point, "high": self.high,
                "critical_unknown": self.critical_unknown,
                "reaches_target": self.reaches_target, "moves_answer": self.moves_answer,
                "output_low": self.output_low,
                "output_high": self.output_high, "swing": self.swing, "S1": self.s1,
                "S1_conf": self.s1_conf, "ST": self.st, "ST_conf": self.st_conf}


@dataclass(frozen=True)
class SensitivityResult:
    """Sensitivity of P(target=state | evidence, do) to every uncertain input.

    ``rows`` are sorted by total effect (ST), then by one-way swing.
    """

    network: str
    target: str
    state: str
    evidence: dict[str, str]
    do: dict[str, str]
    point: float
    rows: tuple[SensitivityRow, ...]
    samples: int | None  # Sobol base sample size N (None: one-way only)
    evaluations: int
    seed: int | None
    unknowns: tuple[str, ...]
    conf_level: float
    variance: float | None
    sobol_draws: np.ndarray | None = field(default=None, repr=False)

    @property
    def query(self) -> str:
        return _query_text(self.target, self.state, self.evidence, self.do)

    @property
    def moving(self) -> tuple[SensitivityRow, ...]:
        """The rows of the inputs that can move the answer."""
        return tuple(r for r in self.rows if r.moves_answer)

    @property
    def cancelling(self) -> tuple[SensitivityRow, ...]:
        """The rows of the inputs that reach the answer but cannot move it."""
        return tuple(r for r in self.rows if r.reaches_target and not r.moves_answer)

    def row(self, name: str) -> SensitivityRow:
        for r in self.rows:
            if r.name == name:
                return r
        from gmnet.errors import UnknownNameError

        raise UnknownNameError("uncertain input", name, [r.name for r in self.rows])


    def to_frame(self):
        """One row per uncertain input (range, answer at each end, swing, Sobol indices) as
        a pandas DataFrame indexed by the input's name."""
        from gmnet.analysis.frames import sensitivity_frame

        return sensitivity_frame(self)
    def summary(self) -> str:
        """In words: which uncertainty matters most for this answer."""
        reaching = [r for r in self.rows if r.reaches_target]
        if not reaching or (self.variance is not None and self.variance <= 0) or \
                max((r.swing for r in reaching), default=0.0) <= 1e-15:
            return (f"{self.query} = {self.point:.4g} does not depend on any uncertain number: "
                    "resolving them would not change it.")
        if self.samples is not None:
            top = reaching[0]
            others = [r for r in reaching[1:3] if (r.st or 0.0) > 0.005]
            text = (f"For {self.query}, the uncertainty that matters most is {top.label}: "
                    "it accounts "
                    f"for about {_share(top.st)} of the answer's variance (total-order Sobol "
                    f"index {top.st:.2f} ± {top.st_conf:.2f}; {_share(top.s1)} on its own)")
            if others:
                text += ", ahead of " + " and ".join(f"{r.label} ({r.st:.2f})" for r in others)
            return text + ". Narrowing it would narrow the answer most."
        by_swing = sorted(reaching, key=lambda r: -r.swing)
        top = by_swing[0]
        return (f"For {self.query}, the uncertainty that matters most one at a time is "
                f"{top.label}: across its range the answer moves from {top.output_low:.4g} to "
                f"{top.output_high:.4g} (point {self.point:.4g}).")

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "network": self.network, "query": self.query, "target": self.target,
            "state": self.state, "evidence": dict(self.evidence), "do": dict(self.do),
            "point": self.point, "samples": self.samples, "evaluations": self.evaluations,
            "seed": self.seed, "critical_unknowns": list(self.unknowns),
            "conf_level": self.conf_level, "variance": self.variance,
            "summary": self.summary(), "moving": [r.name for r in self.moving],
            "reached_but_cancel": [r.name for r in self.cancelling],
            "inputs": [r.to_dict() for r in self.rows]}
        return out


def _share(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{100 * min(max(x, 0.0), 1.0):.0f}%"


def sensitivity(network: Network, target: str, state: str | None = None, *,
                evidence: Mapping[str, str] | None = None,
                do: Mapping[str, str] | None = None, samples: int | None = 1024,
                rng: int | np.random.Generator | None = None,
                unknowns: bool | Iterable[str] = True, conf_level: float = 0.95,
                num_resamples: int = 100, chunk: int | None = None,
                progress: Progress | None = None, scheduler=None,
                block: int | None = None) -> SensitivityResult:
    """One-way (tornado) and Sobol sensitivity of P(target=state | evidence, do(...)).

    Parameters
    ----------
    network, target, state, evidence, do
        The question, as in :func:`gmnet.analysis.uncertainty.uncertainty`.
    samples
        Sobol base sample size N, a power of 2 (default 1024); the design has N (d + 2) rows for
        d inputs, at most :data:`MAX_SOBOL_ROWS`. ``None`` runs the one-way analysis only.
    rng
        Seed of the Sobol design (scrambling) and of the bootstrap.
    unknowns
        Which Critical Unknowns to include (see
        :func:`gmnet.analysis.uncertainty.uncertainty_model`).
    conf_level, num_resamples
        Confidence level and bootstrap resamples (at least 2) of the Sobol intervals.
    chunk, progress
        Passed to the batched engine; ``progress`` counts evaluated rows.
    scheduler
        A ``dask.distributed.Client`` or scheduler address: the rows are evaluated on that Dask
        cluster, with the same numbers (docs/distributed.md). None: on this machine.
    block
        Base rows per block of the Sobol design, a power of 2 (default: about
        :data:`DESIGN_BLOCK_ROWS` evaluated rows per block). Memory grows with it; the numbers
        do not depend on it.

    Examples
    --------
    >>> import gmnet
    >>> net = gmnet.load_network()
    >>> result = sensitivity(net, "capability_transfer", "yes",
    ...                      do={"shift_type": "extreme"}, samples=None)
    >>> result.rows[0].reaches_target
    False
    """
    if not 0.0 < conf_level < 1.0:
        raise InvalidArgumentError(f"conf_level must lie strictly between 0 and 1, got "
                                   f"{conf_level}")
    if samples is not None:
        samples = _check_samples(samples)
        if samples & (samples - 1):
            raise InvalidArgumentError(
                f"Sobol samples must be a power of 2 (e.g. 512, 1024, 2048), got {samples}")
    if isinstance(num_resamples, bool) or not isinstance(num_resamples, int | np.integer) \
            or num_resamples < 2:
        raise InvalidArgumentError(
            f"num_resamples must be a whole number of at least 2, got {num_resamples!r}")
    if block is not None and (isinstance(block, bool) or not isinstance(block, int | np.integer)
                              or block < 1 or block & (block - 1)):
        raise InvalidArgumentError(
            f"block must be a power of 2 (base rows of the Sobol design), got {block!r}")
    query, index, state = _plan(network, target, state, evidence, do)
    model = uncertainty_model(network, unknowns=unknowns)
    if samples is not None and model.inputs and samples > max_sobol_samples(len(model.inputs)):
        d = len(model.inputs)
        raise InvalidArgumentError(
            f"Sobol samples {samples:,} over {d} inputs is a design of {samples * (d + 2):,} "
            f"rows, more than {MAX_SOBOL_ROWS:,}; use at most {max_sobol_samples(d):,} "
            "(a power of 2)")
    relevant = set(model.inputs_for(query.parameters))
    # one plan for everything below: the moving-input check, the tornado and the Sobol design
    moving, _ = moving_inputs(model, query, index, [i.name for i in model.inputs
                                                    if i.name in relevant])
    point = float(query.run({})[0, index])
    # the design's rows (at most), which decide whether the run compiles loops
    design_rows = (samples * (len(model.inputs) + 2) if samples is not None
                   else 2 * len(relevant))
    evaluate = partial(answers, query, index, point, chunk=chunk, progress=progress,
                       scheduler=scheduler, effort=design_rows)
    low, high = _one_way(model, relevant, evaluate)
    evaluations = 2 * len(relevant)
    s1 = s1c = st = stc = None
    variance = None
    sobol_y = None
    seed = _seed_of(rng)
    if samples is not None and model.inputs:
        s1, s1c, st, stc, variance, sobol_y, used = _sobol(
            model, relevant, evaluate, samples, rng, conf_level, num_resamples, block)
        evaluations += used
    rows = []
    for i, item in enumerate(model.inputs):
        reaches = item.name in relevant
        rows.append(SensitivityRow(
            item.name, item.label, item.distribution, item.low, item.point, item.high,
            item.critical_unknown, reaches, float(low.get(item.name, point)),
            float(high.get(item.name, point)),
            None if s1 is None else float(s1[i]), None if s1c is None else float(s1c[i]),
            None if st is None else float(st[i]), None if stc is None else float(stc[i]),
            item.name in moving))
    rows.sort(key=lambda r: (-(r.st if r.st is not None else 0.0), -r.swing, r.name))
    return SensitivityResult(
        network.name, target, state, _names(network, query.evidence),
        _names(network, query.do), point, tuple(rows), samples, evaluations, seed,
        tuple(u.key for u in model.unknowns), conf_level, variance, sobol_y)


def answers(query: BatchedQuery, index: int, point: float, values: Mapping[str, np.ndarray],
            count: int, *, chunk: int | None = None,
            progress: Progress | None = None, scheduler=None,
            effort: int | None = None) -> np.ndarray:
    """P(target=state) for one block of ``count`` rows: the work of a sensitivity analysis.

    ``values`` are the block's parameter values (arrays of ``count``; none: every row is the
    point answer ``point``), ``index`` the state's position in ``query``'s answer; ``effort``
    the rows of the whole analysis (see :meth:`BatchedQuery.run`). Every
    block (the tornado's rows, each block of the Sobol design) goes through here, so running
    blocks elsewhere is a change of this function alone.
    """
    if not values:
        return np.full(count, point)
    out = query.run(values, chunk=chunk, progress=progress, scheduler=scheduler,
                    effort=effort)[:, index]
    return np.broadcast_to(out, (count,)) if out.shape[0] == 1 else out


def _one_way(model: UncertaintyModel, relevant: set[str], evaluate: Evaluate):
    """The answer with each relevant input at its low and at its high end."""
    names = [i.name for i in model.inputs if i.name in relevant]
    if not names:
        return {}, {}
    count = 2 * len(names)
    draws = {}
    for j, name in enumerate(names):
        item = model.input(name)
        column = np.full(count, item.point)
        column[2 * j] = item.low
        column[2 * j + 1] = item.high
        draws[name] = column
    out = evaluate(model.parameter_values(draws), count)
    low = {name: out[2 * j] for j, name in enumerate(names)}
    high = {name: out[2 * j + 1] for j, name in enumerate(names)}
    return low, high


def _sobol(model: UncertaintyModel, relevant: set[str], evaluate: Evaluate, samples: int,
           rng, conf_level: float, num_resamples: int, block: int | None):
    """Sobol indices from a Saltelli design made and evaluated a block of base rows at a time.

    Returns (S1, S1_conf, ST, ST_conf, variance, answers in SALib's layout, rows evaluated).
    """
    names = list(model.names)
    d = len(names)
    # SALib treats seed 0 as "no seed"; draw a positive one from ours
    seed = int(as_generator(rng).integers(1, 2**31 - 1))
    # AB_i equals A wherever input i cannot reach the answer: only A, B and the relevant AB_i
    # are evaluated
    cols = [i for i, name in enumerate(names) if name in relevant]
    others = [i for i in range(d) if i not in set(cols)]
    if block is None:
        block = design_block(len(cols))
    y = np.empty((samples, d + 2))
    for start, a, b in base_blocks(d, samples, seed, block):
        n = a.shape[0]
        out = evaluate(block_values(model, names, cols, a, b), n * (2 + len(cols)))
        out = out.reshape(2 + len(cols), n)
        rows = y[start:start + n]
        rows[:, 0], rows[:, -1] = out[0], out[1]
        rows[:, [1 + i for i in cols]] = out[2:].T
        rows[:, [1 + i for i in others]] = out[0][:, None]
    result = sobol_indices(y, d, seed=seed, num_resamples=num_resamples,
                           conf_level=conf_level, columns=cols)
    return (result.s1, result.s1_conf, result.st, result.st_conf, result.variance,
            y.reshape(-1), samples * (2 + len(cols)))


def design_block(evaluated: int) -> int:
    """Base rows per block of a Sobol design whose base rows each evaluate ``2 + evaluated``
    rows: the largest power of 2 keeping a block within :data:`DESIGN_BLOCK_ROWS` rows."""
    per_row = 2 + max(int(evaluated), 0)
    block = 1
    while 2 * block * per_row <= DESIGN_BLOCK_ROWS:
        block *= 2
    return block


def block_values(model: UncertaintyModel, names: list[str], cols: list[int], a: np.ndarray,
                 b: np.ndarray) -> dict[str, np.ndarray]:
    """Parameter values of one block of a Saltelli design: its rows A, then B, then AB_i for
    each input i in ``cols`` (A with input i from B), each ``len(a)`` rows; inputs outside
    ``cols`` stay at their points."""
    n = a.shape[0]
    draws = {}
    for pos, i in enumerate(cols):
        item = model.input(names[i])
        at_a, at_b = item.ppf(a[:, i]), item.ppf(b[:, i])
        column = np.tile(at_a, 2 + len(cols))
        column[n:2 * n] = at_b
        column[(2 + pos) * n:(3 + pos) * n] = at_b
        draws[names[i]] = column
    return model.parameter_values(draws)
