"""A question as a value: what is asked, under what, and with which context policy.

Every surface (command line, web API, page, report, plots, notebook, Python) builds a
:class:`Question` and hands it to :func:`gmnet.analysis.ask.answer`, so the same question gets the
same answer everywhere. This module holds the value, its one parser (the ``P(...)`` text) and its
one formatter; resolving it against a network lives in the analysis layer.

The text form::

    P(harm=yes | shift_type=extreme, do(alignment_method=interpretability_verified))
    P(harm | ...)                    the whole distribution of harm
    P(harm=yes, containment=contained | ...)   a joint target (a state for every target or none)
    P(harm | capability_level~=below_human:0.2,human_level:0.5,superhuman:0.3)   soft evidence:
    P(harm | P(capability_level=superhuman)=0.3)  a likelihood, or a fixed marginal (docs/why.md)

>>> q = parse_question("P(harm=yes | shift_type=extreme, do(spec_quality=low))")
>>> q.target, q.state, q.evidence, q.do
('harm', 'yes', {'shift_type': 'extreme'}, {'spec_quality': 'low'})
>>> q.text
'P(harm=yes | shift_type=extreme, do(spec_quality=low))'
>>> parse_question("P(harm, containment)").targets
('harm', 'containment')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gmnet.errors import InvalidArgumentError, QuerySyntaxError
from gmnet.model.soft_evidence import SoftFinding, as_findings, extract_soft_terms

__all__ = ["CONTEXT_POLICIES", "Question", "parse_question", "format_assignments"]

#: ``baseline``: nodes the question does not mention are held at the document's reference
#: (neutral modifiers, no added mitigation); ``prior``: nothing is held (population average).
CONTEXT_POLICIES = ("baseline", "prior")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STATE = r"[A-Za-z0-9_.+\-]+"
_ASSIGN = re.compile(rf"^\s*({_NAME})\s*=\s*({_STATE})\s*$")
_BARE = re.compile(rf"^\s*({_NAME})\s*$")
_HEAD = re.compile(r"^\s*P\s*\(([^|]*?)(?:\|(.*))?\)\s*$", re.S)
_EXAMPLE = "P(harm | shift_type=extreme, do(alignment_method=interpretability_verified))"
#: Error messages quote at most this much of what they were given.
_QUOTE = 120


def _quote(text: str) -> str:
    return repr(text if len(text) <= _QUOTE else text[:_QUOTE] + "...")


def format_assignments(assignments: Mapping[str, str]) -> str:
    """``{a: x, b: y}`` as ``a=x, b=y``."""
    return ", ".join(f"{k}={v}" for k, v in assignments.items())


@dataclass(frozen=True)
class Question:
    """P(targets | evidence, do(...)) under scenarios, a worldview, a context policy and the
    user's own numbers.

    Parameters
    ----------
    targets
        The variable(s) asked about (a string for one).
    states
        A state per target (its probability is the answer), or ``None`` for the distribution.
    evidence, do
        Observed and intervened states.
    scenarios
        Scenario names (``gmnet scenarios``) or paths of scenario files (``.yaml``).
    worldview
        A worldview name or the path of a worldview file; ``None``: the network's own numbers.
    context
        ``"baseline"`` (default) or ``"prior"``: see :data:`CONTEXT_POLICIES` and docs/context.md.
    overrides
        The user's own numbers, parameter name -> value (shown as "set by you").
    unknowns
        Critical Unknowns fixed by the user, key -> state (e.g. interpretability_feasibility=fails).
    soft
        Soft evidence: likelihood findings and fixed marginals
        (:class:`~gmnet.model.soft_evidence.SoftFinding`, or their text).
    """

    targets: tuple[str, ...]
    states: tuple[str, ...] | None = None
    evidence: Mapping[str, str] = field(default_factory=dict)
    do: Mapping[str, str] = field(default_factory=dict)
    scenarios: tuple[Any, ...] = ()  # names, file paths or Scenario objects
    worldview: Any = None  # a name, a file path or a Worldview object
    context: str = "baseline"
    overrides: Mapping[str, Any] = field(default_factory=dict)
    unknowns: Mapping[str, str] = field(default_factory=dict)
    soft: tuple[SoftFinding, ...] = ()

    def __post_init__(self) -> None:
        targets = (self.targets,) if isinstance(self.targets, str) else tuple(self.targets)
        states = self.states
        if isinstance(states, str):
            states = (states,)
        elif states is not None:
            states = tuple(states)
            if all(s is None for s in states):
                states = None
        if not targets:
            raise InvalidArgumentError("a question needs a target, e.g. harm")
        for t in targets:
            if not isinstance(t, str):
                raise InvalidArgumentError(f"a target is a variable name, got {t!r}")
        if len(set(targets)) != len(targets):
            raise QuerySyntaxError(f"a target is named twice in {', '.join(targets)}")
        if states is not None:
            if len(states) != len(targets) or any(not isinstance(s, str) for s in states):
                raise QuerySyntaxError(
                    "name a state for every target or for none, e.g. P(harm=yes, "
                    "containment=contained) or P(harm, containment)")
        if self.context not in CONTEXT_POLICIES:
            raise InvalidArgumentError(f"unknown context policy {self.context!r}; choose one "
                                       f"of: {', '.join(CONTEXT_POLICIES)}")
        given: Any = self.scenarios or ()
        if isinstance(given, str) or not hasattr(given, "__iter__"):
            given = (given,)  # one name, or one Scenario object
        scenarios: list = []
        for s in given:  # Scenario objects (unhashable) are kept, once each, by name
            if _scenario_name(s) not in [_scenario_name(o) for o in scenarios]:
                scenarios.append(s)
        for name, value, shape in (("evidence", self.evidence, "variable -> state"),
                                   ("do()", self.do, "variable -> state"),
                                   ("unknowns", self.unknowns, "critical unknown -> state"),
                                   ("overrides", self.overrides, "parameter -> number")):
            if not isinstance(value, Mapping):
                raise InvalidArgumentError(f"{name} must be a mapping {shape}, got "
                                           f"{type(value).__name__}")
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "states", states)
        object.__setattr__(self, "evidence", dict(self.evidence))
        object.__setattr__(self, "do", dict(self.do))
        object.__setattr__(self, "scenarios", tuple(scenarios))
        object.__setattr__(self, "overrides", dict(self.overrides))
        object.__setattr__(self, "unknowns", dict(self.unknowns))
        object.__setattr__(self, "soft", as_findings(self.soft))

    # ------------------------------------------------------------------ the one-target view
    @property
    def target(self) -> str:
        """The target (the first of a joint one)."""
        return self.targets[0]

    @property
    def state(self) -> str | None:
        """The target's state (the first of a joint one), or None."""
        return None if self.states is None else self.states[0]

    @property
    def joint(self) -> bool:
        return len(self.targets) > 1

    # ------------------------------------------------------------------ changes
    def replace(self, **changes: Any) -> Question:
        """A new question with some fields changed."""
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        values.update(changes)
        return Question(**values)

    # ------------------------------------------------------------------ text
    @property
    def text(self) -> str:
        """The question in gmnet's query syntax (evidence and do() only)."""
        if self.states is None:
            head = ", ".join(self.targets)
        else:
            head = ", ".join(f"{t}={s}" for t, s in zip(self.targets, self.states, strict=True))
        parts = [f"{k}={v}" for k, v in self.evidence.items()]
        parts += [str(f) for f in self.soft]
        if self.do:
            parts.append("do(" + format_assignments(self.do) + ")")
        return f"P({head}" + (" | " + ", ".join(parts) if parts else "") + ")"

    def __str__(self) -> str:
        return self.text

    def key(self) -> tuple:
        """A hashable form (for caches)."""
        return (self.targets, self.states, tuple(self.evidence.items()),
                tuple(self.do.items()),
                tuple(s if isinstance(s, str) else (_scenario_name(s), id(s))
                      for s in self.scenarios),
                self.worldview if isinstance(self.worldview, str | None) else id(self.worldview),
                self.context,
                tuple((k, repr(v)) for k, v in self.overrides.items()),
                tuple(self.unknowns.items()), self.soft)


