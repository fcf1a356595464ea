"""Netica DNE files (``.dne``), the discrete parts, read by gmnet.

What is read: ``bnet NAME { ... }`` with its ``node`` blocks: ``states`` (or ``numstates``),
``parents``, ``probs`` (nested with the first parent outermost and the node's own states
innermost, or flat in that order) and, for ``chance = DETERMIN`` nodes, ``functable`` (one
state per parent configuration; ``#k`` is the k-th state), which becomes a 0/1 table.
``@imposs`` in ``probs`` reads as 0. Titles and visual blocks are ignored.

Refused by name: decision, utility and constant nodes (``kind = DECISION`` ...), continuous
nodes (``discrete = FALSE``), and nodes whose table is only an ``equation``.
"""

from __future__ import annotations

import numpy as np

from gmnet.io.braces import Block, flatten, parse_blocks
from gmnet.io.parsed import FileFormatError, ParsedNetwork, numbers

__all__ = ["parse_dne"]


def parse_dne(text: str) -> ParsedNetwork:
    """A :class:`ParsedNetwork` from the text of a Netica DNE file."""
    blocks = parse_blocks(text, "DNE")
    net = next((b for b in blocks if b.kind.lower() == "bnet"), None)
    if net is None:
        raise FileFormatError(f"no 'bnet NAME {{ ... }}' block (found '{blocks[0].kind}')")
    parsed = ParsedNetwork(name=net.name or None)
    nodes = [b for b in net.children if b.kind.lower() == "node"]
    for node in nodes:
        _declare(parsed, node)
    for node in nodes:
        _define(parsed, node)
    return parsed


def _declare(parsed: ParsedNetwork, node: Block) -> None:
    name = node.name
    kind = str(node.get("kind", "NATURE")).upper()
    if kind != "NATURE":
        raise FileFormatError(f"node {name} is a {kind} node; gmnet reads nature (chance) "
                              "nodes only")
    if str(node.get("discrete", "TRUE")).upper() != "TRUE":
        raise FileFormatError(f"node {name} is continuous (discrete = FALSE); gmnet reads "
                              "discrete nodes: discretize it in Netica first")
    states = node.get("states")
    if states is None:
        count = node.get("numstates")
        if not isinstance(count, str) or not count.isdigit():
            raise FileFormatError(f"node {name} has neither 'states' nor 'numstates'")
        names = tuple(f"s{k}" for k in range(int(count)))
        parsed.notes.append(f"node {name} lists no state names; named {', '.join(names)}")
    else:
        names = tuple(str(s) for s in flatten(states, f"the states of {name}"))
        if any(not s for s in names):
            raise FileFormatError(f"node {name} has a state with no name")
    parsed.add_variable(name, names)


def _define(parsed: ParsedNetwork, node: Block) -> None:
    name = node.name
    parents = tuple(str(p) for p in flatten(node.get("parents", []), f"the parents of {name}"))
    if any(not p for p in parents):
        raise FileFormatError(f"node {name} has a parent slot with no node")
    shape = parsed.shape(name, parents)
    parsed.parents[name] = parents
    probs = node.get("probs")
    functable = node.get("functable")
    if probs is not None:
        parsed.tables[name] = _probs(parsed, name, probs, shape)
    elif functable is not None:
        parsed.tables[name] = _functable(parsed, name, functable, shape)
    elif node.get("equation") is not None:
        raise FileFormatError(f"node {name} has only an equation; in Netica, convert it to a "
                              "table (Table > Equation to Table) and save again")
    else:
        raise FileFormatError(f"node {name} has no probs table")


def _probs(parsed: ParsedNetwork, name: str, probs, shape: tuple[int, ...]) -> np.ndarray:
    where = f"the probs of {name}"
    leaves = flatten(probs, where)
    size = int(np.prod(shape))
    if len(leaves) == size // shape[-1] and all(s.startswith("#") for s in leaves):
        # "(#0)": a row that is certain to be one state
        return _functable(parsed, name, probs, shape)
    if len(leaves) != size:
        raise FileFormatError(f"{where} has {len(leaves)} entries; its parents and states "
                              f"need {size}")
    values = numbers(["0" if s.lower() == "@imposs" else s for s in leaves], where)
    return values.reshape(shape)


def _functable(parsed: ParsedNetwork, name: str, functable, shape: tuple[int, ...]
               ) -> np.ndarray:
    own = parsed.states[name]
    picks = flatten(functable, f"the functable of {name}")
    rows = int(np.prod(shape[:-1]))
    if len(picks) != rows:
        raise FileFormatError(f"the functable of {name} has {len(picks)} entries; its parents "
                              f"need {rows}")
    index = []
    for pick in picks:
        if pick.startswith("#") and pick[1:].isdigit() and int(pick[1:]) < len(own):
            index.append(int(pick[1:]))
        elif pick in own:
            index.append(own.index(pick))
        else:
            raise FileFormatError(f"the functable of {name} names {pick[:40]!r}, not one of "
                                  f"its states")
    table = np.zeros((rows, len(own)))
    table[np.arange(rows), index] = 1.0
    return table.reshape(shape)
