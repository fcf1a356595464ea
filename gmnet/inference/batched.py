"""Batched exact inference: one query, N parameter draws, one tensor contraction per chunk.

The straightforward way to propagate parameter uncertainty through a Bayesian network is a loop:
set the CPD values of draw i, run exact inference, repeat N times. This module answers the same
query for all N draws at once:

1. **Plan** (once per query): cut the graph at the intervened variables (graph surgery), keep
   only the ancestors of the target and of the observed variables (barren nodes cannot change
   the answer), and restrict every observed or intervened variable to its one state. The plan
   knows which parameters the remaining CPTs read, so callers sample only those.
2. **Compile** (per chunk of draws): build just those CPTs, each with a leading draw axis, on the
   restricted grid (:meth:`gmnet.Network.compile` with ``restrict=`` and ``nodes=``). A node
   with many parents is never built on the states a query fixes, which is what keeps 100,000
   draws within memory.
3. **Contract** (per chunk): one opt_einsum contraction with a cached path, the draw axis kept.

Interventions whose variable should stay free (``free_do``) are cut like any do() but keep their
axis in the output: one contraction then answers every combination of their states, e.g. every
mitigation portfolio, with the same draws.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError, UnknownNameError
from gmnet.inference import forked
from gmnet.inference.allocator import KEEP_FREED_ENTRIES, keep_freed_memory
from gmnet.inference.contraction import DRAW_LABEL as DRAW
from gmnet.inference.contraction import contract_last, factor_operands
from gmnet.inference.needs import plan_nodes

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["BatchedQuery", "plan_query", "batched_posterior", "default_workers",
           "DEFAULT_CHUNK", "CHUNK_BUDGET_ENTRIES", "MAX_WORKERS"]

DEFAULT_CHUNK = 16_384
# Largest factor a chunk may hold, in entries (8 bytes each): at most CHUNK_BUDGET_ENTRIES
# (16 MB), which bounds memory whatever N is. Within it a chunk aims at CHUNK_CACHE_ENTRIES
# (4 MB): building the CPTs is a few dozen passes over arrays of that size, which then stay
# in the processor's cache (on the project's machine 1,024-draw chunks of the 432-entry
# observational question cost 25 us a draw, 4,629-draw chunks 35-50), but never fewer than
# MIN_CHUNK draws, below which the fixed cost of a chunk (about 5 ms of planning the
# expressions' arrays) dominates.
CHUNK_BUDGET_ENTRIES = 2_000_000
CHUNK_CACHE_ENTRIES = 524_288
MIN_CHUNK = 256
# A product-sum's compiled loop works a tile of draws at a time (its vectors stay in the
# processor's cache whatever the chunk: gmnet.model.kernel_writer.TILE), so what bounds its
# chunks is what the chunk writes: the other factors and the weights (the largest, ``cells``
# entries a draw), at most this many entries (4 MB) of the largest. Larger chunks spread the
# chunk's fixed cost (about 2 ms of Python) over more draws; the written arrays then leave the
# cache. The nothing-held question (64 entries a draw), one core: chunks of 3,276, 6,553 and
# 13,107 draws 5.80, 5.29 and 5.16 us a draw; the whole command on two processes, run after
# run: 8,192 draws 5.75-5.76 s (372 MB), 16,384 draws 5.90-5.91 s (397 MB)
TAIL_WRITTEN_ENTRIES = 1 << 19

MAX_WORKERS = 4

# A run of at least this many entries (draws x the largest factor's entries per draw) compiles
# the loops its expressions need (gmnet.model.expression_kernel): the bundled network's
# nothing-held question needs four, about 6 s to compile, once per machine (they are kept on
# disk), and they save about 40% of the time, so a run compiles them when it would take 15 s or
# more on numpy: 2^30, the nothing-held question from about 400,000 draws. A smaller run uses
# the loops already compiled (GMNET_KERNELS=on compiles them for any run).
FUSED_RUN_ENTRIES = 1 << 30

Progress = Callable[[int], None]


def default_workers() -> int:
    """Threads for a long run: one per core the process may use, at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


