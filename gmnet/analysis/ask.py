"""One path for every question: resolve a :class:`~gmnet.model.question.Question` against a
network, then answer it.

Resolving applies, in this order: the worldview, the scenarios, the Critical Unknowns the user
fixed, the user's own numbers (``--set``); then checks every name once; then applies the context
policy:

- ``baseline`` (the default): every node of the network's neutral context (its metadata
  ``neutral_context``: the neutral modifier levels and every mitigation off) that the question, its
  scenarios and its alarms do not mention is held there by intervention. The source document's
  numbers describe that world, so a plain question gives the document's number. Observing (or
  asking about) an alarm of the detection layer implies its detector is deployed: the detector is
  held on instead of off, unless the question says otherwise.
- ``prior``: nothing is held; unmentioned nodes follow the network's priors (the mitigations'
  adoption priors included): the population average.

>>> import gmnet
>>> a = ask("P(harm=yes | shift_type=extreme)")
>>> round(a.probability, 4)
0.277
>>> a.resolved.held["capability_level"], a.resolved.held["ai_control"]
('human_level', 'off')
>>> round(ask("P(harm=yes | shift_type=extreme)", context="prior").probability, 4)
0.2244
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gmnet.analysis.uncertainty import uncertainty
from gmnet.analysis.unknowns import drawn_unknowns, fix_unknowns
from gmnet.analysis.whatif import neutral_context
from gmnet.display import percent, percent_interval
from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError, UnknownNameError
from gmnet.inference.joint import joint_query
from gmnet.inference.query import ENGINES, query, resolve_query
from gmnet.inference.soft import soft_query
from gmnet.model.network import Network, load_network
from gmnet.model.question import Question, format_assignments, parse_question
from gmnet.model.scenarios import Scenario, apply_scenarios, load_scenarios, merge_evidence
from gmnet.model.worldviews import DEFAULT_WORLDVIEW, Worldview, apply_worldview, load_worldviews

__all__ = ["Answer", "Resolved", "answer", "ask", "resolve", "with_interval", "USER_SOURCE"]

#: The source every number the user sets carries: no document citation.
USER_SOURCE = "set by you"


# ============================================================================ resolving
@dataclass(frozen=True)
class Resolved:
    """A question made concrete on a network: what is computed, and everything it assumed."""

    question: Question
    network: Network  # worldview, scenarios, fixed unknowns and the user's numbers applied
    evidence: dict[str, str]  # the question's and the scenarios'
    do: dict[str, str]  # the question's do() and what the context policy holds
    held: dict[str, str]  # what the context policy holds (part of ``do``)
    scenario_evidence: dict[str, str]
    worldview: str  # the worldview's name (the network's own numbers: document-table)
    scenarios: tuple[str, ...]
    set_by_you: dict[str, float]
    unknowns: dict[str, str]

    def held_text(self) -> str:
        """What the context policy held, in words."""
        net = self.network
        if self.question.context == "prior":
            return "nothing held (context prior: unmentioned nodes follow the network's priors)"
        if not neutral_context(net):
            return "nothing held (the network defines no baseline)"
        if not self.held:
            return "nothing held (the question mentions every baseline node)"
        mitigations = [v for v in net.variables if net.node(v).role == "mitigation"]
        off = [v for v in mitigations if self.held.get(v) == "off"]
        on = [v for v in mitigations if self.held.get(v) == "on"]
        others = {k: v for k, v in self.held.items() if k not in mitigations}
        parts = []
        if others:
            parts.append(format_assignments(others))
        if on:
            parts.append(f"{', '.join(on)} on (an alarm is observed)")
        if off:
            parts.append("every mitigation off" if len(off) == len(mitigations)
                         else "every other mitigation off")
        return "held at the document's baseline: " + "; ".join(parts)

    def assumptions(self) -> list[str]:
        """Everything the answer assumed, one line each."""
        lines = [f"context: {self.question.context}; {self.held_text()}"]
        if self.scenarios:
            lines.append("scenarios: " + ", ".join(self.scenarios))
        lines.append(f"worldview: {self.worldview}"
                     + (" (the network's own numbers)" if self.worldview == DEFAULT_WORLDVIEW
                        else ""))
        if self.question.soft:
            lines.append("soft evidence: " + ", ".join(str(f) for f in self.question.soft))
        if self.scenario_evidence:
            lines.append("observed by the scenarios: " + format_assignments(
                {k: v for k, v in self.scenario_evidence.items() if k in self.evidence}))
        if self.unknowns:
            lines.append("Critical Unknowns fixed by you: " + format_assignments(self.unknowns))
        if self.set_by_you:
            lines.append(f"{USER_SOURCE}: " + ", ".join(f"{k}={v:g}"
                                                        for k, v in self.set_by_you.items()))
        return lines

    def provenance(self) -> dict[str, Any]:
        """The assumptions as data (JSON, web API)."""
        return {"network": self.network.name, "context": self.question.context,
                "held": dict(self.held), "scenario": list(self.scenarios),
                "worldview": self.worldview, "evidence": dict(self.evidence),
                "do": dict(self.do), "set": dict(self.set_by_you),
                "unknowns": dict(self.unknowns), "assumptions": self.assumptions()}


def resolve(network: Network, question: Question, *, free: Iterable[str] = ()) -> Resolved:
    """Apply ``question``'s worldview, scenarios, unknowns and numbers to ``network``, check its
    names once, and apply its context policy.

    ``free``: further nodes the context policy must not hold (an analysis's own subjects, e.g.
    a counterfactual's cause and outcome)."""
    if not isinstance(question, Question):
        raise InvalidArgumentError(f"expected a Question, got {type(question).__name__}")
    net = network
    worldview = _worldview(question.worldview, network)
    if worldview is not None:
        net = apply_worldview(net, worldview)
    scenarios = _scenarios(question.scenarios, network)
    net, scenario_evidence = apply_scenarios(net, scenarios)
    net = fix_unknowns(net, question.unknowns)
    set_by_you = _overrides(question.overrides)
    if set_by_you:
        net = net.with_parameters({k: {"value": v, "range": None, "source": USER_SOURCE}
                                   for k, v in set_by_you.items()})
    for target in question.targets:
        if target not in net.variables:
            raise UnknownNameError("variable", target, net.variables, context="as target")
    if question.states is not None:
        for target, state in zip(question.targets, question.states, strict=True):
            net.check_state(target, state)
    resolve_query(net, question.evidence, question.do)
    evidence = merge_evidence(scenario_evidence, question.evidence, question.do)
    if question.joint:
        fixed = sorted(set(question.targets) & (set(evidence) | set(question.do)))
        if fixed:
            raise InvalidArgumentError(
                f"{fixed[0]} is a target and also observed or set; a joint target asks about "
                "nodes left free: drop it from the target or from the conditions")
    mentioned = set(question.targets) | set(evidence) | set(question.do) | {
        f.node for f in question.soft} | set(free)
    for s in scenarios:
        mentioned |= s.variables
    held = _held(net, question.context, mentioned, set(question.targets) | set(evidence))
    return Resolved(question, net, evidence, {**question.do, **held}, held,
                    dict(scenario_evidence),
                    worldview.name if worldview is not None else DEFAULT_WORLDVIEW,
                    tuple(s.name for s in scenarios), set_by_you, dict(question.unknowns))


def _held(net: Network, context: str, mentioned: set[str], seen: set[str]) -> dict[str, str]:
    if context == "prior":
        return {}
    held = {k: v for k, v in neutral_context(net).items() if k not in mentioned}
    for alarm in sorted(seen, key=net.variables.index):
        if net.node(alarm).role != "alarm":
            continue
        for detector in _detectors(net, alarm):
            if detector in held:
                held[detector] = "on"
    return held


def _detectors(net: Network, alarm: str) -> list[str]:
    layers = {k: (v or {}).get("layer") for k, v in net.metadata.get("mitigations", {}).items()}
    return [p for p in net.parents(alarm)
            if net.node(p).role == "mitigation" and layers.get(p) == "detection"]


def _is_file(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or ":" in ref.split("/")[-1]


def _split_ref(ref: str) -> tuple[Path, str | None]:
    """``FILE.yaml`` or ``FILE.yaml:NAME``."""
    path, _, name = ref.partition(".yaml:") if ".yaml:" in ref else (ref, "", "")
    if name:
        return Path(path + ".yaml"), name
    return Path(ref), None


def _pick(catalog: Mapping[str, Any], name: str | None, ref: str, kind: str):
    if name is not None:
        return catalog[name]
    names = list(catalog)
    if len(names) != 1:
        raise InvalidArgumentError(
            f"{kind} file {ref} holds {len(names)} {kind}s ({', '.join(names)}); name one as "
            f"{ref}:NAME")
    return catalog[names[0]]


def _worldview(ref: str | Worldview | None, network: Network) -> Worldview | None:
    if ref is None or isinstance(ref, Worldview):
        return ref
    if not isinstance(ref, str):
        raise InvalidArgumentError(f"a worldview is a name or a file, got {type(ref).__name__}")
    if _is_file(ref):
        path, name = _split_ref(ref)
        return _pick(load_worldviews(path, network=network), name, ref, "worldview")
    return load_worldviews()[ref]


def _scenarios(refs: Iterable[str | Scenario], network: Network) -> list[Scenario]:
    out: list[Scenario] = []
    for ref in refs:
        if isinstance(ref, Scenario):
            s = ref
        elif not isinstance(ref, str):
            raise InvalidArgumentError(f"a scenario is a name or a file, got "
                                       f"{type(ref).__name__}")
        elif _is_file(ref):
            path, name = _split_ref(ref)
            s = _pick(load_scenarios(path, network=network), name, ref, "scenario")
        else:
            s = load_scenarios()[ref]
        if s.name not in [o.name for o in out]:
            out.append(s)
    return out


def _overrides(overrides: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidArgumentError(f"set {name}: a number is expected, got {value!r}")
        try:
            number = float(value)
        except ValueError:
            raise InvalidArgumentError(f"set {name}: {str(value)[:40]!r} is not a number") \
                from None
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidArgumentError(f"set {name}: a finite number is expected, got {value!r}")
        out[str(name)] = number
    return out


# ============================================================================ answering
@dataclass(frozen=True)
class Answer:
    """The answer to a :class:`Question`, with everything it assumed (:attr:`resolved`)."""

    resolved: Resolved
    distribution: dict[Any, float]  # state -> p; for a joint target, tuple of states -> p
    engine: str = "einsum"
    interval: tuple[float, float] | None = field(default=None)
    interval_draws: tuple[int, int] | None = None  # (draws, seed) behind the interval

    @property
    def question(self) -> Question:
        return self.resolved.question

    @property
    def held(self) -> dict[str, str]:
        """What the context policy held (see :attr:`Resolved.held`)."""
        return self.resolved.held

    @property
    def probability(self) -> float:
        """P(target=state | ...) for a question that names its state(s)."""
        q = self.question
        if q.states is None:
            raise InvalidArgumentError(
                f"{q.text} asks for a distribution; name a state, e.g. "
                f"P({q.target}={next(iter(self.distribution)) if not q.joint else '...'})")
        key = q.states if q.joint else q.states[0]
        return self.distribution[key]

    def statement(self) -> str:
        """The answer in one line: the question and its number(s)."""
        q = self.question
        if q.states is not None:
            text = f"{q.text} = {percent(self.probability)}"
            if self.interval is not None:
                draws, seed = self.interval_draws or (0, 0)
                text += (f" (90% interval {percent_interval(*self.interval)}, {draws:,} draws, "
                         f"seed {seed}; the point uses the document's point values)")
            return text
        return q.text + ": " + ", ".join(f"{_label(s)} {percent(p)}"
                                         for s, p in self.distribution.items())

    def lines(self) -> list[str]:
        """The statement and then every assumption, for a terminal or a caption."""
        return [self.statement(), *("  " + line for line in self.resolved.assumptions())]

    def to_dict(self) -> dict[str, Any]:
        q = self.question
        out: dict[str, Any] = {"query": q.text, "target": q.target if not q.joint
                               else list(q.targets)}
        if q.joint:
            out["distribution"] = [{"states": dict(zip(q.targets, s, strict=True)),
                                    "probability": p} for s, p in self.distribution.items()]
        else:
            out["distribution"] = dict(self.distribution)
        if q.states is not None:
            out["state"] = q.state if not q.joint else list(q.states)
            out["probability"] = self.probability
        if self.interval is not None:
            out["interval"] = list(self.interval)
            out["interval_draws"], out["interval_seed"] = self.interval_draws or (0, 0)
        out.update(self.resolved.provenance())
        if q.soft:
            out["soft"] = [f.to_dict() for f in q.soft]
        out["engine"] = self.engine
        out["statement"] = self.statement()
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        from html import escape

        body = "".join(f"<li>{escape(line)}</li>" for line in self.resolved.assumptions())
        return f"<div><b>{escape(self.statement())}</b><ul>{body}</ul></div>"


#: Draws and seed of the interval shown beside a headline number (fixed: the same question
#: always shows the same interval).
INTERVAL_SAMPLES = 2000
INTERVAL_SEED = 0


def with_interval(result: Answer, *, samples: int = INTERVAL_SAMPLES,
                  seed: int = INTERVAL_SEED) -> Answer:
    """``result`` with the 90% interval of its probability over draws of every uncertain
    number (PERT ranges and the Critical Unknowns the user did not fix), seed fixed."""
    q, r = result.question, result.resolved
    if q.states is None or q.joint:
        raise InvalidArgumentError(f"an interval needs one target state, e.g. P(harm=yes); "
                                   f"got {q.text}")
    unc = uncertainty(r.network, q.target, q.state, evidence=r.evidence, do=r.do,
                      samples=samples, rng=seed, unknowns=drawn_unknowns(True, r.unknowns))
    lo, hi = unc.interval(0.90)
    return replace(result, interval=(lo, hi), interval_draws=(samples, seed))


def _label(state: Any) -> str:
    return ",".join(state) if isinstance(state, tuple) else str(state)


def answer(network: Network, question: Question, *, engine: str = "einsum",
           resolved: Resolved | None = None) -> Answer:
    """Answer ``question`` on ``network``: exact, at the point values."""
    if engine not in ENGINES:
        raise UnknownNameError("engine", str(engine), ENGINES)
    r = resolved if resolved is not None else resolve(network, question)
    q = r.question
    try:
        if q.joint:
            dist: dict[Any, float] = joint_query(r.network, q.targets, evidence=r.evidence,
                                                 do=r.do, engine=engine, soft=q.soft)
        else:
            dist = (soft_query(r.network, q.target, soft=q.soft, evidence=r.evidence, do=r.do,
                               engine=engine) if q.soft else
                    query(r.network, q.target, evidence=r.evidence, do=r.do, engine=engine))
    except ImpossibleEvidenceError as exc:
        upstream = r.network.compiled.ancestors_of(set(r.evidence))
        held = {k: v for k, v in r.held.items() if k in upstream}
        if not held:
            raise
        # suggest the held mitigation nearest the evidence: a parent of an observed node first
        off = [k for k, v in held.items() if v == "off"
               and r.network.node(k).role == "mitigation"]
        near = [p for v in r.evidence for p in r.network.parents(v) if p in off]
        choices = near or off
        example = f" (e.g. do({choices[0]}=on))" if choices else ""
        raise ImpossibleEvidenceError(
            f"{exc}; the baseline context held, upstream of the evidence: "
            f"{format_assignments(held)}: mention the node that makes the evidence possible"
            f"{example} or ask with context prior") from None
    return Answer(r, dist, engine)


def ask(question: str | Question, *, network: Network | str | Path | None = None,
        scenario: str | Iterable[str] = (), worldview: str | None = None,
        context: str | None = None, overrides: Mapping[str, Any] | None = None,
        unknowns: Mapping[str, str] | None = None, engine: str = "einsum") -> Answer:
    """Ask a question the way the command line does (the high-level Python entry).

    ``question`` is the ``P(...)`` text or a :class:`Question`; the keywords fill (or, for a
    Question, replace) its scenarios, worldview, context policy (default ``baseline``), the
    user's numbers and fixed Critical Unknowns. ``Network.query`` is the plain network
    operation (nothing held); this is the question as gmnet's surfaces ask it.

    >>> a = ask("P(harm=yes)", scenario="autonomous_agents")
    >>> round(a.probability, 3), a.resolved.scenarios
    (0.416, ('autonomous_agents',))
    """
    net = network if isinstance(network, Network) else load_network(network)
    scenarios = (scenario,) if isinstance(scenario, str) else tuple(scenario or ())
    if isinstance(question, Question):
        changes: dict[str, Any] = {}
        if scenarios:
            changes["scenarios"] = scenarios
        if worldview is not None:
            changes["worldview"] = worldview
        if context is not None:
            changes["context"] = context
        if overrides:
            changes["overrides"] = dict(overrides)
        if unknowns:
            changes["unknowns"] = dict(unknowns)
        q = question.replace(**changes) if changes else question
    else:
        q = parse_question(question, scenarios=scenarios, worldview=worldview,
                           context=context or "baseline", overrides=overrides,
                           unknowns=unknowns)
    return answer(net, q, engine=engine)


def states_product(network: Network, targets: Iterable[str]) -> list[tuple[str, ...]]:
    """Every combination of the targets' states, in table order."""
    return list(itertools.product(*(network.states(t) for t in targets)))
