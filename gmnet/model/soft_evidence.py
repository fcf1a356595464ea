"""Soft evidence: uncertain observations of a node, as text, as values, as a virtual child.

Two kinds (see docs/why.md):

- **likelihood** (virtual evidence, Netica's "likelihood finding"): a report whose chance of being
  made is proportional to a weight per state, ``capability_level~=below_human:0.2,
  human_level:0.5,superhuman:0.3``. Only the ratios of the weights matter. It is exactly an
  observed child of the node whose probability of "observed" is the weight (scaled to at most 1).
- **marginal** (Jeffrey's rule): a forecast that fixes the node's probability after every other
  piece of evidence, ``P(capability_level=superhuman)=0.3`` (the other states keep their relative
  odds and share 0.7) or ``P(capability_level)=below_human:0.2,human_level:0.5,superhuman:0.3``.
  It is a likelihood too, ``q(s) / P(s | the other evidence)``, computed by the inference layer.

Grammar of a term (inside ``P(target | ...)``, after ``--likelihood``/``--marginal`` and in
Python)::

    likelihood :=  NAME "~=" STATE ":" NUMBER ("," STATE ":" NUMBER)*
    marginal   :=  "P(" NAME "=" STATE ")" "=" NUMBER
                |  "P(" NAME ")" "=" STATE ":" NUMBER ("," STATE ":" NUMBER)*

Nothing here changes a network: :func:`gmnet.model.virtual.with_virtual_children` returns a new
one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from gmnet.errors import InvalidArgumentError, QuerySyntaxError, UnknownNameError

if TYPE_CHECKING:
    pass

__all__ = ["SoftFinding", "ResolvedFinding", "parse_soft", "parse_soft_option",
           "extract_soft_terms", "as_findings", "resolve_soft",
           "refuse_soft", "VIRTUAL_STATES", "SOFT_EXAMPLES"]

Kind = Literal["likelihood", "marginal"]
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STATE = r"[A-Za-z0-9_.+\-]+"
_NUM = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_PAIR = rf"{_STATE}\s*:\s*{_NUM}"
_PAIRS = rf"{_PAIR}(?:\s*,\s*{_PAIR})*"
_LIKELIHOOD = rf"(?P<lnode>{_NAME})\s*~=\s*(?P<lpairs>{_PAIRS})"
_MARGINAL_ONE = rf"P\s*\(\s*(?P<mnode>{_NAME})\s*=\s*(?P<mstate>{_STATE})\s*\)\s*=\s*(?P<mp>{_NUM})"
_MARGINAL_ALL = rf"P\s*\(\s*(?P<anode>{_NAME})\s*\)\s*=\s*(?P<apairs>{_PAIRS})"
_TERM = re.compile(rf"(?P<lead>^|,)\s*(?:{_LIKELIHOOD}|{_MARGINAL_ONE}|{_MARGINAL_ALL})"
                   r"\s*(?=,|$)", re.S)
_WHOLE = re.compile(rf"^\s*(?:{_LIKELIHOOD}|{_MARGINAL_ONE}|{_MARGINAL_ALL})\s*$", re.S)
SOFT_EXAMPLES = ("capability_level~=below_human:0.2,human_level:0.5,superhuman:0.3",
                 "P(capability_level=superhuman)=0.3")
#: States of a virtual child: the report was made, or not (always observed as the first).
VIRTUAL_STATES = ("observed", "not_observed")


class SoftFinding(NamedTuple):
    """One soft observation: ``(node, kind, values)``, values a tuple of (state, number).

    >>> str(SoftFinding("capability_level", "marginal", (("superhuman", 0.3),)))
    'P(capability_level=superhuman)=0.3'
    """

    node: str
    kind: Kind
    values: tuple[tuple[str, float], ...]

    def __str__(self) -> str:
        pairs = ",".join(f"{s}:{_num(p)}" for s, p in self.values)
        if self.kind == "likelihood":
            return f"{self.node}~={pairs}"
        if len(self.values) == 1:
            state, p = self.values[0]
            return f"P({self.node}={state})={_num(p)}"
        return f"P({self.node})={pairs}"

    def to_dict(self) -> dict:
        return {"node": self.node, "kind": self.kind, "values": dict(self.values),
                "text": str(self)}

    @classmethod
    def likelihood(cls, node: str, weights: Mapping[str, float]) -> SoftFinding:
        """Virtual evidence on ``node``: a weight per state (only their ratios matter)."""
        return cls(node, "likelihood", tuple((str(s), float(w)) for s, w in weights.items()))

    @classmethod
    def marginal(cls, node: str, probabilities: Mapping[str, float]) -> SoftFinding:
        """Jeffrey's rule: fix P(node=state) for the states given (the rest keep their odds)."""
        return cls(node, "marginal", tuple((str(s), float(p)) for s, p in probabilities.items()))


