"""The text form of a query: ``P(harm=yes | shift_type=extreme, do(alignment_method=standard))``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gmnet.errors import QuerySyntaxError
from gmnet.model.soft_evidence import SoftFinding, extract_soft_terms

__all__ = ["ParsedQuery", "parse_query"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STATE = r"[A-Za-z0-9_.+\-]+"
_ASSIGN = re.compile(rf"^\s*({_NAME})\s*=\s*({_STATE})\s*$")
_HEAD = re.compile(rf"^\s*P\s*\(\s*({_NAME})\s*(?:=\s*({_STATE})\s*)?(?:\|(.*))?\)\s*$", re.S)
_EXAMPLE = "P(harm | shift_type=extreme, do(alignment_method=interpretability_verified))"


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed query: target, optional target state, evidence and interventions."""

    target: str
    state: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)
    do: dict[str, str] = field(default_factory=dict)
    # soft-evidence hook (issue 19): likelihood and fixed-marginal terms, (node, kind, values)
    soft: tuple[SoftFinding, ...] = ()

    def __str__(self) -> str:
        head = self.target + (f"={self.state}" if self.state else "")
        parts = [f"{k}={v}" for k, v in self.evidence.items()]
        parts += [str(f) for f in self.soft]  # soft-evidence hook (issue 19)
        if self.do:
            parts.append("do(" + ", ".join(f"{k}={v}" for k, v in self.do.items()) + ")")
        return f"P({head}" + (" | " + ", ".join(parts) if parts else "") + ")"


def parse_query(text: str) -> ParsedQuery:
    """Parse a query string.

    >>> parse_query("P(harm=yes | shift_type=extreme, do(spec_quality=low))").do
    {'spec_quality': 'low'}
    """
    if not isinstance(text, str):
        raise QuerySyntaxError(f"a query is a string such as {_EXAMPLE!r}")
    match = _HEAD.match(text)
    if not match:
        raise QuerySyntaxError(f"cannot parse query {text!r}; write it like {_EXAMPLE!r}")
    target, state, rest = match.group(1), match.group(2), match.group(3)
    evidence: dict[str, str] = {}
    do: dict[str, str] = {}
    soft: tuple[SoftFinding, ...] = ()
    if rest is not None and rest.strip():
        # soft-evidence hook (issue 19): take out `x~=a:0.8,...` and `P(x=a)=0.3` terms
        rest, soft = extract_soft_terms(rest, text)
        if soft and not rest.strip(" \t\n,"):
            rest = None
    if rest is not None:
        if not rest.strip():
            raise QuerySyntaxError(f"query {text!r} has '|' but nothing after it")
        for kind, body in _split_terms(rest, text):
            for item in _split_commas(body) if kind == "do" else [body]:
                m = _ASSIGN.match(item)
                if not m:
                    raise QuerySyntaxError(
                        f"cannot parse {item.strip()!r} in query {text!r}; expected variable=state")
                var, value = m.group(1), m.group(2)
                seen = evidence if kind == "obs" else do
                if var in evidence or var in do:
                    raise QuerySyntaxError(f"{var} is given twice in query {text!r}")
                seen[var] = value
    return ParsedQuery(target, state, evidence, do, soft)


def _split_commas(text: str) -> list[str]:
    parts = [p for p in text.split(",")]
    if any(not p.strip() for p in parts):
        raise QuerySyntaxError(f"empty item in {text!r}")
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
                raise QuerySyntaxError(f"unclosed do( in query {text!r}")
            terms.append(("do", rest[i + m.end():close]))
            i = close + 1
            continue
        j = rest.find(",", i)
        j = n if j < 0 else j
        if "(" in rest[i:j] or ")" in rest[i:j]:
            raise QuerySyntaxError(f"unexpected parenthesis in query {text!r}")
        terms.append(("obs", rest[i:j]))
        i = j + 1
    if not terms:
        raise QuerySyntaxError(f"query {text!r} has '|' but nothing after it")
    return terms
