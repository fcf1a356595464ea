"""The BIF format (Interchange Format 0.15: JavaBayes, bnlearn, pgmpy, pyAgrum), read by gmnet.

gmnet reads BIF itself rather than through pgmpy 1.1's ``BIFReader``: that reader builds
pyparsing grammars over every Unicode letter (1.4 s before the first byte of a file), its import
pulls in scikit-learn and pandas (about 380 MB and 2-8 s per command for a 2-node file), and it
accepts a declared ``[3]`` with two states listed. This reader is one regular expression and a
loop: pgmpy's diabetes (5.5 MB, 413 nodes) reads in about a second.

What it reads::

    network NAME { property ...; }
    variable NAME { type discrete [ 2 ] { yes, no }; property ...; }
    probability ( CHILD | PARENT1, PARENT2 ) {
        (p1, p2) 0.1, 0.9;          // one row per parent configuration, or
        default 0.5, 0.5;           // a row for the configurations not listed, or
        table 0.1, 0.2, 0.9, 0.8;   // every entry, the child slowest, the last parent fastest
    }

Names may be quoted; values are separated by commas or spaces; ``//`` and ``/* */`` comments
are ignored.
"""

from __future__ import annotations

import re

import numpy as np

from gmnet.io.parsed import (
    FileFormatError,
    ParsedNetwork,
    TokenCursor,
    numbers,
    quoted_tokens,
    unquote,
)

__all__ = ["parse_bif"]

