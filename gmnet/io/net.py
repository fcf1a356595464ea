"""Hugin NET files (``.net``: Hugin, pyAgrum, GeNIe and Netica exports), read by gmnet.

gmnet reads NET itself: pgmpy 1.1's ``NETReader`` finds nodes and states with regular
expressions over the whole text, so unquoted state names (as pyAgrum writes them) fail with
"cannot reshape array", a ``label`` or description containing "node <word>" is taken for a
node, and every node rescans the file. This reader tokenizes (strings, ``%`` comments, words,
punctuation) and parses the blocks::

    net { name = NAME; ... }
    node NAME { states = ("yes" "no"); label = "..."; ... }     (also ``discrete node``)
    potential (CHILD | PARENT1 PARENT2) { data = (((0.1 0.9) (0.2 0.8)) ...); }

``data`` nests the first parent outermost and the node's own states innermost; it may also be
one flat list. Any other nesting is an error, and so is a table in percent unless every row
sums to 100 (Hugin writes such tables: they are divided by 100, with a note). Decision,
utility, continuous and function nodes and object-oriented classes are refused by name.
"""

from __future__ import annotations

import re

import numpy as np

from gmnet.io.parsed import (
    FileFormatError,
    ParsedNetwork,
    TokenCursor,
    numbers,
    percent_rows,
    quoted_tokens,
    unquote,
)

__all__ = ["parse_net", "hugin_tokens"]

_TOKEN = re.compile(r'%[^\n]*|"(?P<q>(?:[^"\\]|\\.)*)"|(?P<p>[{}();=|,])|(?P<w>[^\s{}();=|,"%]+)')
_UNSUPPORTED = ("decision", "utility", "continuous", "function", "class", "instance")


def hugin_tokens(text: str) -> list[str]:
    """Tokens of a Hugin-style text: quoted strings carry a leading NUL (refused in input), so
    a string is never taken for a keyword or punctuation."""
    return quoted_tokens(_TOKEN, text)


_name = unquote


class _Reader(TokenCursor):
    def value(self, where: str):
        """One attribute value up to its ';': a word, or a (nested) parenthesised list."""
        tok = self.take(f"a value {where}")
        if tok == "(":
            return self._list(where)
        if tok in (")", "{", "}", ";", "="):
            raise FileFormatError(f"unexpected '{tok}' {where}")
        return tok

    def _list(self, where: str) -> list:
        items: list = []
        while True:
            tok = self.take(f"')' {where}")
            if tok == ")":
                return items
            if tok == "(":
                items.append(self._list(where))
            elif tok == ",":
                continue
            elif tok in ("{", "}", ";", "="):
                raise FileFormatError(f"unexpected '{tok}' inside a list {where}")
            else:
                items.append(tok)

    def attributes(self, where: str) -> dict[str, object]:
        """``key = value;`` pairs up to the closing '}' of a block whose '{' was taken."""
        found: dict[str, object] = {}
        while True:
            tok = self.take(f"'}}' closing {where}")
            if tok == "}":
                return found
            if tok == ";":
                continue
            if tok in ("{", "(", ")", "=", "|", ","):
                raise FileFormatError(f"unexpected '{tok}' in {where}")
            self.expect("=", f"after {_name(tok)[:40]!r} in {where}")
            found[_name(tok)] = self.value(f"of {_name(tok)[:40]} in {where}")
            if self.pos < len(self.tokens) and self.tokens[self.pos] == ";":
                self.pos += 1


