"""The causal pathway diagram: a network drawn with Graphviz, with every node's posterior.

Nodes are grouped in clusters by phase (context, training, deployment, the prevention,
detection and response layers, outcome) and coloured and shaped by role. Under a query each node
shows a small bar and a percentage per state (its marginal given the query's evidence and
interventions); observed nodes, intervened (do) nodes and the target are marked differently, and
edges cut by an intervention are drawn faint and dashed.

Building the DOT text needs nothing beyond gmnet; rendering it (SVG, PNG, PDF) needs the
``graphviz`` Python package and Graphviz's ``dot`` program (Debian package ``graphviz``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gmnet.analysis.ask import Answer
from gmnet.analysis.marginals import node_marginals
from gmnet.errors import GmnetError, InvalidArgumentError, UnknownNameError
from gmnet.viz.file_formats import FORMATS, diagram_format, format_from_suffix
from gmnet.viz.pathway_layout import context_shortcuts as _context_shortcuts
from gmnet.viz.pathway_layout import is_phased as _is_phased
from gmnet.viz.pathway_layout import levels as _levels
from gmnet.viz.pathway_layout import rank_lines as _rank_lines
from gmnet.viz.pathway_layout import short_name as _short_name

if TYPE_CHECKING:
    from gmnet.model.network import Network
    from gmnet.query_text import ParsedQuery

__all__ = ["Diagram", "draw", "node_marginals", "FORMATS", "DotNotFoundError",
           "format_from_suffix"]


# Phases in the source document's order, with the cluster titles and background colours.
_PHASES = {
    "context": ("Context", "#f4f6f9"),
    "prevention": ("Prevention layer", "#eefaee"),
    "training": ("Training phase", "#fbfaf0"),
    "deployment": ("Deployment phase", "#f3f6fb"),
    "detection": ("Detection layer", "#f2f7fc"),
    "response": ("Response layer", "#fff8ee"),
    "outcome": ("Outcome", "#fdf1f1"),
}
# role -> (fill colour, graphviz style, shape, peripheries, legend text)
_ROLES = {
    "context": ("#dde6f2", "rounded,filled", "box", 1, "context (a setting)"),
    "pathway": ("#fffbe0", "filled", "box", 1, "pathway (what happens)"),
    "mitigation": ("#ccf2cc", "filled", "component", 1, "mitigation"),
    "alarm": ("#ffe3c2", "filled,diagonals", "box", 1, "alarm (detection)"),
    "outcome": ("#ffcccc", "filled", "box", 2, "outcome"),
}
_FONT = "DejaVu Sans"
_SVG_FONTS = "DejaVu Sans,Verdana,Arial,Helvetica,sans-serif"
_BAR_WIDTH = 56
_BAR = "#3d6fa8"
_BAR_OBSERVED = "#1f5fbf"
_BAR_DO = "#c05a00"
_BAR_TARGET = "#b3001b"
_EMPTY = "#e6e6e6"
_DIRECT = "#4a5561"  # the context's direct effects, written in the node
_OBSERVED = "#1f5fbf"
_DO = "#c05a00"
_TARGET = "#b3001b"


class DotNotFoundError(GmnetError):
    """Graphviz's ``dot`` program (or the ``graphviz`` Python package) is not installed."""


