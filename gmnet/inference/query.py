"""Conditional and interventional queries: P(target | evidence, do(...)).

do() is graph surgery (the intervened nodes lose their parents and take their fixed state),
followed by exact inference on the cut network. Three engines answer the same question:

- ``einsum``: one tensor contraction, batched over parameter draws (the default);
- ``pgmpy``: pgmpy's variable elimination on the cut network (the reference library);
- ``enumeration``: the full joint, brute force (small networks; the tests' ground truth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from gmnet.errors import ImpossibleEvidenceError, UnknownNameError
from gmnet.inference.contraction import marginal, scaled_marginal
from gmnet.model.assignments import resolve_assignments, resolve_query
from gmnet.model.compiled import CompiledModel

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["query", "posterior", "resolve_assignments", "resolve_query", "ENGINES"]

ENGINES = ("einsum", "pgmpy", "enumeration")


def query(network: Network, target: str, *, evidence: Mapping[str, str] | None = None,
          do: Mapping[str, str] | None = None, engine: str = "einsum") -> dict[str, float]:
    """P(target | evidence, do(...)) on ``network`` at its point values.

    Soft evidence: :func:`gmnet.inference.soft.soft_query` (which builds on this).
    """
    if not isinstance(target, str) or target not in network.variables:
        raise UnknownNameError("variable", str(target), network.variables, context="as target")
    ev, dd = resolve_query(network, evidence, do)
    if engine not in ENGINES:
        raise UnknownNameError("engine", str(engine), ENGINES)
    dist = posterior(network.compiled, target, ev, dd, engine=engine)[0]
    return {s: float(p) for s, p in zip(network.states(target), dist, strict=True)}


def posterior(model: CompiledModel, target: str, evidence: Mapping[str, int],
              do: Mapping[str, int], *, engine: str = "einsum",
              chunk: int | None = 50_000) -> np.ndarray:
    """P(target | evidence, do) for every draw of ``model``: shape (N, card(target)).

    Names are assumed checked (see :func:`query`).
    """
    cut = model.intervene(do)
    card = model.card(target)
    if target in do or target in evidence:
        _check_possible(_log_evidence(cut, evidence, chunk), evidence, cut)
        out = np.zeros((cut.draws, card))
        out[:, (do if target in do else evidence)[target]] = 1.0
        return out
    if engine == "einsum":
        joint, log_scale = scaled_marginal(cut, [target], evidence, chunk=chunk)
        total = joint.sum(axis=1)
        with np.errstate(divide="ignore"):
            _check_possible(np.log(total) + log_scale, evidence, cut)
        return joint / total[:, None]
    if engine == "enumeration":
        from gmnet.inference.enumeration import enumerate_scaled_marginal

        # in the cut network an intervened node is certain to take its state, so restricting
        # it to that state (like evidence) changes no probability and keeps the joint small
        fixed = {**evidence, **do}
        rows = []
        for i in range(cut.draws):
            mantissa, exponent = enumerate_scaled_marginal(cut.point(i), [target], fixed)
            top = int(exponent[mantissa > 0].max()) if np.any(mantissa > 0) else 0
            with np.errstate(under="ignore", divide="ignore"):
                joint = np.ldexp(mantissa, np.clip(exponent - top, -2000, 0))
                total = joint.sum()
                _check_possible(np.array([np.log(total) + top * np.log(2.0)]), evidence,
                                cut.point(i))
            rows.append(joint / total)
        return np.stack(rows)
    if engine == "pgmpy":
        from gmnet.inference.pgmpy_backend import pgmpy_query

        # the engines agree on what is too small: P(evidence) from the rescaled contraction
        _check_possible(_log_evidence(cut, evidence, chunk), evidence, cut)
        rows = []
        for i in range(cut.draws):
            try:
                rows.append(pgmpy_query(cut.point(i), target, evidence))
            except ImpossibleEvidenceError:
                _check_possible(np.full(1, -np.inf), evidence, cut.point(i))
        return np.stack(rows)
    raise UnknownNameError("engine", engine, ENGINES)


def _log_evidence(model: CompiledModel, evidence: Mapping[str, int], chunk: int | None
                  ) -> np.ndarray:
    """ln P(evidence) per draw, by the rescaled contraction (exact far below 1e-308)."""
    joint, log_scale = scaled_marginal(model, [], evidence, chunk=chunk)
    with np.errstate(divide="ignore"):
        return np.log(joint.reshape(-1)) + log_scale


#: Below this, gmnet refuses to condition on evidence, whichever engine answers: an evidence
#: probability under the smallest normal double (2.2e-308) has lost digits in any engine that
#: multiplies plain probabilities (pgmpy's), and the engines must agree on what they answer.
#: Above it, every engine answers with full relative precision (rescaled or log-space sums).
_SMALLEST_EVIDENCE = float(np.finfo(np.float64).smallest_subnormal) * 1e10


def _check_possible(log_total: np.ndarray, evidence: Mapping[str, int], model: CompiledModel):
    """Raise if the evidence cannot be conditioned on in some draw of ``model`` (the cut model):
    probability zero (impossible), or below :data:`_SMALLEST_EVIDENCE` (``log_total`` is the
    natural logarithm of the evidence probability per draw)."""
    log_total = np.asarray(log_total, dtype=float)
    if np.all(log_total >= np.log(_SMALLEST_EVIDENCE)):
        return
    named = ", ".join(f"{v}={model.states[v][i]}" for v, i in evidence.items())
    in_draw = "" if model.draws == 1 else " in at least one parameter draw"
    failed = log_total < np.log(_SMALLEST_EVIDENCE)
    if np.all(np.isfinite(log_total[failed])) or _structurally_possible(model, evidence, failed):
        raise ImpossibleEvidenceError(
            f"the evidence ({named}) has a probability below {_SMALLEST_EVIDENCE:.1e}{in_draw}, "
            "too small for double precision to condition on it (it is possible, but every "
            "path to it is a product of very small numbers); observe fewer or likelier states")
    raise ImpossibleEvidenceError(
        f"the evidence ({named}) is impossible under the model (probability 0){in_draw}")


def _structurally_possible(model: CompiledModel, evidence: Mapping[str, int],
                           failed: np.ndarray) -> bool:
    """Whether the evidence has a positive probability in every failed draw when each CPT
    entry counts only as zero or not (so no product can underflow)."""
    rows = np.flatnonzero(failed)
    support = CompiledModel(model.variables, model.states, model.parents,
                            {v: (a[rows] > 0).astype(np.float64) if a.shape[0] > 1
                             else (a > 0).astype(np.float64) for v, a in model.cpts.items()},
                            model.intervened)
    counts = marginal(support, [], evidence).reshape(-1)
    return bool(np.all(counts > 0))