def parse_net(text: str) -> ParsedNetwork:
    """A :class:`ParsedNetwork` from the text of a Hugin NET file."""
    reader = _Reader(hugin_tokens(text))
    parsed = ParsedNetwork()
    potentials: list[tuple[str, tuple[str, ...], dict]] = []
    while reader.pos < len(reader.tokens):
        tok = reader.take("a block")
        if tok == "net":
            reader.expect("{", "after 'net'")
            attrs = reader.attributes("the net block")
            name = attrs.get("name")
            parsed.name = _name(name) if isinstance(name, str) else None
        elif tok in ("node", "discrete"):
            if tok == "discrete":
                reader.expect("node", "after 'discrete'")
            name = _name(reader.take("a node's name"))
            reader.expect("{", f"after 'node {name}'")
            attrs = reader.attributes(f"node {name}")
            states = attrs.get("states")
            if not isinstance(states, list) or any(isinstance(s, list) for s in states):
                raise FileFormatError(f"node {name} has no 'states = (...);'")
            parsed.add_variable(name, tuple(_name(s) for s in states))
        elif tok == "potential":
            reader.expect("(", "after 'potential'")
            scope = reader._list("in a potential's variables")
            names = [_name(s) for s in scope if isinstance(s, str)]
            if "|" in names:
                bar = names.index("|")
                own, parents = names[:bar], names[bar + 1:]
            else:
                own, parents = names, []  # "potential (A B)" is a joint potential
            if len(own) != 1:
                raise FileFormatError(f"potential ({' '.join(names)[:60]}) is not the table "
                                      "of one node given its parents")
            reader.expect("{", f"opening the potential of {own[0]}")
            potentials.append((own[0], tuple(parents),
                               reader.attributes(f"the potential of {own[0]}")))
        elif tok in _UNSUPPORTED:
            follow = reader.tokens[reader.pos] if reader.pos < len(reader.tokens) else ""
            what = f"{tok} {_name(follow)[:40]}".strip()
            raise FileFormatError(f"'{what}': gmnet reads discrete chance nodes only (no "
                                  "object-oriented classes, decision, utility, continuous or "
                                  "function nodes)")
        else:
            raise FileFormatError(f"unexpected {_name(tok)[:40]!r} at the top level of a NET "
                                  "file (expected net, node or potential)")
    if not parsed.variables:
        raise FileFormatError("the file declares no nodes (is it a Hugin NET file?)")
    for child, parents, attrs in potentials:
        _potential(parsed, child, parents, attrs)
    return parsed


def _potential(parsed: ParsedNetwork, child: str, parents: tuple[str, ...], attrs: dict) -> None:
    if child not in parsed.states:
        raise FileFormatError(f"a potential for undeclared node {child}")
    if child in parsed.tables:
        raise FileFormatError(f"two potentials for {child}")
    shape = parsed.shape(child, parents)
    where = f"the potential of {child}"
    if "data" not in attrs:
        other = "model_data (an expression)" if "model_data" in attrs else "no 'data'"
        raise FileFormatError(f"{where} has {other}; gmnet reads tables given as data = (...)")
    data = attrs["data"]
    if not isinstance(data, list):
        data = [data]
    values = numbers(_flat_checked(data, shape, where), where)
    table = values.reshape(shape)
    parsed.parents[child] = parents
    parsed.tables[child] = percent_rows(child, table, parsed.notes)


def _flat_checked(data: list, shape: tuple[int, ...], where: str) -> list[str]:
    """The numbers of ``data``, which must be flat or nested exactly as ``shape``."""
    if all(isinstance(x, str) for x in data):
        size = int(np.prod(shape))
        if len(data) != size:
            raise FileFormatError(f"{where} has {len(data)} numbers; its parents and states "
                                  f"need {size}")
        return data
    out: list[str] = []

    def walk(items, depth: int) -> None:
        if not isinstance(items, list):
            raise FileFormatError(f"{where}: the parentheses of 'data' do not match the "
                                  f"table's shape {shape}")
        if len(items) != shape[depth]:
            raise FileFormatError(f"{where}: a group at depth {depth + 1} of 'data' has "
                                  f"{len(items)} entries; the table's shape {shape} needs "
                                  f"{shape[depth]}")
        if depth == len(shape) - 1:
            if not all(isinstance(x, str) for x in items):
                raise FileFormatError(f"{where}: 'data' is nested deeper than the table's "
                                      f"shape {shape}")
            out.extend(items)
            return
        for sub in items:
            walk(sub, depth + 1)

    walk(data, 0)
    return out