# ============================================================================ the diagram
@dataclass(frozen=True)
class Diagram:
    """A drawn network: its DOT text, and the query it shows (if any).

    Save it with :meth:`save`, render it with :meth:`render`; in Jupyter it displays itself.
    """

    source: str
    network_name: str
    target: str | None = None
    target_state: str | None = None
    evidence: Mapping[str, str] = field(default_factory=dict)
    do: Mapping[str, str] = field(default_factory=dict)
    marginals: Mapping[str, Mapping[str, float]] | None = None

    @property
    def target_distribution(self) -> dict[str, float] | None:
        if self.target is None or self.marginals is None:
            return None
        return dict(self.marginals[self.target])

    def render(self, format: str = "svg") -> bytes:  # noqa: A002 - graphviz's word
        """The diagram as bytes in ``format`` (svg, png, pdf or dot)."""
        if format not in FORMATS:
            raise UnknownNameError("diagram format", format, FORMATS)
        if format == "dot":
            return self.source.encode("utf-8")
        data = _run_dot(self.source, format)
        if format == "svg":
            data = _tidy_svg(data.decode("utf-8")).encode("utf-8")
        return data

    def to_frame(self):
        """Every node's distribution under the diagram's query as a pandas DataFrame indexed by
        (node, state) (see :func:`gmnet.viz.posteriors.posteriors`); needs marginals."""
        if self.marginals is None:
            raise InvalidArgumentError("this diagram shows no probabilities; draw it with a "
                                       "query, evidence, do or marginals=True")
        from gmnet.viz.posteriors import Posteriors

        return Posteriors(self.network_name, self.marginals, {v: v for v in self.marginals},
                          self.evidence, self.do, self.target).to_frame()

    def svg(self) -> str:
        """The diagram as SVG text."""
        return self.render("svg").decode("utf-8")

    def save(self, path: str | Path, *, format: str | None = None) -> Path:  # noqa: A002
        """Write the diagram to ``path`` (atomically); the format comes from the suffix unless
        given. Returns the path."""
        from gmnet.io.atomic import write_bytes

        path = Path(path)
        fmt = diagram_format(path, format)
        return write_bytes(path, self.render(fmt))

    def _repr_svg_(self) -> str | None:
        try:
            return self.svg()
        except DotNotFoundError:
            return None

    def __repr__(self) -> str:
        what = f", target={self.target!r}" if self.target else ""
        return f"<Diagram of {self.network_name!r}{what}>"


def draw(network: Network, query: str | ParsedQuery | None = None, *,
         evidence: Mapping[str, str] | None = None, do: Mapping[str, str] | None = None,
         target: str | None = None, marginals: bool | None = None,
         title: str | None = None, direction: str | None = None) -> Diagram:
    """Draw ``network``, optionally under a query.

    Parameters
    ----------
    network
        The network to draw.
    query
        An :class:`~gmnet.analysis.ask.Answer` (``gmnet.ask(...)``: drawn on the network and
        question it was computed on, with what it held; ``draw(answer)`` alone works too), or
        a query such as ``"P(harm | shift_type=extreme, do(alignment_method=standard))"`` on
        the plain network: its
        target stands out, its evidence and interventions are marked, and every node shows its
        distribution under them.
    evidence, do
        Further observations and interventions (merged with the query's; e.g. a scenario's).
    target
        The node to highlight when no query names one.
    marginals
        Show every node's distribution (default: when a query, evidence, do or target is given;
        ``True`` with nothing else shows the prior marginals).
    title
        A title above the diagram (default: the query, or the network's title).
    direction
        ``"LR"``: the pathway left to right, as the document draws it (default for a network
        with phases); ``"TB"``: top to bottom, narrower (e.g. for a phone; the default for a
        network without phases).

    Returns
    -------
    Diagram

    Examples
    --------
    >>> import gmnet
    >>> d = draw(gmnet.load_network(), "P(harm | shift_type=extreme)")  # the plain network
    >>> round(d.target_distribution["yes"], 4)
    0.2244
    """
    from gmnet.query_text import ParsedQuery, parse_query

    if isinstance(network, Answer) and query is None:  # draw(answer)
        network, query = None, network  # type: ignore[assignment]
    if isinstance(query, Answer):  # the network and question the answer was computed on
        r = query.resolved
        network = r.network
        query = r.question.replace(evidence=r.evidence, do=r.do)
        title = title or f"{r.question.text}  ·  context {r.question.context}: {r.held_text()}"
    parsed: ParsedQuery | None
    if query is None:
        parsed = None
    elif isinstance(query, ParsedQuery):
        parsed = query
    elif isinstance(query, str):
        parsed = parse_query(query)
    else:
        raise InvalidArgumentError(f"query must be a string such as 'P(harm | shift_type="
                                   f"extreme)', got {type(query).__name__}")
    if parsed is not None:  # soft-evidence guard (issue 19)
        from gmnet.model.soft_evidence import refuse_soft

        refuse_soft(parsed.soft, "the diagram")
    ev = dict(evidence or {})
    dd = dict(do or {})
    state = None
    if parsed is not None:
        if target is not None and target != parsed.target:
            raise InvalidArgumentError(f"target {target!r} differs from the query's target "
                                       f"{parsed.target!r}; give one of them")
        target = parsed.target
        state = parsed.state
        ev.update(parsed.evidence)
        dd.update(parsed.do)
    if target is not None:
        network.node(target)
        if state is not None:
            network.check_state(target, state)
    show = marginals if marginals is not None else bool(parsed or ev or dd or target)
    probs = node_marginals(network, ev, dd) if show else None
    if title is None:
        title = (_query_title(network, target, state, ev, dd) if (target or ev or dd)
                 else network.title)
    if direction is not None and direction not in ("LR", "TB"):
        raise UnknownNameError("direction", str(direction), ("LR", "TB"))
    source = _dot_source(network, probs, ev, dd, target, state, title, direction)
    return Diagram(source, network.name, target, state, ev, dd, probs)