@dataclass(frozen=True)
class BatchedQuery:
    """A planned query P(target | evidence, do(...)) for batches of parameter draws.

    Build it with :func:`plan_query`; run it with :meth:`run`. ``parameters`` lists the
    parameters the answer can depend on; values given for others are ignored.
    """

    network: Network
    target: str
    evidence: Mapping[str, int]
    do: Mapping[str, int]
    free_do: tuple[str, ...]
    nodes: frozenset[str]
    parameters: frozenset[str]
    draw_size: int  # entries of the largest factor, per draw
    # variables whose other states have probability 0 whatever the draws: roots whose fixed
    # prior rules states out, and states a parameter-free CPT gives 0 (see gmnet.inference.needs)
    support: Mapping[str, tuple[int, ...]]
    state: int | None = None  # planned for P(target = this state) alone
    # observed variables whose parents are all set (roots, above all): observing one is the
    # same as setting it for everything downstream, so it is computed as a do() (its own
    # probability, divided out anyway, is only checked to be positive)
    observed_roots: Mapping[str, int] = field(default_factory=dict)

    @property
    def target_fixed(self) -> bool:
        """The CPTs are built with the target at :attr:`state` alone (no evidence to divide by:
        the joint P(target=state, do) is the answer)."""
        return (self.state is not None and self.target not in self.do
                and all(v in self.observed_roots for v in self.evidence))

    @property
    def restrict(self) -> dict[str, int | tuple[int, ...]]:
        """What the CPTs are built on: the observed and set states, and the states that can
        have a positive probability."""
        fixed = {self.target: self.state} if self.target_fixed else {}
        return {**self.support, **self.evidence, **self.do, **fixed}

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of one draw's answer: the free intervened variables, then the target's states
        (its one planned state, with ``state=``)."""
        net = self.network
        card = 1 if self.state is not None else len(net.states(self.target))
        return (*(len(net.states(v)) for v in self.free_do), card)

    def chunk_size(self, chunk: int | None = None, *, looped: bool = False) -> int:
        """Draws per chunk: ``chunk`` (default 16,384), lowered so the largest factor stays in
        cache (:data:`CHUNK_CACHE_ENTRIES`, but at least :data:`MIN_CHUNK` draws) and always
        within :data:`CHUNK_BUDGET_ENTRIES`. ``looped``: the run computes the plan's
        product-sum in its compiled loop (:mod:`gmnet.inference.tail`), which never writes the
        heaviest CPTs."""
        chunk = DEFAULT_CHUNK if chunk is None else int(chunk)
        if chunk < 1:
            raise InvalidArgumentError(f"chunk must be a positive number of draws, got {chunk}")
        size = max(1, self.draw_size)
        if looped and self._tail is not None:
            # a product-sum's compiled loop (gmnet.inference.tail) writes only the other
            # factors, each read once or twice by compiled code, not by dozens of numpy
            # passes, and keeps its own vectors over a tile of draws: what the chunk writes
            # bounds it (TAIL_WRITTEN_ENTRIES)
            cells = max(1, self._tail.cells)
            fits = max(1, min(CHUNK_BUDGET_ENTRIES // cells,
                              max(MIN_CHUNK, TAIL_WRITTEN_ENTRIES // cells)))
        else:
            fits = max(CHUNK_CACHE_ENTRIES // size, min(MIN_CHUNK, CHUNK_BUDGET_ENTRIES // size))
        return max(1, min(chunk, fits))

    def run(self, values: Mapping[str, np.ndarray] | None = None, *, chunk: int | None = None,
            progress: Progress | None = None, workers: int | None = None,
            scheduler=None, effort: int | None = None,
            pool: forked.Workers | None = None) -> np.ndarray:
        """P(target | evidence, do) for every draw: shape (N, *free_do cards, card(target)).

        ``values`` maps parameter names to arrays of shape (N,) (or (1,)); names left out keep
        their point value. ``progress`` is called with the number of draws finished after each
        chunk. ``workers`` threads share the chunks (default: one per core, at most
        :data:`MAX_WORKERS`); numpy releases the GIL while it computes. A large run
        (:data:`gmnet.inference.forked.PROCESS_RUN_ENTRIES`) forks that many processes
        instead, where it safely can (:mod:`gmnet.inference.forked`). Every chunk is computed
        the same way whichever thread or process takes it, so the numbers never depend on it.
        ``scheduler`` (a ``dask.distributed.Client`` or a scheduler address such as
        ``"tcp://10.0.0.5:8786"``) computes the chunks on a Dask cluster instead, with the same
        numbers (:mod:`gmnet.inference.cluster`, docs/distributed.md); ``workers`` is then
        not used. ``effort``: the draws of the whole run this call is one block of (a caller
        that answers a long run block by block, as :func:`gmnet.uncertainty` does), which
        decides whether the run is large enough to compile loops
        (:data:`FUSED_RUN_ENTRIES`); by default this call's draws. ``pool``: worker processes
        kept for such a run (:class:`gmnet.inference.forked.Workers`), used where this call
        would fork.
        """
        values = dict(values or {})
        n = _draw_count(values)
        if n * self.draw_size >= KEEP_FREED_ENTRIES:
            keep_freed_memory()
        relevant = {k: v for k, v in values.items() if k in self.parameters}
        total = max(n, int(effort or 0))  # the whole run's draws (see ``effort``)
        looped = self._tail is not None and self._tail.looped_for(
            self, {k: _slice(v, 0, 2) for k, v in relevant.items()},
            total * self.draw_size >= FUSED_RUN_ENTRIES)
        step = self.chunk_size(chunk, looped=looped)

        varying = frozenset(k for k, v in relevant.items() if n == 1 or np.size(v) > 1)

        def part(start: int) -> dict[str, np.ndarray]:
            return self.chunk_values(relevant, varying, n, step, start)

        if scheduler is not None:
            from gmnet.inference.cluster import run_on_cluster

            return run_on_cluster(self, part, n, step, scheduler, progress=progress,
                                  effort=total)
        out = np.empty((n, *self.output_shape))
        starts = list(range(0, n, step))

        def one(start: int) -> int:
            size = min(step, n - start)
            out[start:start + size] = self._chunk(part(start), size, total)
            return size

        threads = default_workers() if workers is None else max(1, int(workers))
        processes = forked.wanted(n * self.draw_size, threads, len(starts), pool)
        # the first chunk alone: it settles (and caches) the contraction path, and compiles
        # the loops the run uses; forked processes inherit them, so a later block of the same
        # kind (a long run answered block by block) gives every chunk to the processes
        settled = (os.getpid(), step, looped, total, tuple(sorted(varying)))

        def first_alone(starts: list[int]) -> list[int]:
            done = one(starts[0])
            if progress is not None:
                progress(done)
            self._settled.add(settled)
            return starts[1:]

        if not (processes and settled in self._settled):
            starts = first_alone(starts)
        # processes where they are wanted and can start; otherwise threads, or this one
        if processes and pool is not None:
            if pool.run(self, relevant, varying, starts, n, step, threads, out, progress,
                        total):
                return out
            processes = forked.can_fork()  # not while the pool's own thread runs
        if processes and forked.run_forked(self, part, starts, n, step, threads, out, progress,
                                           total):
            return out
        if starts and starts[0] == 0:  # no process could start: the first chunk as above
            starts = first_alone(starts)
        if threads > 1 and len(starts) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(threads, len(starts))) as executor:
                for size in executor.map(one, starts):
                    if progress is not None:
                        progress(size)
        else:
            for start in starts:
                size = one(start)
                if progress is not None:
                    progress(size)
        return out

    @staticmethod
    def chunk_values(relevant: Mapping[str, np.ndarray], varying: frozenset[str], n: int,
                     step: int, start: int) -> dict[str, np.ndarray]:
        """The chunk of ``step`` draws from ``start`` of a run of ``n``: the values the answer
        can depend on. A chunk of one draw comes as that draw twice: alone, its arrays have a
        draw axis of one and numpy takes other paths (einsum's, a compiled loop's) than for the
        same draw among others, whose last bits can differ; :meth:`_chunk` keeps the first
        answer."""
        chunk = {k: _slice(v, start, start + step) for k, v in relevant.items()}
        if min(step, n - start) == 1:
            chunk = {k: np.repeat(v, 2) if k in varying else v for k, v in chunk.items()}
        return chunk

    def _chunk(self, values: Mapping[str, np.ndarray], size: int, effort: int) -> np.ndarray:
        width = max([size, *(np.shape(v)[0] for v in values.values())])
        if width > size:  # one draw given twice (see run's part()): its first answer
            return self._chunk(values, width, effort)[:size]
        fixed = self.do.get(self.target, self.evidence.get(self.target))
        if fixed is not None:
            # the answer is certain; the evidence must still be possible
            self._check_possible(self._contract(values, size, keep_target=False, effort=effort))
            answer = np.zeros((size, *self.output_shape))
            if self.state is None:
                answer[..., fixed] = 1.0
            elif self.state == fixed:
                answer[...] = 1.0
            return answer
        self._check_roots(values)
        if self.target_fixed:
            # nothing observed: P(target=state | do) is the joint itself, built with the target
            # at that state alone (and every state a parameter-free CPT then rules out pruned)
            return self._contract(values, size, effort=effort)
        joint = self._contract(values, size, effort=effort)
        total = joint.sum(axis=-1, keepdims=True)
        self._check_possible(total)
        if self.state is not None:
            return joint[..., self.state:self.state + 1] / total
        return joint / total

    def _contract(self, values: Mapping[str, np.ndarray], n: int, *,
                  keep_target: bool = True, effort: int | None = None) -> np.ndarray:
        """Unnormalised P(free_do..., target, evidence) for one chunk: (n, *output_shape)."""
        net = self.network
        fused = (effort or n) * self.draw_size >= FUSED_RUN_ENTRIES
        tail = self._tail if keep_target else None
        if tail is not None:
            # the heaviest CPTs multiplied and summed in one loop (gmnet.inference.tail)
            from gmnet.inference.tail import run_tail

            joint = run_tail(self, tail, values, n, fused, effort or n)
            return np.broadcast_to(joint, (n,)).reshape(n, 1)
        factors = net.compile_factors(values, restrict=self.restrict, nodes=self.nodes,
                                      fused=fused)
        operands = factor_operands(factors)
        one_state = keep_target and self.target_fixed  # the target's axis has size 1
        out = [*self.free_do] + ([self.target] if keep_target and not one_state else [])
        present = {label for sub in operands[1::2] for label in sub}
        for v in out:
            if v not in present:  # e.g. a free intervention that cannot reach the target
                operands += [np.ones((len(net.states(v)), 1)), [v, DRAW]]
        result = contract_last(operands, [*out, DRAW], draws_hint=effort or n)
        result = np.broadcast_to(result, (*result.shape[:-1], n))
        result = np.moveaxis(result, -1, 0)
        return result[..., None] if one_state else result

    def _check_roots(self, values: Mapping[str, np.ndarray]) -> None:
        """Observed roots (computed as set): each must have a positive probability."""
        if not self.observed_roots:
            return
        fixed_ok, varying = self._root_checks
        if not fixed_ok:
            self._check_possible(np.zeros((1, *(1 for _ in self.free_do))))
        if varying:
            for arr, _ in self.network.compile_factors(values, restrict=self.restrict,
                                                       nodes=varying):
                if not np.all(arr > 0):
                    self._check_possible(np.zeros((1, *(1 for _ in self.free_do))))

    @cached_property
    def _settled(self) -> set[tuple]:
        """The kinds of run (process, chunk size, loops, whole run's draws, values that vary)
        whose first chunk a process has computed (see :meth:`run`)."""
        return set()

    @cached_property
    def _tail(self):
        """The plan's product-sum (:func:`gmnet.inference.tail.plan_tail`), or None."""
        from gmnet.inference.tail import plan_tail

        return plan_tail(self)

    @cached_property
    def _root_checks(self) -> tuple[bool, frozenset[str]]:
        """(the observed roots whose CPT reads no parameter are possible, checked once; the
        roots whose CPT reads parameters, checked per chunk)."""
        restrict = self.restrict
        varying = frozenset(v for v in self.observed_roots
                            if self.network.parameters_for([v], restrict=restrict))
        fixed = set(self.observed_roots) - varying
        ok = all(np.all(arr > 0) for arr, _ in (
            self.network.compile_factors({}, restrict=restrict, nodes=fixed) if fixed else ()))
        return bool(ok), varying

    def _check_possible(self, total: np.ndarray) -> None:
        if np.all(total > 0):
            return
        named = ", ".join(f"{v}={self.network.states(v)[i]}" for v, i in self.evidence.items())
        where = ""
        if self.free_do:
            bad = np.argwhere(~(total > 0))[0][1:1 + len(self.free_do)]
            where = " when " + ", ".join(f"do({v}={self.network.states(v)[int(i)]})"
                                         for v, i in zip(self.free_do, bad, strict=True))
        raise ImpossibleEvidenceError(
            f"the evidence ({named}) is impossible under the model (probability 0){where}"
            " in at least one parameter draw")


def plan_query(network: Network, target: str, *, evidence: Mapping[str, str] | None = None,
               do: Mapping[str, str] | None = None,
               free_do: Sequence[str] = (), state: str | None = None) -> BatchedQuery:
    """Plan P(target | evidence, do(...)) for batched evaluation.

    ``free_do`` names variables that are intervened on in every combination of their states at
    once: they are cut from their parents and their axes stay in the answer.

    ``state`` plans for P(target = state | ...) alone: :meth:`BatchedQuery.run` then returns
    that one column (last axis of size 1). With nothing observed the CPTs are built with the
    target at that state, and every state that a parameter-free CPT (a logical AND, a uniform
    prior) then gives probability 0 is dropped before any draw is computed: for P(harm=yes)
    that fixes the whole failure pathway at its failing states. Exact, and far less work than
    the whole distribution.

    >>> import gmnet, numpy as np
    >>> net = gmnet.load_network()
    >>> q = plan_query(net, "capability_transfer", do={"shift_type": "extreme"})
    >>> sorted(q.parameters)
    ['p_capability_transfer.extreme']
    >>> q.run({"p_capability_transfer.extreme": np.array([0.4, 0.5])})[:, 0].tolist()
    [0.4, 0.5]
    """
    from gmnet.inference.query import resolve_assignments

    if not isinstance(target, str) or target not in network.variables:
        raise UnknownNameError("variable", str(target), network.variables, context="as target")
    ev = resolve_assignments(network, evidence, what="evidence")
    dd = resolve_assignments(network, do, what="do()")
    free = list(free_do)
    for v in free:
        if v not in network.variables:
            raise UnknownNameError("variable", str(v), network.variables, context="in free_do")
    both = sorted(set(ev) & set(dd))
    if both:
        raise InvalidArgumentError(
            f"{both[0]} is both observed and intervened on; give it in evidence or in do(), "
            "not both")
    clash = sorted((set(ev) | set(dd) | {target}) & set(free))
    if clash:
        raise InvalidArgumentError(
            f"{clash[0]} is in free_do and also the target, observed or set; a free "
            "intervention takes every state of its variable")
    if len(set(free)) != len(free):
        raise InvalidArgumentError("free_do lists a variable twice")
    index = None if state is None else network.check_state(target, state)
    key = (target, tuple(sorted(ev.items())), tuple(sorted(dd.items())), tuple(free), index)
    plans = _PLANS.setdefault(network, {})
    if key in plans:
        return plans[key]
    if len(plans) >= PLANS_PER_NETWORK:
        plans.clear()
    plans[key] = plan = _plan(network, target, ev, dd, tuple(free), index)
    return plan


# Plans per network, reused across calls (a plan depends on the network's structure and its
# parameter-free CPTs alone, never on the values a run is given).
PLANS_PER_NETWORK = 512
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plan(network, target, ev, dd, free, index) -> BatchedQuery:
    roots = {v: i for v, i in ev.items()
             if v != target and all(p in dd or p in free for p in network.parents(v))}
    left = {v: i for v, i in ev.items() if v not in roots}
    fixed = {target: index} if index is not None and not left and target not in dd else {}
    nodes, parameters, size, support = plan_nodes(network, target, left, {**dd, **roots},
                                                   tuple(free), fixed)
    if roots:  # their probability is checked, so their parameters are read
        parameters = parameters | frozenset(network.parameters_for(
            roots, restrict={**support, **ev, **dd}))
    return BatchedQuery(network, target, ev, dd, free, nodes, parameters, size, support,
                        state=index, observed_roots=roots)


def batched_posterior(network: Network, target: str, *,
                      evidence: Mapping[str, str] | None = None,
                      do: Mapping[str, str] | None = None,
                      values: Mapping[str, np.ndarray] | None = None,
                      free_do: Sequence[str] = (), chunk: int | None = None,
                      progress: Progress | None = None) -> np.ndarray:
    """P(target | evidence, do(...)) for N parameter draws: shape (N, *free cards, card).

    ``values`` maps parameter names to arrays of N draws (names left out keep their point
    value). Equal to :func:`gmnet.inference.query.posterior` on ``network.compile(values)``,
    without ever building the full CPTs. Soft evidence:
    :func:`gmnet.inference.soft.batched_soft_posterior` (which builds on this).
    """
    query = plan_query(network, target, evidence=evidence, do=do, free_do=free_do)
    return query.run(values, chunk=chunk, progress=progress)


def _draw_count(values: Mapping[str, np.ndarray]) -> int:
    lengths = {}
    for k, v in values.items():
        try:
            arr = np.asarray(v, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"values: {k} must be a number or an array of numbers (one per draw), got "
                f"{str(v)[:60]!r}") from None
        if arr.shape[0] == 0:
            raise InvalidArgumentError(f"values: {k} has no draws; give it one number or "
                                       "one per draw")
        lengths[k] = arr.shape[0]
    n = max(lengths.values(), default=1)
    bad = [k for k, m in lengths.items() if m not in (1, n)]
    if bad:
        raise InvalidArgumentError(
            f"values: {bad[0]} has {lengths[bad[0]]} draws but others have {n}; give every "
            "parameter the same number of draws (or one)")
    return n


def _slice(arr: np.ndarray, start: int, stop: int) -> np.ndarray:
    arr = np.asarray(arr, dtype=float).reshape(-1)
    return arr if arr.shape[0] == 1 else arr[start:stop]
