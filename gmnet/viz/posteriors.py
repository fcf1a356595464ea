"""A compact view of every node's distribution under one question, for notebooks.

One row per node: its label, and each state with a small bar and its probability. Observed and
intervened nodes say so; the caption says what the view assumed. ``to_frame()`` gives the same
numbers as a pandas DataFrame (one row per node and state).

>>> import gmnet
>>> view = posteriors(gmnet.load_network(), "P(harm | shift_type=extreme)")
>>> round(view["harm"]["yes"], 3)
0.224
>>> view.to_frame().loc[("harm", "yes"), "probability"].round(3)
np.float64(0.224)
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gmnet.errors import InvalidArgumentError

if TYPE_CHECKING:
    from gmnet.model.network import Network
    from gmnet.query_text import ParsedQuery

__all__ = ["Posteriors", "posteriors"]

_BAR = "#3d6fa8"
_FIXED = "#c05a00"
_OBSERVED = "#1f5fbf"
_TARGET = "#b3001b"


@dataclass(frozen=True)
class Posteriors:
    """Every (chosen) node's distribution given ``evidence`` and ``do``."""

    network: str
    marginals: Mapping[str, Mapping[str, float]]
    labels: Mapping[str, str]
    evidence: Mapping[str, str] = field(default_factory=dict)
    do: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    caption: str = ""

    def __getitem__(self, variable: str) -> dict[str, float]:
        if variable not in self.marginals:
            from gmnet.errors import UnknownNameError

            raise UnknownNameError("variable", variable, list(self.marginals))
        return dict(self.marginals[variable])

    def __iter__(self):
        return iter(self.marginals)

    def __len__(self) -> int:
        return len(self.marginals)

    def to_frame(self):
        """A pandas DataFrame indexed by (node, state): the node's label, the probability, and
        how the node is fixed (``observed``, ``do`` or empty)."""
        from gmnet.model.tables import require_pandas

        pd = require_pandas()
        records = []
        for var, dist in self.marginals.items():
            how = "do" if var in self.do else "observed" if var in self.evidence else ""
            for state, p in dist.items():
                records.append({"node": var, "state": state, "label": self.labels[var],
                                "probability": p, "fixed": how})
        frame = pd.DataFrame(records).set_index(["node", "state"])
        frame.attrs.update(evidence=dict(self.evidence), do=dict(self.do),
                           caption=self.caption)
        return frame

    def __repr__(self) -> str:
        lines = [f"<Posteriors of {self.network!r}: {self.caption or 'no evidence, no do()'}>"]
        width = max((len(self.labels[v]) for v in self.marginals), default=0)
        for var, dist in self.marginals.items():
            cells = "  ".join(f"{s} {_pct(p)}" for s, p in dist.items())
            lines.append(f"  {self.labels[var]:<{width}}  {cells}{self._tag(var, text=True)}")
        return "\n".join(lines)

    def _tag(self, var: str, *, text: bool = False) -> str:
        if var in self.do:
            return f"  [do({self.do[var]})]" if text else (
                f'<span style="color:{_FIXED};font-weight:bold">do({_esc(self.do[var])})</span>')
        if var in self.evidence:
            return f"  [observed: {self.evidence[var]}]" if text else (
                f'<span style="color:{_OBSERVED};font-weight:bold">observed</span>')
        if var == self.target:
            return "  [target]" if text else (
                f'<span style="color:{_TARGET};font-weight:bold">target</span>')
        return ""

    def _repr_html_(self) -> str:
        rows = []
        for var, dist in self.marginals.items():
            colour = _FIXED if var in self.do else _OBSERVED if var in self.evidence else (
                _TARGET if var == self.target else _BAR)
            states = "".join(
                '<span style="display:inline-block;margin-right:12px;white-space:nowrap">'
                f'{_esc(s)} <span style="display:inline-block;width:40px;height:8px;'
                f'background:#e6e6e6;vertical-align:middle"><span style="display:block;'
                f'width:{round(40 * min(max(p, 0.0), 1.0))}px;height:8px;background:{colour}">'
                f'</span></span> <span style="font-variant-numeric:tabular-nums">{_pct(p)}'
                "</span></span>" for s, p in dist.items())
            rows.append(f'<tr><td style="{_TD}">{_esc(self.labels[var])}</td>'
                        f'<td style="{_TD}">{self._tag(var)}</td>'
                        f'<td style="{_TD}">{states}</td></tr>')
        caption = (f'<caption style="text-align:left;padding:2px 0;color:#444">'
                   f"{_esc(self.caption)}</caption>") if self.caption else ""
        return (f'<table style="border-collapse:collapse;font-size:12px;font-family:'
                f"'DejaVu Sans',Verdana,sans-serif\">{caption}<tbody>{''.join(rows)}"
                "</tbody></table>")


_TD = "border-bottom:1px solid #eee;padding:2px 8px;text-align:left;vertical-align:middle"


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _pct(p: float) -> str:
    if 0.0 < p < 0.0005:
        return "<0.1%"
    if 0.9995 <= p < 1.0:
        return ">99.9%"
    return f"{p:.1%}"


def posteriors(network: Network, query: str | ParsedQuery | None = None, *,
               evidence: Mapping[str, str] | None = None, do: Mapping[str, str] | None = None,
               nodes: Iterable[str] | None = None) -> Posteriors:
    """Every node's distribution given a query's evidence and do() (or ``evidence``/``do``).

    Parameters
    ----------
    network
        The network (with any scenario or worldview already applied).
    query
        A query such as ``"P(harm | shift_type=extreme, do(ai_control=on))"``: its evidence and
        interventions are used, its target is marked.
    evidence, do
        Further observations and interventions, merged with the query's.
    nodes
        The nodes to show, in this order (default: every node, in the network's order).
    """
    from gmnet.analysis.marginals import node_marginals
    from gmnet.query_text import ParsedQuery, parse_query
    from gmnet.viz.labels import figure_caption

    ev, dd, target = dict(evidence or {}), dict(do or {}), None
    if query is not None:
        parsed = parse_query(query) if isinstance(query, str) else query
        if not isinstance(parsed, ParsedQuery):
            raise InvalidArgumentError("query must be a string such as 'P(harm | shift_type="
                                       f"extreme)', got {type(query).__name__}")
        network.node(parsed.target)
        target = parsed.target
        ev.update(parsed.evidence)
        dd.update(parsed.do)
    chosen = list(network.variables) if nodes is None else list(nodes)
    for var in chosen:
        network.node(var)
    marginals = node_marginals(network, ev, dd)
    return Posteriors(network.name, {v: marginals[v] for v in chosen},
                      {v: network.node(v).label or v for v in chosen}, ev, dd, target,
                      figure_caption(network, evidence=ev, do=dd))
