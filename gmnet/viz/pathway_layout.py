"""Where the pathway diagram puts its nodes: columns left to right in the source document's
order, mitigations beside what they act on, and which of the context's arrows are written in
the nodes instead of drawn.

Graphviz's ``dot`` draws the result; this module only decides the columns (``rank=same``
groups pinned by an invisible spine) and the shortcuts, so it can be tested without Graphviz.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["STAGES", "context_shortcuts", "is_phased", "levels", "rank_lines", "short_name"]

SHORTCUTS_MIN = 5  # direct arrows from the context before they are written, not drawn


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_phased(network: Network) -> bool:
    """Whether the network says where its nodes sit (more than one phase); an imported network
    (every node in the default phase) is laid out by its arrows alone."""
    return len({network.node(v).phase for v in network.variables}) > 1


def context_shortcuts(network: Network) -> tuple[dict[str, list[str]], dict[tuple, str]]:
    """The context's direct arrows that would tangle the pathway.

    Returns (bundles, hidden): ``bundles`` maps a node past the training phase that also has
    parents outside the context (goal failure, harm) to its context parents, written in the
    node ("also set by ...") instead of drawn as long arrows from the Context cluster;
    ``hidden`` holds the arrows from a context node into three or more mitigations (e.g.
    capability level on every mitigation's adoption), named in the legend instead of drawn.
    With fewer than ``SHORTCUTS_MIN`` direct arrows (a small network) they are all drawn.
    """
    stage = {v: STAGES.get(network.node(v).phase, 5) for v in network.variables}
    context = {v for v in network.variables if network.node(v).phase == "context"}
    bundles: dict[str, list[str]] = {}
    hidden: dict[tuple, str] = {}
    for var in network.variables:
        parents = network.parents(var)
        ctx = [p for p in parents if p in context]
        if not ctx or var in context:
            continue
        if network.node(var).role == "mitigation":
            for p in ctx:
                hidden[(var, p)] = p
        elif stage[var] >= STAGES["deployment"] and len(ctx) < len(parents) and (
                len(ctx) > 1 or stage[var] > STAGES["deployment"]):
            bundles[var] = ctx
    # a few such arrows do not tangle anything: then they are drawn
    if sum(len(ps) for ps in bundles.values()) < SHORTCUTS_MIN:
        bundles = {}
    fed: dict[str, int] = {}
    for (_, p) in hidden:
        fed[p] = fed.get(p, 0) + 1
    hidden = {k: p for k, p in hidden.items() if fed[p] >= 3}
    return bundles, hidden


def short_name(network: Network, var: str) -> str:
    return (network.node(var).label or var).lower()


# Left to right as the document draws its pathway: context, training (with the prevention
# layer beside it), deployment, detection, response, outcome.
STAGES = {"context": 0, "prevention": 1, "training": 1, "deployment": 2, "detection": 3,
           "response": 4, "outcome": 5}


def levels(network: Network) -> dict[str, int]:
    """A column for every node (left to right): stages in the document's order, each as wide as
    its longest chain of internal arrows; a node never sits left of a parent. A mitigation sits
    in the column just before the first node it acts on, so its layer lies beside that node."""
    stage = {v: STAGES.get(network.node(v).phase, 5) for v in network.variables}
    mitigation = {v for v in network.variables if network.node(v).role == "mitigation"
                  and network.children(v) and stage[v] > 0}

    def parents(v):
        return [p for p in network.parents(v) if p not in mitigation]

    depth: dict[str, int] = {}
    for v in network.variables:  # topological order
        same = [depth[p] + 1 for p in parents(v) if stage[p] == stage[v]]
        depth[v] = max(same, default=0)
    column: dict[str, int] = {}
    base = 0
    for k in sorted(set(stage.values())):
        for v in network.variables:
            if stage[v] == k and v not in mitigation:
                above = [column[p] + 1 for p in parents(v) if p in column]
                column[v] = max([base + depth[v], *above])
        if column:
            base = 1 + max(column.values())
    for v in network.variables:  # arrows pointing back to an earlier stage push nodes right
        if v not in mitigation:
            column[v] = max([column[v], *[column[p] + 1 for p in parents(v)]])
    for v in network.variables:
        if v in mitigation:
            column[v] = max(min(column[c] for c in network.children(v)
                                if c not in mitigation) - 1, 0)
    return column


def rank_lines(levels: Mapping[str, int]) -> list[str]:
    """Pin every node to its column with an invisible spine (dot alone would let nodes with only
    a context parent float far from the nodes they act on)."""
    depth = max(levels.values())
    spine = [_quote(f"#col {i}") for i in range(depth + 1)]  # no variable name has '#'

    lines = ["  node [shape=point, width=0, height=0, style=invis, label=\"\"];"]
    lines.append("  " + " -> ".join(spine) + " [style=invis];" if depth else f"  {spine[0]};")
    for i in range(depth + 1):
        members = [_quote(v) for v, level in levels.items() if level == i]
        if members:
            lines.append(f"  {{ rank=same; {spine[i]}; {'; '.join(members)}; }}")
    return lines