class ResolvedFinding(NamedTuple):
    """A finding checked against a network: state indices and numbers as arrays.

    ``values[i]`` is the weight (likelihood) or the fixed probability (marginal) of state ``i``;
    ``given[i]`` says whether state ``i`` was named (a marginal may name only some).
    """

    node: str
    kind: Kind
    values: np.ndarray
    given: np.ndarray
    text: str


def _num(x: float) -> str:
    return f"{x:.12g}"


def _pairs(text: str) -> tuple[tuple[str, float], ...]:
    out = []
    for item in text.split(","):
        state, _, number = item.partition(":")
        out.append((state.strip(), float(number)))
    return tuple(out)


def _finding(match: re.Match) -> SoftFinding:
    g = match.groupdict()
    if g.get("lnode"):
        return SoftFinding(g["lnode"], "likelihood", _pairs(g["lpairs"]))
    if g.get("mnode"):
        return SoftFinding(g["mnode"], "marginal", ((g["mstate"], float(g["mp"])),))
    return SoftFinding(g["anode"], "marginal", _pairs(g["apairs"]))


def parse_soft(text: str) -> SoftFinding:
    """One soft-evidence term.

    >>> parse_soft("capability_level~=below_human:0.2,human_level:0.5,superhuman:0.3").kind
    'likelihood'
    >>> parse_soft("P(capability_level=superhuman)=0.3").values
    (('superhuman', 0.3),)
    """
    if not isinstance(text, str):
        raise QuerySyntaxError(f"soft evidence is text such as {SOFT_EXAMPLES[0]!r}")
    match = _WHOLE.match(text)
    if not match:
        raise QuerySyntaxError(
            f"cannot parse soft evidence {text!r}; write a likelihood like {SOFT_EXAMPLES[0]!r} "
            f"or a fixed marginal like {SOFT_EXAMPLES[1]!r}")
    return _finding(match)


def parse_soft_option(text: str, kind: Kind) -> SoftFinding:
    """The command line's form ``NODE=STATE:NUMBER,...`` (``--likelihood`` / ``--marginal``).

    >>> str(parse_soft_option("capability_level=superhuman:0.3", "marginal"))
    'P(capability_level=superhuman)=0.3'
    """
    match = re.fullmatch(rf"\s*({_NAME})\s*=\s*({_PAIRS})\s*", text or "")
    if not match:
        option = "--likelihood" if kind == "likelihood" else "--marginal"
        raise QuerySyntaxError(
            f"cannot parse {option} {text!r}; write NODE=STATE:NUMBER,..., e.g. "
            f"{option} capability_level=" + ("below_human:0.2,human_level:0.5,superhuman:0.3"
                                             if kind == "likelihood" else "superhuman:0.3"))
    return SoftFinding(match.group(1), kind, _pairs(match.group(2)))


def extract_soft_terms(condition: str, text: str = "") -> tuple[str, tuple[SoftFinding, ...]]:
    """Take the soft terms out of the condition part of a query (what follows ``|``).

    Returns what is left (plain observations and do()) and the findings, in order.

    >>> extract_soft_terms(" shift_type=extreme, P(capability_level=superhuman)=0.3")
    (' shift_type=extreme,', (SoftFinding(node='capability_level', kind='marginal', \
values=(('superhuman', 0.3),)),))
    """
    found: list[SoftFinding] = []

    def take(match: re.Match) -> str:
        found.append(_finding(match))
        return match.group("lead")

    rest = _TERM.sub(take, condition)
    # a term that looks soft but did not parse would otherwise read as "unexpected parenthesis"
    if "~" in rest or re.search(r"(^|[\s,])P\s*\(", rest):
        raise QuerySyntaxError(
            f"cannot parse the soft evidence in query {text or condition!r}; write a likelihood "
            f"like {SOFT_EXAMPLES[0]!r} or a fixed marginal like {SOFT_EXAMPLES[1]!r}")
    return rest, tuple(found)


