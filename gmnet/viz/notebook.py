"""Jupyter display: networks draw themselves, results show as tables.

A :class:`~gmnet.model.network.Network` displays as its pathway diagram (``_repr_svg_`` calls
:func:`network_svg`) and a :class:`~gmnet.viz.diagram.Diagram` as itself. Result objects of the
analyses display as HTML tables: :func:`result_html` renders any of them, and
:func:`register_formatters` (run when gmnet is imported inside IPython) tells IPython to use it
for the result classes that have no ``_repr_html_`` of their own. Registration is by class name,
so nothing here imports the analyses.
"""

from __future__ import annotations

import html
import math
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["network_svg", "result_html", "register_formatters", "RESULT_TYPES"]

# (module, class name) of the result objects shown as HTML tables
RESULT_TYPES = (
    ("gmnet.analysis.whatif", "WhatIf"),
    ("gmnet.analysis.whatif", "CoreTableRow"),
    ("gmnet.analysis.mitigations", "MitigationComparison"),
    ("gmnet.analysis.audit", "AuditReport"),
    ("gmnet.analysis.uncertainty", "UncertaintyResult"),
    ("gmnet.analysis.sensitivity", "SensitivityResult"),
)

_STYLE = ("border-collapse:collapse;font-size:13px;margin:4px 0;"
          "font-family:'DejaVu Sans',Verdana,sans-serif")
_CELL = "border-bottom:1px solid #ddd;padding:3px 8px;text-align:{align}"


def network_svg(network: Network) -> str | None:
    """The network's diagram as SVG, or None when Graphviz is missing (Jupyter then shows the
    text form)."""
    from gmnet.viz.diagram import DotNotFoundError, draw

    try:
        return draw(network).svg()
    except DotNotFoundError:
        return None


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _esc(value if value is not None else "–")
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.4g}" if abs(value) >= 1 else f"{value:.4f}"
    if isinstance(value, Mapping):
        return _esc(", ".join(f"{k}={v}" for k, v in value.items()) or "–")
    if isinstance(value, list | tuple):
        return _esc(", ".join(str(v) for v in value) or "–")
    return _esc(value)


# a number as text: "27.7%", "+2.00 points", "-36%", "1.5x", "0.12 ± 0.03", "3-12%", "1,000"
_NUMBER = re.compile(r"^[<>~≈]?[+\-−]?\d[\d,]*(\.\d+)?%?"
                     r"(\s?(–|-|±)\s?[+\-−]?\d[\d,]*(\.\d+)?%?)?(\s?(x|×|points?))?$")


