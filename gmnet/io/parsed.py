"""What every reader of another tool's file produces: names, states, parents and tables.

The readers (:mod:`gmnet.io.bif`, :mod:`gmnet.io.xmlbif`, :mod:`gmnet.io.net`,
:mod:`gmnet.io.genie`, :mod:`gmnet.io.netica`, :mod:`gmnet.io.uai`) parse text into a
:class:`ParsedNetwork`; :func:`to_model` checks it (every variable has a table of the right
shape, the parents exist and form no cycle) and turns it into a :class:`CompiledModel`.
A reader raises :class:`FileFormatError` naming the first problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from gmnet.model.checks import declared_order
from gmnet.model.compiled import CompiledModel

__all__ = ["FileFormatError", "ParsedNetwork", "to_model", "numbers", "percent_rows",
           "topological", "quoted_tokens", "unquote", "TokenCursor"]


class FileFormatError(ValueError):
    """The text is not a valid file of the format being read."""


@dataclass
class ParsedNetwork:
    """A Bayesian network as read from a file, before any checking.

    ``tables[v]`` has shape ``(*[card(p) for p in parents[v]], card(v))``: the parents in the
    listed order, the variable's own states last.
    """

    variables: list[str] = field(default_factory=list)  # in the file's order
    states: dict[str, tuple[str, ...]] = field(default_factory=dict)
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tables: dict[str, np.ndarray] = field(default_factory=dict)
    name: str | None = None
    notes: list[str] = field(default_factory=list)

    def add_variable(self, name: str, states: tuple[str, ...]) -> None:
        if name in self.states:
            raise FileFormatError(f"variable {name} is declared twice")
        if len(states) < 2:
            raise FileFormatError(f"variable {name} has {len(states)} state(s); a variable "
                                  "needs at least 2")
        if len(set(states)) != len(states):
            raise FileFormatError(f"variable {name} lists a state twice")
        self.variables.append(name)
        self.states[name] = tuple(states)

    def card(self, name: str) -> int:
        return len(self.states[name])

    def shape(self, name: str, parents: tuple[str, ...]) -> tuple[int, ...]:
        for p in parents:
            if p not in self.states:
                raise FileFormatError(f"the table of {name} names unknown parent {p}")
        return (*[self.card(p) for p in parents], self.card(name))


def to_model(parsed: ParsedNetwork) -> CompiledModel:
    """Check ``parsed`` and build its :class:`CompiledModel` (one draw, topological order)."""
    if not parsed.variables:
        raise FileFormatError("the file declares no variables")
    missing = [v for v in parsed.variables if v not in parsed.tables]
    if missing:
        raise FileFormatError("no probability table for " + ", ".join(missing[:5])
                              + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    extra = [v for v in parsed.tables if v not in parsed.states]
    if extra:
        raise FileFormatError(f"a probability table for undeclared variable {extra[0]}")
    for v in parsed.variables:
        parents = parsed.parents.get(v, ())
        if len(set(parents)) != len(parents) or v in parents:
            raise FileFormatError(f"the parents of {v} repeat a variable or include {v}")
        expected = parsed.shape(v, parents)
        if parsed.tables[v].shape != expected:
            raise FileFormatError(f"the table of {v} has shape {parsed.tables[v].shape}; its "
                                  f"parents and states need {expected}")
    parents = {v: tuple(parsed.parents.get(v, ())) for v in parsed.variables}
    order = topological(parsed.variables, parents)
    cpts = {v: np.ascontiguousarray(parsed.tables[v], dtype=float)[None] for v in order}
    return CompiledModel(order, dict(parsed.states), parents, cpts)


def topological(names: list[str], parents: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """``names`` in an order where parents come first, ties kept in file order
    (:func:`gmnet.model.checks.declared_order`)."""
    order = declared_order(names, parents)
    if len(order) != len(names):
        placed = set(order)
        stuck = next(v for v in names if v not in placed)
        raise FileFormatError(f"the parents form a cycle (through {stuck}); a Bayesian "
                              "network is acyclic")
    return order


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def numbers(tokens: list[str], what: str) -> np.ndarray:
    """Tokens as floats; a token that is not a decimal number is an error naming it."""
    for tok in tokens:
        if not _NUMBER.match(tok):
            raise FileFormatError(f"{what}: {tok[:40]!r} is not a number")
    return np.array([float(t) for t in tokens], dtype=float)


def percent_rows(name: str, table: np.ndarray, notes: list[str], *, tolerance: float = 1e-3
                 ) -> np.ndarray:
    """A table whose rows all sum to 100 (Hugin writes percentages) divided by 100, with a note;
    any other table unchanged."""
    sums = table.reshape(-1, table.shape[-1]).sum(axis=1)
    if sums.size and np.all(np.abs(sums - 100.0) <= 100.0 * tolerance):
        notes.append(f"the table of {name} is in percent (rows sum to 100); divided by 100")
        return table / 100.0
    return table


def quoted_tokens(pattern: re.Pattern, text: str) -> list[str]:
    """Tokens of a text by ``pattern``'s groups ``w`` (word), ``p`` (punctuation) and ``q``
    (quoted string): a quoted string carries a leading NUL (refused in input before parsing),
    so that it is never taken for punctuation or a keyword (BIF and Hugin NET)."""
    out: list[str] = []
    for m in pattern.finditer(text):
        kind = m.lastgroup
        if kind in ("w", "p"):
            out.append(m.group(kind))
        elif kind == "q":
            out.append("\x00" + m.group("q"))
    return out


def unquote(token: str) -> str:
    """A token as a name (a quoted string without its NUL mark)."""
    return token[1:] if token.startswith("\x00") else token


class TokenCursor:
    """A position in a token list (:func:`quoted_tokens`): take one, or expect a given one,
    with an error naming what was expected where the file ends or differs."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, what: str) -> str:
        if self.pos >= len(self.tokens):
            raise FileFormatError(f"the file ends where {what} was expected")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expect(self, token: str, where: str) -> None:
        got = self.take(f"'{token}' {where}")
        if got != token:
            raise FileFormatError(f"expected '{token}' {where}, got {unquote(got)[:40]!r}")
