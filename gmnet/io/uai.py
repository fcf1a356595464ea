"""The UAI format (UAI inference competitions), written and read by gmnet itself.

A UAI file holds numbers only: variable cardinalities, each CPT's scope (parents, then the child
last) and its table, listed with the *last* variable of the scope changing fastest. Names of
variables and states are not part of the format; gmnet's export keeps them in the sidecar file.

gmnet does not use pgmpy 1.1's ``UAIWriter``/``UAIReader``: the writer lists table entries with
the child changing slowest (the reverse of the format), its reader reverses the parents of a
child with two or more, so a pgmpy round trip scrambles such tables, and the writer's
scientific notation (``1e-05``) is rejected by its own reader.
"""

from __future__ import annotations

import re

import numpy as np

from gmnet.io.decimal import exact_decimal
from gmnet.io.parsed import FileFormatError, ParsedNetwork, numbers, to_model
from gmnet.model.compiled import CompiledModel

__all__ = ["uai_text", "parse_uai", "parse_uai_network", "UAIFormatError"]


class UAIFormatError(FileFormatError):
    """The text is not a Bayesian network in UAI format."""


def uai_text(model: CompiledModel) -> str:
    """``model`` (draw 0) as a UAI ``BAYES`` file; variables in ``model.variables`` order."""
    index = {v: i for i, v in enumerate(model.variables)}
    lines = ["BAYES", str(len(model.variables)),
             " ".join(str(model.card(v)) for v in model.variables), str(len(model.variables))]
    for v in model.variables:
        scope = [*model.parents[v], v]
        lines.append(" ".join([str(len(scope)), *(str(index[s]) for s in scope)]))
    lines.append("")
    for v in model.variables:
        table = np.asarray(model.cpts[v][0]).reshape(-1)  # parents in order, child fastest
        lines.append(str(table.size))
        lines.append(" ".join(exact_decimal(x) for x in table))
        lines.append("")
    return "\n".join(lines)


_COMMENT = re.compile(r"(^\s*c(\s.*)?$)|#.*$", re.MULTILINE)
ROW_TOLERANCE = 1e-6


def parse_uai(text: str) -> CompiledModel:
    """A CompiledModel from a UAI ``BAYES`` file (or a ``MARKOV`` file whose factors are the
    conditional probability tables of a Bayesian network). Variables are named ``v0``, ``v1``,
    ... and their states ``s0``, ``s1``, ... (the format has no names).

    ``#`` comments (pyAgrum writes them) and ``c`` comment lines are ignored. A scope lists the
    child last (the specification) or, in some writers' files, first: the reading under which
    every variable has one table whose rows sum to 1 is taken, the child-last one when both do.

    Raises :class:`UAIFormatError` naming the first problem.
    """
    try:
        return to_model(parse_uai_network(text))
    except FileFormatError as exc:
        if isinstance(exc, UAIFormatError):
            raise
        raise UAIFormatError(str(exc)) from None


def _is_number(token: str) -> bool:
    try:
        numbers([token], "")
    except ValueError:
        return False
    return True