def _scenario_name(s: Any) -> str:
    return s if isinstance(s, str) else str(getattr(s, "name", id(s)))


def parse_question(text: str, *, scenarios: Iterable[str] = (), worldview: str | None = None,
                   context: str = "baseline", overrides: Mapping[str, Any] | None = None,
                   unknowns: Mapping[str, str] | None = None) -> Question:
    """Parse the ``P(...)`` text into a :class:`Question`; the keywords fill the rest.

    >>> parse_question("P(harm | do(ai_control=on))", scenarios=["game_ai"]).scenarios
    ('game_ai',)
    """
    if not isinstance(text, str):
        raise QuerySyntaxError(f"a query is a string such as {_EXAMPLE!r}")
    match = _HEAD.match(text)
    if not match:
        raise QuerySyntaxError(f"cannot parse query {_quote(text)}; write it like {_EXAMPLE!r}")
    head, rest = match.group(1), match.group(2)
    targets, states = _parse_head(head, text)
    evidence: dict[str, str] = {}
    do: dict[str, str] = {}
    soft: tuple[SoftFinding, ...] = ()
    if rest is not None and rest.strip():
        rest, soft = extract_soft_terms(rest, text)  # x~=a:0.8,... and P(x=a)=0.3 terms
        if soft and not rest.strip(" \t\n,"):
            rest = None
    if rest is not None:
        if not rest.strip():
            raise QuerySyntaxError(f"query {_quote(text)} has '|' but nothing after it")
        for kind, body in _split_terms(rest, text):
            for item in _split_commas(body) if kind == "do" else [body]:
                m = _ASSIGN.match(item)
                if not m:
                    raise QuerySyntaxError(
                        f"cannot parse {_quote(item.strip())} in query {_quote(text)}; "
                        "expected variable=state")
                var, value = m.group(1), m.group(2)
                if var in evidence or var in do:
                    raise QuerySyntaxError(f"{var} is given twice in query {_quote(text)}")
                (evidence if kind == "obs" else do)[var] = value
    for finding in soft:
        if finding.node in evidence or finding.node in do:
            raise QuerySyntaxError(f"{finding.node} is given twice in query {_quote(text)}")
    return Question(targets, states, evidence, do, tuple(scenarios), worldview, context,
                    dict(overrides or {}), dict(unknowns or {}), soft)