def _query_title(network: Network, target, state, ev, dd) -> str:
    head = (target or "") + (f"={state}" if state else "")
    parts = [f"{k}={v}" for k, v in ev.items()]
    if dd:
        parts.append("do(" + ", ".join(f"{k}={v}" for k, v in dd.items()) + ")")
    if target:
        return f"P({head}" + (" | " + ", ".join(parts) if parts else "") + ")"
    return f"{network.title}, given " + ", ".join(parts)


# ============================================================================ DOT text
def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pct(p: float) -> str:
    if p >= 0.9995 and p < 1.0:
        return ">99.9%"
    if 0.0 < p < 0.0005:
        return "<0.1%"
    return f"{p:.1%}"


def _bar(p: float, colour: str) -> str:
    filled = int(round(float(np.clip(p, 0.0, 1.0)) * _BAR_WIDTH))
    cells = []
    if filled > 0:
        cells.append(f'<TD WIDTH="{filled}" HEIGHT="9" FIXEDSIZE="TRUE" BGCOLOR="{colour}"></TD>')
    if filled < _BAR_WIDTH:
        cells.append(f'<TD WIDTH="{_BAR_WIDTH - filled}" HEIGHT="9" FIXEDSIZE="TRUE" '
                     f'BGCOLOR="{_EMPTY}"></TD>')
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>'
            + "".join(cells) + "</TR></TABLE>")


