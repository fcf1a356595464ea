"""GeNIe's formats: XDSL (``.xdsl``, XML) and the older DSL (``.dsl``, text), read by gmnet.

Both list a node's probabilities row-major over (parents..., node): the node's own states
fastest, then the last parent. ``deterministic`` nodes (XDSL ``<deterministic>``, DSL
``TYPE = TRUTHTABLE`` or ``RESULTINGSTATES``) become the equivalent 0/1 table. Noisy-MAX,
equation, decision, utility and other node kinds are refused by name.

pyAgrum 3.3.1 writes (and reads) XDSL tables with the *first* parent fastest, the reverse of
GeNIe's order, so its files disagree with GeNIe on every node with two or more parents. A file
whose ``<genie>`` extension says ``app="aGrUM ..."`` (or whose header comment names pyAgrum) is
read in pyAgrum's order, with an import note; any other file in GeNIe's.
"""

from __future__ import annotations

import re

import numpy as np

from gmnet.io.braces import Block, flatten, parse_blocks
from gmnet.io.parsed import FileFormatError, ParsedNetwork, numbers
from gmnet.io.xmlbif import xml_root

__all__ = ["parse_xdsl", "parse_dsl"]

_PYAGRUM = re.compile(r"created by pyAgrum|app=\"aGrUM", re.IGNORECASE)


def _deterministic(parsed: ParsedNetwork, ident: str, parents: tuple[str, ...],
                   picks: list[str]) -> np.ndarray:
    shape = parsed.shape(ident, parents)
    rows = int(np.prod(shape[:-1]))
    own = parsed.states[ident]
    if len(picks) != rows or any(s not in own for s in picks):
        raise FileFormatError(f"deterministic node {ident}: the resulting states must name one "
                              f"of its states for each of the {rows} parent configurations")
    table = np.zeros((rows, len(own)))
    table[np.arange(rows), [own.index(s) for s in picks]] = 1.0
    return table.reshape(shape)


def _table(parsed: ParsedNetwork, ident: str, parents: tuple[str, ...], values: np.ndarray,
           *, first_parent_fastest: bool = False) -> np.ndarray:
    shape = parsed.shape(ident, parents)
    if values.size != int(np.prod(shape)):
        raise FileFormatError(f"node {ident} has {values.size} probabilities; its parents and "
                              f"states need {int(np.prod(shape))}")
    if first_parent_fastest and len(parents) > 1:
        reversed_shape = (*shape[:-1][::-1], shape[-1])
        k = len(parents)
        return np.transpose(values.reshape(reversed_shape), (*range(k - 1, -1, -1), k))
    return values.reshape(shape)


# ============================================================================ XDSL
def parse_xdsl(text: str) -> ParsedNetwork:
    """A :class:`ParsedNetwork` from the text of a GeNIe XDSL file."""
    pyagrum = bool(_PYAGRUM.search(text[:4000])) or 'app="aGrUM' in text[-20000:]
    root = xml_root(text, "XDSL")
    if root.tag != "smile":
        raise FileFormatError(f"the root element is <{root.tag}>, not <smile>")
    nodes = root.find("nodes")
    if nodes is None:
        raise FileFormatError("no <nodes> element")
    parsed = ParsedNetwork(name=root.attrib.get("id") or None)
    reordered: list[str] = []
    for elem in _node_elements(nodes):
        ident = elem.attrib.get("id", "")
        if not ident:
            raise FileFormatError(f"a <{elem.tag}> node without an id")
        if elem.tag not in ("cpt", "deterministic"):
            raise FileFormatError(
                f"node {ident} is a <{elem.tag}> node; gmnet reads chance nodes with a CPT "
                "(<cpt>) or <deterministic> nodes: in GeNIe convert it to a general chance node")
        parsed.add_variable(ident, tuple(s.attrib.get("id", "") for s in elem.findall("state")))
        parent_elem = elem.find("parents")
        parents = tuple(parent_elem.text.split()) if parent_elem is not None and \
            parent_elem.text else ()
        parsed.parents[ident] = parents
        if elem.tag == "deterministic":
            result = elem.find("resultingstates")
            picks = result.text.split() if result is not None and result.text else []
            parsed.tables[ident] = _deterministic(parsed, ident, parents, picks)
            continue
        probabilities = elem.find("probabilities")
        if probabilities is None:
            raise FileFormatError(f"node {ident} has no <probabilities>")
        values = numbers((probabilities.text or "").split(), f"the probabilities of {ident}")
        parsed.tables[ident] = _table(parsed, ident, parents, values,
                                      first_parent_fastest=pyagrum)
        if pyagrum and len(parents) > 1:
            reordered.append(ident)
    if reordered:
        parsed.notes.append(
            "written by pyAgrum, whose XDSL tables list the first parent fastest (GeNIe lists "
            "the last fastest): read in pyAgrum's order for " + ", ".join(reordered[:10])
            + (f" and {len(reordered) - 10} more" if len(reordered) > 10 else ""))
    return parsed


def _node_elements(nodes):
    """Node elements in file order; those inside <submodel> groups too."""
    for elem in nodes:
        if elem.tag == "submodel":
            yield from _node_elements(elem)
        elif isinstance(elem.tag, str):
            yield elem


# ============================================================================ DSL
def parse_dsl(text: str) -> ParsedNetwork:
    """A :class:`ParsedNetwork` from the text of a GeNIe DSL file."""
    blocks = parse_blocks(text, "DSL")
    net = next((b for b in blocks if b.kind.lower() == "net"), None)
    if net is None:
        raise FileFormatError(f"no 'net NAME {{ ... }}' block (found '{blocks[0].kind}')")
    parsed = ParsedNetwork(name=net.name or None)
    pending: list[tuple[str, tuple[str, ...], Block]] = []
    for node in _dsl_nodes(net):
        ident = node.name
        kind = str(node.get("TYPE", "CPT")).upper()
        definition = node.get("DEFINITION")
        if kind not in ("CPT", "TRUTHTABLE") or not isinstance(definition, Block):
            raise FileFormatError(f"node {ident} is of TYPE {kind}; gmnet reads chance nodes "
                                  "(TYPE = CPT) and deterministic ones (TYPE = TRUTHTABLE)")
        states = definition.get("NAMESTATES")
        if not isinstance(states, list):
            raise FileFormatError(f"node {ident} has no NAMESTATES")
        parsed.add_variable(ident, tuple(str(s) for s in flatten(states, "NAMESTATES")))
        raw_parents = node.get("PARENTS", [])
        parents = tuple(str(p) for p in flatten(raw_parents, f"the PARENTS of {ident}") if p)
        pending.append((ident, parents, definition))
    for ident, parents, definition in pending:
        parsed.parents[ident] = parents
        picks = definition.get("RESULTINGSTATES")
        if picks is not None:
            parsed.tables[ident] = _deterministic(
                parsed, ident, parents, [str(s) for s in flatten(picks, "RESULTINGSTATES")])
            continue
        probabilities = definition.get("PROBABILITIES")
        if probabilities is None:
            raise FileFormatError(f"node {ident} has no PROBABILITIES")
        values = numbers(flatten(probabilities, f"the PROBABILITIES of {ident}"),
                         f"the PROBABILITIES of {ident}")
        parsed.tables[ident] = _table(parsed, ident, parents, values)
    return parsed


def _dsl_nodes(block: Block):
    for child in block.children:
        if child.kind.lower() == "node":
            yield child
        elif child.kind.lower() == "submodel":
            yield from _dsl_nodes(child)