def parse_uai_network(text: str) -> ParsedNetwork:
    """:func:`parse_uai` before the checks of :func:`gmnet.io.parsed.to_model`."""
    tokens = _COMMENT.sub("", text).split()
    pos = 0

    def take(what: str) -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise UAIFormatError(f"the file ends where {what} was expected")
        pos += 1
        return tokens[pos - 1]

    def integer(what: str, low: int = 0) -> int:
        tok = take(what)
        if not tok.isdigit() or int(tok) < low:
            raise UAIFormatError(f"expected {what} (an integer >= {low}), got {tok[:40]!r}")
        return int(tok)

    kind = take("the network type").upper()
    if kind not in ("BAYES", "MARKOV"):
        raise UAIFormatError(f"network type is {kind[:40]!r}; a UAI file starts with BAYES or "
                             "MARKOV")
    n = integer("the number of variables", 1)
    cards = [integer(f"the cardinality of variable {i}", 1) for i in range(n)]
    n_functions = integer("the number of functions")
    scopes: list[list[int]] = []
    for f in range(n_functions):
        size = integer(f"the scope size of function {f}", 1)
        scope = [integer(f"a variable index in function {f}") for _ in range(size)]
        bad = [i for i in scope if i >= n]
        if bad:
            raise UAIFormatError(f"function {f} refers to variable {bad[0]}; there are {n}")
        if len(set(scope)) != len(scope):
            raise UAIFormatError(f"function {f} lists a variable twice")
        scopes.append(scope)
    tables: list[np.ndarray] = []
    for f, scope in enumerate(scopes):
        shape = [cards[i] for i in scope]
        count = integer(f"the number of entries of function {f}")
        if count != int(np.prod(shape)):
            raise UAIFormatError(f"function {f} has {count} entries; its scope needs "
                                 f"{int(np.prod(shape))}")
        if pos + count > len(tokens):
            raise UAIFormatError(f"the file ends where an entry of function {f} was expected")
        try:
            values = numbers(tokens[pos:pos + count], f"function {f}")
        except ValueError:
            bad = next(t for t in tokens[pos:pos + count] if not _is_number(t))
            raise UAIFormatError(f"entry {bad[:40]!r} of function {f} is not a number"
                                 ) from None
        pos += count
        tables.append(values.reshape(shape))
    if pos != len(tokens):
        raise UAIFormatError(f"unexpected text after the last table: {tokens[pos][:40]!r}")
    one_state = [i for i, c in enumerate(cards) if c < 2]
    if one_state:
        raise UAIFormatError(f"variable {one_state[0]} has {cards[one_state[0]]} state; a "
                             "variable needs at least 2")
    if n_functions != n:
        raise UAIFormatError(
            f"{n} variables but {n_functions} functions; gmnet handles Bayesian networks, with "
            "one table per variable" + (" (this MARKOV file is not one)" if kind == "MARKOV"
                                        else ""))
    children = _children(scopes, tables, kind)
    names = [f"v{i}" for i in range(n)]
    parsed = ParsedNetwork()
    for i in range(n):
        parsed.add_variable(names[i], tuple(f"s{k}" for k in range(cards[i])))
    for scope, table, child in zip(scopes, tables, children, strict=True):
        axis = scope.index(child)
        parents = [i for i in scope if i != child]
        parsed.parents[names[child]] = tuple(names[i] for i in parents)
        parsed.tables[names[child]] = np.moveaxis(table, axis, -1)
    if kind == "MARKOV":
        parsed.notes.append("a MARKOV file whose factors are conditional probability tables: "
                            "read as a Bayesian network")
    if any(s.index(c) == 0 and len(s) > 1 for s, c in zip(scopes, children, strict=True)):
        parsed.notes.append("scopes list the child first (the specification lists it last)")
    return parsed


def _normalised(table: np.ndarray, axis: int) -> bool:
    return bool(np.all(np.abs(table.sum(axis=axis) - 1.0) <= ROW_TOLERANCE))


def _children(scopes: list[list[int]], tables: list[np.ndarray], kind: str) -> list[int]:
    """The child of each function: last in every scope, else first in every scope, the first
    reading that gives each variable one table (rows summing to 1 for MARKOV files)."""
    n = len(scopes)
    tried = []
    for pick in (-1, 0):
        children = [s[pick] for s in scopes]
        if len(set(children)) != n:
            tried.append("repeats a child")
            continue
        if all(_normalised(t, pick) for t in tables) or (kind == "BAYES" and pick == -1):
            return children
        tried.append("has rows that do not sum to 1")
    if kind == "MARKOV":
        raise UAIFormatError("gmnet handles Bayesian networks: this MARKOV file's factors are "
                             "not the conditional probability tables of one (taking the last or "
                             "the first variable of each scope as its child " + tried[0] + ")")
    raise UAIFormatError("two functions give the table of the same variable (the child is "
                         "the last index of a scope)")