def _node_label(network: Network, var: str, probs, ev, dd, target, target_state,
                direct: list[str] | None = None) -> str:
    node = network.node(var)
    title = node.label or var
    rows = [f'<TR><TD COLSPAN="3" ALIGN="CENTER"><B>{_esc(title)}</B></TD></TR>']
    if direct:
        names = [_esc(_short_name(network, p)) for p in direct]
        lines = ["\u25c2 also set by " + names[0]] + names[1:]
        text = ",<BR/>".join(lines)
        rows.append(f'<TR><TD COLSPAN="3" ALIGN="CENTER"><FONT POINT-SIZE="8" '
                    f'COLOR="{_DIRECT}">{text}</FONT></TD></TR>')
    tag = None
    if var in dd:
        tag = (f'<FONT COLOR="{_DO}"><B>do({_esc(dd[var])})</B></FONT>')
    elif var in ev:
        tag = f'<FONT COLOR="{_OBSERVED}"><B>observed: {_esc(ev[var])}</B></FONT>'
    elif var == target:
        tag = f'<FONT COLOR="{_TARGET}"><B>target</B></FONT>'
    if tag:
        rows.append(f'<TR><TD COLSPAN="3" ALIGN="CENTER"><FONT POINT-SIZE="9">{tag}</FONT>'
                    "</TD></TR>")
    if probs is None:
        states = " · ".join(_esc(s) for s in node.states)
        rows.append(f'<TR><TD COLSPAN="3" ALIGN="CENTER"><FONT POINT-SIZE="9" COLOR="#444444">'
                    f"{states}</FONT></TD></TR>")
    else:
        colour = (_BAR_DO if var in dd else _BAR_OBSERVED if var in ev
                  else _BAR_TARGET if var == target else _BAR)
        for state, p in probs[var].items():
            bold = var == target and (target_state is None or state == target_state)
            pct = _pct(p)
            pct = f"<B>{pct}</B>" if bold else pct
            rows.append(
                f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9">{_esc(state)}</FONT></TD>'
                # a fixed-size cell: extra width goes to the text columns, not into the bar
                f'<TD WIDTH="{_BAR_WIDTH + 2}" HEIGHT="11" FIXEDSIZE="TRUE">{_bar(p, colour)}</TD>'
                f'<TD ALIGN="RIGHT"><FONT POINT-SIZE="9">{pct}</FONT></TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>>")


def _node_attrs(network: Network, var: str, ev, dd, target) -> dict[str, str]:
    node = network.node(var)
    fill, style, shape, peripheries, _ = _ROLES.get(node.role, _ROLES["pathway"])
    attrs = {"shape": shape, "style": style, "fillcolor": fill, "color": "#555555",
             "penwidth": "1", "margin": "0.08,0.04"}
    if peripheries > 1:
        attrs["peripheries"] = str(peripheries)
    if var in dd:
        attrs.update(color=_DO, penwidth="2.5", style=style + ",dashed")
    elif var in ev:
        attrs.update(color=_OBSERVED, penwidth="2.5")
    if var == target:
        attrs.update(color=_TARGET, penwidth="3.5")
    attrs["tooltip"] = (node.description or node.label or var).strip()
    return attrs


def _legend(roles: list[str], marks: list[str]) -> str:
    """The roles drawn and the marks in use (observed, do, target, bars)."""
    cells = []
    for role in roles:
        fill, _style, _shape, _peripheries, text = _ROLES[role]
        cells.append(f'<TD BGCOLOR="{fill}" BORDER="1" COLOR="#555555">'
                     f'<FONT POINT-SIZE="9">{_esc(text)}</FONT></TD>')
    rows = ['<TR>' + "".join(cells) + "</TR>"]
    if marks:
        rows.append(f'<TR><TD COLSPAN="{max(len(cells), 1)}"><FONT POINT-SIZE="9">'
                    + " · ".join(marks) + "</FONT></TD></TR>")
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>")


def _marks(probs, ev, dd, target) -> list[str]:
    marks = []
    if ev:
        marks.append(f'<FONT COLOR="{_OBSERVED}"><B>blue border</B></FONT>: observed')
    if dd:
        marks.append(f'<FONT COLOR="{_DO}"><B>dashed orange border</B></FONT>: set by do(); '
                     "the arrows into it are cut (dashed)")
    if target:
        marks.append(f'<FONT COLOR="{_TARGET}"><B>thick red border</B></FONT>: target')
    if probs is not None:
        marks.append("bars: probability of each state")
    return marks


def _title_block(title: str, legend: str, notes: list[str] | None = None) -> str:
    extra = "".join(f'<TR><TD><FONT POINT-SIZE="9" COLOR="#444444">{n}</FONT></TD></TR>'
                    for n in notes or ())
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
            f'<TR><TD><FONT POINT-SIZE="13"><B>{_esc(title)}</B></FONT></TD></TR>'
            f"<TR><TD>{legend}</TD></TR>{extra}</TABLE>")


def _attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())


def _cluster_id(i: int, phase: str) -> str:
    return f"cluster_{i}_{re.sub(r'[^A-Za-z0-9_]', '_', phase)}"