def _parse_head(head: str, text: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    if "(" in head or ")" in head:
        raise QuerySyntaxError(f"unexpected parenthesis in query {_quote(text)}")
    items = head.split(",")
    targets: list[str] = []
    states: list[str | None] = []
    for item in items:
        assigned, bare = _ASSIGN.match(item), _BARE.match(item)
        if assigned:
            targets.append(assigned.group(1))
            states.append(assigned.group(2))
        elif bare:
            targets.append(bare.group(1))
            states.append(None)
        else:
            raise QuerySyntaxError(f"cannot parse query {_quote(text)}: the target "
                                   f"{_quote(item.strip())} is not a variable name or "
                                   f"variable=state; write it like {_EXAMPLE!r}")
    if len(set(targets)) != len(targets):
        raise QuerySyntaxError(f"a target is named twice in query {_quote(text)}")
    if all(s is None for s in states):
        return tuple(targets), None
    if any(s is None for s in states):
        raise QuerySyntaxError(
            f"name a state for every target or for none in query {_quote(text)}, e.g. "
            "P(harm=yes, containment=contained) or P(harm, containment)")
    return tuple(targets), tuple(s for s in states if s is not None)


def _split_commas(text: str) -> list[str]:
    parts = text.split(",")
    if any(not p.strip() for p in parts):
        raise QuerySyntaxError(f"empty item in {_quote(text)}")
    return parts


def _split_terms(rest: str, text: str) -> list[tuple[str, str]]:
    """Split the condition part into ('obs', 'x=a') and ('do', 'y=b, z=c') terms."""
    terms: list[tuple[str, str]] = []
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " \t\n,":
            i += 1
        if i >= n:
            break
        m = re.match(r"do\s*\(", rest[i:])
        if m:
            close = rest.find(")", i)
            if close < 0:
                raise QuerySyntaxError(f"unclosed do( in query {_quote(text)}")
            terms.append(("do", rest[i + m.end():close]))
            i = close + 1
            continue
        j = rest.find(",", i)
        j = n if j < 0 else j
        if "(" in rest[i:j] or ")" in rest[i:j]:
            raise QuerySyntaxError(f"unexpected parenthesis in query {_quote(text)}")
        terms.append(("obs", rest[i:j]))
        i = j + 1
    if not terms:
        raise QuerySyntaxError(f"query {_quote(text)} has '|' but nothing after it")
    return terms
