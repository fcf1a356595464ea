"""Probabilities of causation: would the alternative have prevented the outcome?

For a cause X=x (e.g. ``ai_control=off``), its alternative x' (``on``) and an outcome Y=y
(``harm=yes``), in a context C (observed before the cause; the question's evidence):

- PN, the probability of necessity: P(Y_{x'} = y' | X=x, Y=y, C). Given that x and y happened,
  the chance that y would not have happened under x' ("would AI control have prevented it?").
- PS, the probability of sufficiency: P(Y_x = y | X=x', Y=y', C). Given x' and no y, the
  chance that x would have produced y.
- PNS, the probability of necessity and sufficiency: P(Y_x = y, Y_{x'} = y' | C).

A network given as CPTs fixes the observational distribution P(X, Y | C) and the interventional
P(Y | do(X), C), but not the joint of the counterfactuals, so these are bounded, not known. The
bounds are Tian and Pearl's (2000), from those two distributions, which the network's own exact
queries give. Under **monotonicity** (the alternative never brings the outcome about where the
cause would not: Y_{x'} = y implies Y_x = y; "a mitigation never causes harm") each is one
number, which must lie inside its bounds; if the distributions contradict monotonicity the result
says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.model.network import Network

__all__ = ["Counterfactual", "counterfactual", "causation_bounds", "QUANTITIES"]

QUANTITIES = ("pn", "ps", "pns")
_SLACK = 1e-12  # rounding allowed when a monotone value is checked against its bounds


@dataclass(frozen=True)
class Counterfactual:
    """PN, PS and PNS of a cause for an outcome, as bounds and under monotonicity.

    ``inputs`` are the probabilities the bounds come from (all given the context): ``p_x_y``
    P(X=x, Y=y), ``p_x_not_y``, ``p_alt_y``, ``p_alt_not_y``, ``p_y`` and the interventional
    ``p_y_do_x`` P(Y=y | do(X=x)), ``p_y_do_alt``. A bound or value is None where its
    denominator is zero (e.g. PN when x and y never happen together).
    """

    cause: str
    cause_state: str
    alternative: str
    outcome: str
    outcome_state: str
    evidence: dict[str, str]
    do: dict[str, str]
    inputs: dict[str, float]
    pn: tuple[float, float] | None
    ps: tuple[float, float] | None
    pns: tuple[float, float]
    monotone: dict[str, float | None]
    monotone_consistent: bool
    contradictions: tuple[str, ...] = ()
    samples: dict | None = None
    assumptions: tuple[str, ...] = field(default=())

    def sentence(self) -> str:
        """One plain-language line about PN."""
        x, alt, y = (f"{self.cause}={self.cause_state}", f"{self.cause}={self.alternative}",
                     f"{self.outcome}={self.outcome_state}")
        if self.pn is None:
            return (f"{y} and {x} never happen together here, so there is nothing for "
                    f"{alt} to have prevented.")
        lo, hi = self.pn
        line = (f"Given {y} happened with {x}, the chance that {alt} would have prevented it "
                f"is between {lo:.1%} and {hi:.1%}")
        point = self.monotone.get("pn")
        if self.monotone_consistent and point is not None:
            line += f"; {point:.1%} if {alt} never brings about {y} where {x} would not"
        elif not self.monotone_consistent:
            line += "; the network contradicts monotonicity, so no single value"
        return line + "."

    def to_dict(self) -> dict:
        out = {"cause": {"variable": self.cause, "state": self.cause_state,
                         "alternative": self.alternative},
               "outcome": {"variable": self.outcome, "state": self.outcome_state},
               "evidence": self.evidence, "do": self.do,
               "pn": list(self.pn) if self.pn else None,
               "ps": list(self.ps) if self.ps else None,
               "pns": list(self.pns), "monotone": dict(self.monotone),
               "monotone_consistent": self.monotone_consistent,
               "contradictions": list(self.contradictions), "inputs": dict(self.inputs),
               "sentence": self.sentence(), "assumptions": list(self.assumptions)}
        if self.samples is not None:
            out["samples"] = self.samples
        return out


def causation_bounds(p_x_y, p_x_not_y, p_alt_y, p_alt_not_y, p_y_do_x, p_y_do_alt):
    """Tian-Pearl bounds and monotone values from the six input probabilities.

    Works elementwise on numbers or arrays (one per parameter draw). Returns
    ``{"pn": (lo, hi), "ps": ..., "pns": ..., "monotone": {...}}``; PN and PS are NaN where
    their denominator P(x, y) or P(x', y') is 0.

    >>> b = causation_bounds(0.2, 0.3, 0.1, 0.4, 0.4, 0.2)
    >>> [round(float(v), 6) for v in b["pn"]], round(float(b["monotone"]["pns"]), 6)
    ([0.5, 1.0], 0.2)
    """
    a = [np.asarray(v, dtype=float) for v in (p_x_y, p_x_not_y, p_alt_y, p_alt_not_y,
                                              p_y_do_x, p_y_do_alt)]
    p_x_y, p_x_not_y, p_alt_y, p_alt_not_y, p_y_x, p_y_alt = a
    p_y = p_x_y + p_alt_y
    p_not_y_alt = 1.0 - p_y_alt
    pns_lo = np.maximum.reduce([np.zeros_like(p_y), p_y_x - p_y_alt, p_y - p_y_alt, p_y_x - p_y])
    pns_hi = np.minimum.reduce([p_y_x, p_not_y_alt, p_x_y + p_alt_not_y,
                                p_y_x - p_y_alt + p_x_not_y + p_alt_y])
    with np.errstate(divide="ignore", invalid="ignore"):
        d_pn = np.where(p_x_y > 0, p_x_y, np.nan)
        d_ps = np.where(p_alt_not_y > 0, p_alt_not_y, np.nan)
        pn_lo = np.maximum(0.0, (p_y - p_y_alt) / d_pn)
        pn_hi = np.minimum(1.0, (p_not_y_alt - p_alt_not_y) / d_pn)
        ps_lo = np.maximum(0.0, (p_y_x - p_y) / d_ps)
        ps_hi = np.minimum(1.0, (p_y_x - p_x_y) / d_ps)
        monotone = {"pn": (p_y - p_y_alt) / d_pn, "ps": (p_y_x - p_y) / d_ps,
                    "pns": p_y_x - p_y_alt}
    nan = np.isnan
    return {"pn": (np.where(nan(d_pn), np.nan, pn_lo), np.where(nan(d_pn), np.nan, pn_hi)),
            "ps": (np.where(nan(d_ps), np.nan, ps_lo), np.where(nan(d_ps), np.nan, ps_hi)),
            "pns": (pns_lo, pns_hi), "monotone": monotone}


def _check(network: Network, cause: str, cause_state: str, alternative: str, outcome: str,
           outcome_state: str, evidence: Mapping[str, str], do: Mapping[str, str]) -> None:
    from gmnet.inference.query import resolve_query

    for role, var in (("cause", cause), ("outcome", outcome)):
        if not isinstance(var, str) or var not in network.variables:
            raise UnknownNameError("variable", str(var), network.variables, context=f"as {role}")
    network.check_state(cause, cause_state)
    network.check_state(cause, alternative)
    network.check_state(outcome, outcome_state)
    if cause == outcome:
        raise InvalidArgumentError("the cause and the outcome are the same variable; name two")
    if cause_state == alternative:
        raise InvalidArgumentError(f"the alternative must differ from the cause's state "
                                   f"{cause}={cause_state}")
    if len(network.states(cause)) != 2:
        raise InvalidArgumentError(
            f"the cause {cause} has {len(network.states(cause))} states "
            f"({', '.join(network.states(cause))}); the bounds need a two-state cause, such as a "
            "mitigation (on/off)")
    resolve_query(network, evidence, do)
    for var in (cause, outcome):
        if var in evidence or var in do:
            raise InvalidArgumentError(f"{var} is the {'cause' if var == cause else 'outcome'}; "
                                       "leave it out of the evidence and do()")
    # the context must not be affected by the cause: only then is P(y | do(x), c) = P(Y_x = y | c)
    graph = network.compiled.intervene({v: 0 for v in do}).graph()
    import networkx as nx

    after = nx.descendants(graph, cause)
    late = sorted(v for v in evidence if v in after)
    if late:
        raise InvalidArgumentError(
            f"{late[0]} comes after the cause {cause} (it is one of its effects), so it cannot "
            "be context for a counterfactual about it; give only what is settled before the "
            "cause, or intervene with do()")


def _inputs(ask, cause, x, alt, outcome, y, evidence, do) -> dict[str, np.ndarray]:
    """The six probabilities, each an array over draws, from ``ask(target, evidence, do)``."""
    p_cause = ask(cause, evidence, do)
    p_y_given_x = ask(outcome, {**evidence, cause: x}, do)
    p_y_given_alt = ask(outcome, {**evidence, cause: alt}, do)
    p_y_do_x = ask(outcome, evidence, {**do, cause: x})
    p_y_do_alt = ask(outcome, evidence, {**do, cause: alt})
    return {"p_x_y": p_cause[x] * p_y_given_x[y], "p_x_not_y": p_cause[x] * (1 - p_y_given_x[y]),
            "p_alt_y": p_cause[alt] * p_y_given_alt[y],
            "p_alt_not_y": p_cause[alt] * (1 - p_y_given_alt[y]),
            "p_y_do_x": p_y_do_x[y], "p_y_do_alt": p_y_do_alt[y]}


def counterfactual(network: Network, cause: str, cause_state: str, alternative: str,
                   outcome: str, outcome_state: str, *,
                   evidence: Mapping[str, str] | None = None,
                   do: Mapping[str, str] | None = None, samples: int | None = None,
                   rng: int | np.random.Generator | None = 0,
                   unknowns: bool = True) -> Counterfactual:
    """PN, PS and PNS of ``cause=cause_state`` (against ``alternative``) for
    ``outcome=outcome_state``, exactly bounded from the network's own queries.

    Parameters
    ----------
    network
        The network (with any scenario or worldview already applied).
    cause, cause_state, alternative
        A two-state variable, the state that happened and the one it is compared with.
    outcome, outcome_state
        The outcome and the state that happened (its complement is "any other state").
    evidence, do
        The context: observations settled before the cause (not effects of it), and
        background interventions.
    samples, rng, unknowns
        With ``samples``, the same for that many parameter draws (as in
        :func:`gmnet.uncertainty`): 5-95% intervals of each bound and monotone value.

    Examples
    --------
    >>> import gmnet
    >>> net = gmnet.load_network()
    >>> r = counterfactual(net, "ai_control", "off", "on", "harm", "yes",
    ...                    do={"shift_type": "extreme"})
    >>> r.pn[0] <= r.monotone["pn"] <= r.pn[1]
    True
    """
    evidence, do = dict(evidence or {}), dict(do or {})
    _check(network, cause, cause_state, alternative, outcome, outcome_state, evidence, do)
    from gmnet.inference.query import posterior, resolve_query

    def exact(target, ev, dd):
        e, d = resolve_query(network, ev, dd)
        dist = posterior(network.compiled, target, e, d)[0]
        return dict(zip(network.states(target), dist, strict=True))

    inputs = _inputs(exact, cause, cause_state, alternative, outcome, outcome_state, evidence,
                     do)
    b = causation_bounds(*inputs.values())

    def pair(key):
        lo, hi = (float(v) for v in b[key])
        return None if np.isnan(lo) else (lo, hi)

    monotone = {k: (None if np.isnan(float(v)) else float(v)) for k, v in b["monotone"].items()}
    contradictions = _contradictions(inputs, monotone, b)
    sampled = None
    if samples is not None:
        sampled = _sampled(network, cause, cause_state, alternative, outcome, outcome_state,
                           evidence, do, samples, rng, unknowns)
    assumptions = (
        f"the context ({', '.join(f'{k}={v}' for k, v in evidence.items()) or 'none'}) is "
        f"settled before {cause}",
        "the network's arrows are causal: do() is graph surgery on them",
        f"monotone values assume {cause}={alternative} never brings about "
        f"{outcome}={outcome_state} where {cause}={cause_state} would not",
        "numbers at the network's point values" + (
            f"; intervals over {samples} parameter draws" if samples else ""))
    return Counterfactual(cause, cause_state, alternative, outcome, outcome_state, evidence, do,
                          {k: float(v) for k, v in inputs.items()}, pair("pn"), pair("ps"),
                          pair("pns"), monotone, not contradictions, contradictions, sampled,
                          assumptions)


def _contradictions(inputs, monotone, b) -> tuple[str, ...]:
    """Why the distributions rule monotonicity out, if they do."""
    p_y = inputs["p_x_y"] + inputs["p_alt_y"]
    out = []
    if inputs["p_y_do_alt"] > p_y + _SLACK:
        out.append(f"P(y | do(alternative)) = {inputs['p_y_do_alt']:.6g} exceeds P(y) = "
                   f"{p_y:.6g}")
    if p_y > inputs["p_y_do_x"] + _SLACK:
        out.append(f"P(y) = {p_y:.6g} exceeds P(y | do(cause)) = {inputs['p_y_do_x']:.6g}")
    for key in QUANTITIES:
        value = monotone[key]
        lo, hi = (float(v) for v in b[key])
        if value is not None and not (lo - _SLACK <= value <= hi + _SLACK):
            out.append(f"the monotone {key.upper()} {value:.6g} lies outside its bounds "
                       f"[{lo:.6g}, {hi:.6g}]")
    return tuple(out)


def _sampled(network, cause, x, alt, outcome, y, evidence, do, samples, rng, unknowns) -> dict:
    from gmnet.analysis.uncertainty import check_samples, uncertainty_model
    from gmnet.inference.batched import plan_query

    samples = check_samples(samples)
    model = uncertainty_model(network, unknowns=unknowns)
    values = model.parameter_values(model.sample(samples, rng=rng))

    def batched(target, ev, dd):
        dist = plan_query(network, target, evidence=ev, do=dd).run(values)
        dist = np.broadcast_to(dist, (samples, dist.shape[1]))
        return {s: dist[:, i] for i, s in enumerate(network.states(target))}

    inputs = _inputs(batched, cause, x, alt, outcome, y, evidence, do)
    b = causation_bounds(*inputs.values())
    out: dict = {"samples": samples, "seed": rng if isinstance(rng, int) else None,
                 "quantiles": [0.05, 0.5, 0.95]}

    def q(arr):
        arr = np.asarray(arr, dtype=float)
        ok = arr[~np.isnan(arr)]
        return None if ok.size == 0 else [float(v) for v in np.quantile(ok, [0.05, 0.5, 0.95])]

    for key in QUANTITIES:
        lo, hi = b[key]
        out[key] = {"lower": q(lo), "upper": q(hi), "monotone": q(b["monotone"][key]),
                    "undefined_draws": int(np.count_nonzero(np.isnan(lo)))}
    p_y = inputs["p_x_y"] + inputs["p_alt_y"]
    bad = (inputs["p_y_do_alt"] > p_y + _SLACK) | (p_y > inputs["p_y_do_x"] + _SLACK)
    for key in QUANTITIES:
        lo, hi = b[key]
        m = b["monotone"][key]
        bad |= ~np.isnan(m) & ((m < lo - _SLACK) | (m > hi + _SLACK))
    out["draws_contradicting_monotonicity"] = int(np.count_nonzero(bad))
    return out