def _dot_source(network: Network, probs, ev, dd, target, target_state, title,
                direction: str | None = None) -> str:
    phased = _is_phased(network)
    roles = [r for r in _ROLES if any(network.node(v).role == r for v in network.variables)]
    marks = _marks(probs, ev, dd, target)
    bundles, hidden = _context_shortcuts(network) if phased else ({}, {})
    notes = _shortcut_notes(network, bundles, hidden)
    lines = [
        f"digraph {_quote(network.name)} {{",
        f'  graph [rankdir="{direction or ("LR" if phased else "TB")}", newrank="true", '
        'compound="true", '
        f'nodesep="0.14", ranksep="{"0.5" if phased else "0.4"}", '
        f'fontname="{_FONT}", fontsize="11", labelloc="t", '
        f'label=<{_title_block(title, _legend(roles, marks), notes)}>, pad="0.2", '
        'bgcolor="white"];',
        f'  node [fontname="{_FONT}", fontsize="11"];',
        f'  edge [fontname="{_FONT}", color="#666666", arrowsize="0.7"];',
    ]
    clusters: dict[str, str] = {}
    if phased:
        by_phase: dict[str, list[str]] = {}
        for var in network.variables:
            by_phase.setdefault(network.node(var).phase, []).append(var)
        order = [p for p in _PHASES if p in by_phase] + [p for p in by_phase if p not in _PHASES]
        for i, phase in enumerate(order):
            name, bg = _PHASES.get(phase, (phase.title(), "#f7f7f7"))
            clusters[phase] = _cluster_id(i, phase)
            lines.append(f"  subgraph {clusters[phase]} {{")
            lines.append(f'    graph [label=<<B>{_esc(name)}</B>>, labeljust="l", '
                         f'style="rounded,filled", fillcolor="{bg}", color="#b8b8b8", '
                         f'fontsize="12", fontcolor="#333333", margin="10"];')
            for var in by_phase[phase]:
                label = _node_label(network, var, probs, ev, dd, target, target_state,
                                    bundles.get(var))
                lines.append(f"    {_quote(var)} [label={label}, "
                             f"{_attrs(_node_attrs(network, var, ev, dd, target))}];")
            lines.append("  }")
    else:  # an imported network: its own structure, no phase clusters
        for var in network.variables:
            label = _node_label(network, var, probs, ev, dd, target, target_state)
            lines.append(f"  {_quote(var)} [label={label}, "
                         f"{_attrs(_node_attrs(network, var, ev, dd, target))}];")
    for var in network.variables:
        for parent in network.parents(var):
            if var in bundles and parent in bundles[var] or (var, parent) in hidden:
                continue
            attrs: dict[str, str] = {}
            if var in dd:
                # graph surgery: the intervention cuts this edge; keep it for orientation only
                attrs.update(style="dashed", color="#c8c8c8", arrowhead="none")
            extra = f" [{_attrs(attrs)}]" if attrs else ""
            lines.append(f"  {_quote(parent)} -> {_quote(var)}{extra};")
    if phased:
        lines.extend(_rank_lines(_levels(network)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _shortcut_notes(network: Network, bundles, hidden) -> list[str]:
    notes = []
    if bundles:
        notes.append(f'<FONT COLOR="{_DIRECT}">\u25c2 also set by</FONT>: a context '
                     "setting's direct effect (a modifier), written in the node instead of "
                     "an arrow from the Context box")
    by_parent: dict[str, int] = {}
    for (_, parent) in hidden:
        by_parent[parent] = by_parent.get(parent, 0) + 1
    for parent, n in by_parent.items():
        notes.append(f"not drawn: {_esc(_short_name(network, parent))} \u2192 each "
                     f"mitigation's adoption ({n} arrows)")
    return notes


# ============================================================================ rendering
def _run_dot(source: str, fmt: str) -> bytes:
    try:
        import graphviz
    except ImportError:
        raise DotNotFoundError(
            "drawing needs the Python package 'graphviz'; install it with "
            "pip install graphviz (or pip install 'gmnet[analysis]')") from None
    try:
        return graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(
            "drawing needs Graphviz's 'dot' program, which is not on PATH; install the Debian "
            "package graphviz (sudo apt-get install graphviz), or write the DOT text with "
            "--out FILE.dot") from None
    except graphviz.CalledProcessError as exc:  # pragma: no cover - a bug in the DOT text
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip()
        raise GmnetError(f"Graphviz could not lay out the diagram: {detail}") from None


def _tidy_svg(svg: str) -> str:
    """Standalone-safe SVG: a font stack that every viewer has, no DOCTYPE fetch."""
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    return svg.replace(f'font-family="{_FONT}"', f'font-family="{_SVG_FONTS}"')