_TOKEN = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?P<q>(?:[^"\\]|\\.)*)"|(?P<p>[{}()\[\];,|])'
    r'|(?P<w>(?:[^\s{}()\[\];,|"/]|/(?![/*]))+)', re.DOTALL)


def _tokens(text: str) -> list[str]:
    """Words and punctuation; a quoted name is marked with a leading NUL (NUL characters are
    refused before parsing) so that it is never taken for punctuation or a keyword."""
    return quoted_tokens(_TOKEN, text)


_name = unquote


class _Cursor(TokenCursor):
    def until(self, stop: str, where: str) -> list[str]:
        """The tokens up to (not including) ``stop``, which is consumed."""
        try:
            end = self.tokens.index(stop, self.pos)
        except ValueError:
            raise FileFormatError(f"no '{stop}' closes {where}") from None
        out = self.tokens[self.pos:end]
        self.pos = end + 1
        return out

    def skip_block(self, where: str) -> None:
        """Past the matching '}' of a '{' just taken."""
        depth = 1
        while depth:
            tok = self.take(f"'}}' closing {where}")
            depth += (tok == "{") - (tok == "}")


def parse_bif(text: str) -> ParsedNetwork:
    """A :class:`ParsedNetwork` from the text of a BIF file."""
    cur = _Cursor(_tokens(text))
    parsed = ParsedNetwork()
    blocks: list[tuple[str, tuple[str, ...], int]] = []
    while cur.peek() is not None:
        keyword = cur.take("a block")
        if keyword == "network":
            parsed.name = _name(cur.take("the network's name"))
            if parsed.name == "{":
                parsed.name = None
            else:
                cur.expect("{", "after the network's name")
            cur.skip_block("the network block")
        elif keyword == "variable":
            _variable(cur, parsed)
        elif keyword == "probability":
            cur.expect("(", "after 'probability'")
            scope = [_name(t) for t in cur.until(")", "a probability's variables")
                     if t not in (",", "|")]
            if not scope:
                raise FileFormatError("a probability block names no variable")
            cur.expect("{", f"opening the probability block of {scope[0]}")
            start = cur.pos
            cur.skip_block(f"the probability block of {scope[0]}")
            blocks.append((scope[0], tuple(scope[1:]), start))
        else:
            raise FileFormatError(f"unexpected {_name(keyword)[:40]!r}: a BIF file holds "
                                  "'network', 'variable' and 'probability' blocks")
    if not parsed.variables:
        raise FileFormatError("the file declares no variables (is it a BIF file?)")
    for child, parents, start in blocks:
        if child not in parsed.states:
            raise FileFormatError(f"a probability block for undeclared variable {child}")
        if child in parsed.tables:
            raise FileFormatError(f"two probability blocks for {child}")
        cur.pos = start
        parsed.parents[child] = parents
        parsed.tables[child] = _table(cur, parsed, child, parents)
    return parsed


def _variable(cur: _Cursor, parsed: ParsedNetwork) -> None:
    name = _name(cur.take("a variable's name"))
    cur.expect("{", f"after 'variable {name}'")
    states: tuple[str, ...] | None = None
    while True:
        tok = cur.take(f"'}}' closing variable {name}")
        if tok == "}":
            break
        if tok == "type":
            kind = cur.take(f"the type of {name}")
            if kind != "discrete":
                raise FileFormatError(f"variable {name} is of type {_name(kind)!r}; gmnet reads "
                                      "discrete variables")
            cur.expect("[", f"after 'type discrete' of {name}")
            declared = cur.take(f"the number of states of {name}")
            cur.expect("]", f"after the number of states of {name}")
            cur.expect("{", f"opening the states of {name}")
            listed = tuple(_name(t) for t in cur.until("}", f"the states of {name}") if t != ",")
            if not declared.isdigit() or int(declared) != len(listed):
                raise FileFormatError(f"variable {name} declares [{_name(declared)[:20]}] "
                                      f"states but lists {len(listed)}")
            states = listed
            if cur.peek() == ";":
                cur.take(";")
        elif tok == "property":
            cur.until(";", f"a property of {name}")
        elif tok != ";":
            raise FileFormatError(f"unexpected {_name(tok)[:40]!r} in variable {name}")
    if states is None:
        raise FileFormatError(f"variable {name} has no 'type discrete [n] {{...}}'")
    parsed.add_variable(name, states)


def _table(cur: _Cursor, parsed: ParsedNetwork, child: str, parents: tuple[str, ...]
           ) -> np.ndarray:
    shape = parsed.shape(child, parents)
    card = shape[-1]
    rows: dict[tuple[int, ...], np.ndarray] = {}
    full: np.ndarray | None = None
    default: np.ndarray | None = None
    where = f"the table of {child}"
    index_of = {p: {s: i for i, s in enumerate(parsed.states[p])} for p in parents}
    while True:
        tok = cur.take(f"'}}' closing {where}")
        if tok == "}":
            break
        if tok == ";":
            continue
        if tok == "property":
            cur.until(";", f"a property in {where}")
        elif tok in ("table", "default"):
            values = numbers([t for t in cur.until(";", where) if t != ","], where)
            if tok == "default":
                if values.size != card:
                    raise FileFormatError(f"{where}: a default row needs {card} values, got "
                                          f"{values.size}")
                default = values
            else:
                size = int(np.prod(shape))
                if values.size != size:
                    raise FileFormatError(f"{where}: 'table' needs {size} values, got "
                                          f"{values.size}")
                # listed with the child slowest: (child, *parents) in row-major order
                full = np.moveaxis(values.reshape((card, *shape[:-1])), 0, -1)
        elif tok == "(":
            labels = [_name(t) for t in cur.until(")", where) if t != ","]
            if len(labels) != len(parents):
                raise FileFormatError(f"{where}: row ({', '.join(labels)[:60]}) names "
                                      f"{len(labels)} parent states; {child} has "
                                      f"{len(parents)} parents")
            key = []
            for p, label in zip(parents, labels, strict=True):
                if label not in index_of[p]:
                    raise FileFormatError(f"{where}: unknown state {label[:40]!r} of {p}")
                key.append(index_of[p][label])
            values = numbers([t for t in cur.until(";", where) if t != ","], where)
            if values.size != card:
                raise FileFormatError(f"{where}: row ({', '.join(labels)[:60]}) has "
                                      f"{values.size} values; {child} has {card} states")
            rows[tuple(key)] = values
        else:
            raise FileFormatError(f"unexpected {_name(tok)[:40]!r} in {where}")
    if full is not None:
        table = full.copy()
    elif default is not None:
        table = np.broadcast_to(default, shape).copy()
    else:
        table = np.full(shape, np.nan)
    for key, values in rows.items():
        table[key] = values
    if np.isnan(table).any():
        gap = np.argwhere(np.isnan(table.reshape(-1, card)).any(axis=1))[0][0]
        combo = np.unravel_index(int(gap), shape[:-1])
        named = ", ".join(parsed.states[p][i] for p, i in zip(parents, combo, strict=True))
        raise FileFormatError(f"{where} has no row for ({named}) and no default")
    return table