def is_number_text(value: Any) -> bool:
    """Whether a cell holds a number (or a number written as text): those align right.

    >>> [is_number_text(v) for v in (0.3, "27.7%", "+2.00 points", "0.12 ± 0.03", "3-12%",
    ...                              "–", "cut by 40%", "type 4", True)]
    [True, True, True, True, True, True, False, False, False]
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text == "–" or bool(_NUMBER.match(text))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> str:
    def cell(value: Any, tag: str = "td") -> str:
        align = "right" if is_number_text(value) else "left"
        return f'<{tag} style="{_CELL.format(align=align)}">{_fmt(value)}</{tag}>'

    # a header sits over its column: right-aligned over a column of numbers
    numeric = [bool(rows) and all(is_number_text(r[i]) for r in rows if i < len(r))
               for i in range(len(headers))]
    head = "".join(f'<th style="{_CELL.format(align="right" if num else "left")};'
                   f'background:#f3f5f8">{_esc(h)}</th>'
                   for h, num in zip(headers, numeric, strict=True))
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    cap = (f'<caption style="text-align:left;font-weight:bold;padding:2px 0">{_esc(caption)}'
           "</caption>") if caption else ""
    return (f'<table style="{_STYLE}">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _p(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}%}" if math.isfinite(value) else "–"


def _what_if(result) -> str:
    rows = [["evidence", result.evidence], ["do() before", result.baseline_do],
            ["intervention", result.intervention],
            [f"P({result.target}={result.state}) before", _p(result.before, 2)],
            [f"P({result.target}={result.state}) after", _p(result.after, 2)],
            ["absolute change", f"{result.absolute_change * 100:+.2f} points"],
            ["relative change", f"{result.relative_change:+.1%}"]]
    return _table(["", "value"], rows, caption=f"What if do({_fmt(result.intervention)})?")


def _core_row(row) -> str:
    data = row.to_dict()
    data.pop("document", None)
    return _table(list(data), [list(data.values())], caption="Core table row")


def _mitigation_comparison(result) -> str:
    rows = [[v.mitigation.label, v.mitigation.layer, _p(v.probability_alone, 2),
             _p(v.alone_relative, 0), _p(v.marginal, 2), _p(v.shapley_share, 0)]
            for v in result.values]
    head = (f"P({result.target}={result.state}): no mitigation {result.baseline:.2%}, "
            f"all on {result.all_on:.2%}")
    portfolios = [[p.name, p.kind, _p(p.probability, 2), _p(p.relative_reduction, 0)]
                  for p in result.portfolios if p.kind in ("none", "layer", "layer pair", "all")]
    return (_table(["mitigation", "layer", "P alone", "reduction alone",
                    "reduction added last", "Shapley share"], rows, caption=head)
            + _table(["portfolio", "kind", "P", "reduction"], portfolios, caption="Layers"))


def _audit_report(report) -> str:
    from gmnet.analysis.audit import VERDICTS

    totals = report.verdicts()
    head = ", ".join(f"{n} {VERDICTS[v]}" for v, n in totals.items() if n)
    rows = [[s.table] + [s.verdicts().get(v, 0) or "" for v in VERDICTS] for s in report.sections]
    findings = [[i.title, i.arithmetic] for i in report.inconsistencies]
    return (_table(["table", *VERDICTS.values()], rows,
                   caption=f"Audit ({report.worldview}, {report.rule}): {head}")
            + _table(["where the document disagrees with itself", "arithmetic"], findings))


def _uncertainty_result(result) -> str:
    quantiles = result.quantiles()
    rows = [["point values", _p(result.point, 2)], ["mean", _p(result.mean, 2)],
            *[[f"{q:.0%} quantile", _p(v, 2)] for q, v in quantiles.items()],
            ["draws", f"{result.samples:,}"], ["uncertain numbers it depends on",
                                              str(len(result.inputs))]]
    return _table(["", "value"], rows, caption=result.summary())


def _sensitivity_result(result) -> str:
    rows = []
    for r in result.rows:
        if not r.reaches_target or (r.swing <= 1e-12 and not (r.st or 0.0) > 1e-6):
            continue
        rows.append([r.label, f"{r.low:.3g} – {r.high:.3g}", _p(r.output_low, 2),
                     _p(r.output_high, 2),
                     "–" if r.s1 is None else f"{r.s1:.3f}",
                     "–" if r.st is None else f"{r.st:.3f} ± {r.st_conf:.3f}"])
    return _table(["uncertain number", "range", "answer at low end", "answer at high end",
                   "S1", "ST"], rows[:20], caption=result.summary())


def _generic(result) -> str:
    to_dict = getattr(result, "to_dict", None)
    data = to_dict() if callable(to_dict) else dict(vars(result))
    rows = [[k, v] for k, v in data.items() if not isinstance(v, list | dict) or len(v) <= 12]
    return _table(["", "value"], rows, caption=type(result).__name__)


_RENDERERS = {"WhatIf": _what_if, "CoreTableRow": _core_row,
              "MitigationComparison": _mitigation_comparison, "AuditReport": _audit_report,
              "UncertaintyResult": _uncertainty_result,
              "SensitivityResult": _sensitivity_result}


def result_html(result: Any) -> str:
    """An analysis result as an HTML table (for notebooks; also used by the report)."""
    own = getattr(type(result), "_repr_html_", None)
    if own is not None:  # the class knows best how to show itself
        return own(result)
    render = _RENDERERS.get(type(result).__name__, _generic)
    return render(result)


def register_formatters(shell: Any = None) -> bool:
    """Tell IPython to show gmnet's result objects as HTML tables. Returns whether it did.

    Called when gmnet is imported; does nothing outside IPython.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        if ipython is None:
            return False
        shell = ipython.get_ipython()
        if shell is None:
            return False
    formatter = shell.display_formatter.formatters.get("text/html")
    if formatter is None:  # pragma: no cover - every IPython has it
        return False
    for module, name in RESULT_TYPES:
        formatter.for_type_by_name(module, name, result_html)
    # a network shows as its pathway diagram; registered here, not as a method of Network,
    # because the model layer does not know about drawing (docs/architecture.md)
    svg = shell.display_formatter.formatters.get("image/svg+xml")
    if svg is not None:
        svg.for_type_by_name("gmnet.model.network", "Network", network_svg)
    return True
