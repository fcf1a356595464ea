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

from gmnet.inference.pgmpy_backend import exact_decimal
from gmnet.model.compiled import CompiledModel

__all__ = ["uai_text", "parse_uai", "UAIFormatError"]


class UAIFormatError(ValueError):
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


_COMMENT = re.compile(r"^\s*(c\s|c$|#).*$", re.MULTILINE)


def parse_uai(text: str) -> CompiledModel:
    """A CompiledModel from a UAI ``BAYES`` file. Variables are named ``v0``, ``v1``, ... and
    their states ``s0``, ``s1``, ... (the format has no names).

    Raises :class:`UAIFormatError` naming the first problem.
    """
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
            raise UAIFormatError(f"expected {what} (an integer >= {low}), got {tok!r}")
        return int(tok)

    kind = take("the network type")
    if kind.upper() != "BAYES":
        raise UAIFormatError(f"network type is {kind!r}; gmnet reads Bayesian networks (BAYES), "
                             "not Markov networks")
    n = integer("the number of variables", 1)
    cards = [integer(f"the cardinality of variable {i}", 2) for i in range(n)]
    n_functions = integer("the number of functions")
    if n_functions != n:
        raise UAIFormatError(f"{n} variables but {n_functions} functions; a Bayesian network has "
                             "one table per variable")
    names = [f"v{i}" for i in range(n)]
    scopes: list[list[int]] = []
    children: dict[int, int] = {}
    for f in range(n_functions):
        size = integer(f"the scope size of function {f}", 1)
        scope = [integer(f"a variable index in function {f}") for _ in range(size)]
        bad = [i for i in scope if i >= n]
        if bad:
            raise UAIFormatError(f"function {f} refers to variable {bad[0]}; there are {n}")
        if len(set(scope)) != len(scope):
            raise UAIFormatError(f"function {f} lists a variable twice")
        child = scope[-1]
        if child in children:
            raise UAIFormatError(f"functions {children[child]} and {f} both give the table of "
                                 f"variable {child} (the child is the last index of a scope)")
        children[child] = f
        scopes.append(scope)
    tables: dict[str, np.ndarray] = {}
    parents: dict[str, tuple[str, ...]] = {}
    for f, scope in enumerate(scopes):
        shape = [cards[i] for i in scope]
        count = integer(f"the number of entries of function {f}")
        if count != int(np.prod(shape)):
            raise UAIFormatError(f"function {f} has {count} entries; its scope needs "
                                 f"{int(np.prod(shape))}")
        values = []
        for _ in range(count):
            tok = take(f"an entry of function {f}")
            try:
                values.append(float(tok))
            except ValueError:
                raise UAIFormatError(f"entry {tok!r} of function {f} is not a number") from None
        child = names[scope[-1]]
        parents[child] = tuple(names[i] for i in scope[:-1])
        tables[child] = np.asarray(values, dtype=float).reshape(shape)[None]
    if pos != len(tokens):
        raise UAIFormatError(f"unexpected text after the last table: {tokens[pos]!r}")
    order = _topological(names, parents)
    states = {v: tuple(f"s{k}" for k in range(c)) for v, c in zip(names, cards, strict=True)}
    return CompiledModel(order, states, parents, tables)


def _topological(names: list[str], parents: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from((p, v) for v in names for p in parents[v])
    if not nx.is_directed_acyclic_graph(graph):
        raise UAIFormatError("the parents form a cycle; a Bayesian network is acyclic")
    return tuple(nx.lexicographical_topological_sort(graph, key=names.index))