def refuse_soft(soft, where: str) -> None:
    """Raise if ``soft`` holds findings: for the places that do not take soft evidence yet
    (rather than ignore it and answer another question)."""
    if soft:
        raise InvalidArgumentError(
            f"soft evidence ({', '.join(str(f) for f in soft)}) is not taken by {where}; ask "
            "it with gmnet query, uncertainty or explain")


def as_findings(soft: Iterable[SoftFinding | str | Sequence] | SoftFinding | str | None
                ) -> tuple[SoftFinding, ...]:
    """Findings from text terms, :class:`SoftFinding` values or ``(node, kind, values)``
    tuples (values a mapping or pairs)."""
    if soft is None:
        return ()
    if isinstance(soft, str | SoftFinding):
        soft = [soft]
    out = []
    for item in soft:
        if isinstance(item, str):
            out.append(parse_soft(item))
            continue
        try:
            node, kind, values = item
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"soft evidence must be text such as {SOFT_EXAMPLES[1]!r} or (node, kind, "
                f"values) tuples, got {item!r}") from None
        if kind not in ("likelihood", "marginal"):
            raise InvalidArgumentError(
                f"soft evidence kind must be 'likelihood' or 'marginal', got {kind!r}")
        pairs = values.items() if isinstance(values, Mapping) else values
        try:
            pairs = tuple((str(s), float(p)) for s, p in pairs)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"soft evidence on {node}: values must be state -> number, got {values!r}"
            ) from None
        out.append(SoftFinding(str(node), kind, pairs))
    return tuple(out)


def resolve_soft(states: Mapping[str, Sequence[str]], soft, *,
                 observed: Iterable[str] = (), intervened: Iterable[str] = ()
                 ) -> tuple[ResolvedFinding, ...]:
    """Check findings against a network's states (``{node: states}``); return them as arrays.

    A node takes at most one finding, and none if it is observed or set by do().
    """
    findings = as_findings(soft)
    observed, intervened = set(observed), set(intervened)
    seen: set[str] = set()
    out = []
    for f in findings:
        where = f"soft evidence {str(f)!r}"
        if f.node not in states:
            raise UnknownNameError("variable", f.node, list(states), context=f"in {where}")
        if f.node in seen:
            raise InvalidArgumentError(f"{f.node} has soft evidence twice; give it once")
        if f.node in observed or f.node in intervened:
            how = "observed" if f.node in observed else "set by do()"
            raise InvalidArgumentError(
                f"{f.node} is {how} and also has soft evidence; give it one or the other")
        seen.add(f.node)
        names = tuple(states[f.node])
        values = np.zeros(len(names))
        given = np.zeros(len(names), dtype=bool)
        for state, number in f.values:
            if state not in names:
                raise UnknownNameError("state", state, names, context=f"for {f.node} in {where}")
            i = names.index(state)
            if given[i]:
                raise InvalidArgumentError(f"{where}: state {state} is given twice")
            if not math.isfinite(number) or number < 0:
                raise InvalidArgumentError(f"{where}: {state}:{number} must be a finite number "
                                           ">= 0")
            values[i], given[i] = number, True
        if f.kind == "likelihood":
            missing = [s for s, g in zip(names, given, strict=True) if not g]
            if missing:
                raise InvalidArgumentError(
                    f"{where}: a likelihood gives every state of {f.node} a weight; missing: "
                    f"{', '.join(missing)}")
            if not values.max() > 0:
                raise InvalidArgumentError(f"{where}: every weight is 0; at least one state "
                                           "needs a positive weight")
        else:
            total = float(values[given].sum())
            if np.any(values > 1) or total > 1 + 1e-9:
                raise InvalidArgumentError(
                    f"{where}: fixed probabilities must lie in [0, 1] and sum to at most 1, "
                    f"got a sum of {total:.6g}")
            if given.all() and abs(total - 1) > 1e-9:
                raise InvalidArgumentError(
                    f"{where}: the probabilities of every state of {f.node} must sum to 1, got "
                    f"{total:.6g}")
        out.append(ResolvedFinding(f.node, f.kind, values, given, str(f)))
    return tuple(out)
