"""The appendix: the audit of the source document and every number with its source."""

from __future__ import annotations

from gmnet.errors import GmnetError
from gmnet.report.common import (
    _Context,
    _esc,
    _has,
    _table,
)


def _audit(ctx: _Context) -> str | None:
    if not _has("gmnet.analysis.audit"):
        return None
    from gmnet.analysis.audit import VERDICTS, audit

    if not {"shift_type", "goal_misgeneralizes", "harm"} <= set(ctx.network.variables):
        return None  # the audit compares the goal-misgeneralization pathway only
    try:
        result = audit(ctx.network)
    except GmnetError as exc:
        return f'<p class="missing">No audit: {_esc(exc)}</p>'
    totals = result.verdicts()
    summary = ", ".join(f"<b>{n}</b> {_esc(VERDICTS[v])}" for v, n in totals.items() if n)
    per_table = []
    for section in result.sections:
        counts = section.verdicts()
        per_table.append([_esc(section.table)]
                         + [str(counts.get(v, 0) or "") for v in VERDICTS]
                         + [f'<span class="note">{_esc(section.method)}</span>'])
    outside = [[_esc(section.table), _esc(row.row), _esc(row.document), _esc(row.model),
                _esc(row.reason)]
               for section in result.sections for row in section.rows
               if row.verdict == "outside"]
    parts = [
        f"<p>Every numeric table of the source document against the network (worldview "
        f"<code>{_esc(result.worldview)}</code>, rule <code>{_esc(result.rule)}</code>): "
        f"{summary}.</p>",
        _table(["table", *VERDICTS.values(), "how the model's number is computed"], per_table,
               numeric=tuple(range(1, 1 + len(VERDICTS))), cls="verdicts"),
    ]
    if outside:
        parts.append("<h3>Where the network and the document differ</h3>"
                     + _table(["table", "row", "document", "network", "why"], outside))
    if result.inconsistencies:
        items = "".join(
            f"<dt>{_esc(i.title)}</dt><dd><p>{_esc(i.arithmetic)}</p>"
            f'<p class="note">{_esc(i.consequence)}</p></dd>' for i in result.inconsistencies)
        parts.append("<h3>Where the document disagrees with itself</h3>"
                     f'<dl class="findings">{items}</dl>')
    if result.region is not None:
        parts.append(f'<p class="caption">{_esc(result.region.note)}</p>')
    return "".join(parts)


def _parameters(ctx: _Context) -> str:
    rows = []
    for p in sorted(ctx.network.parameters.values(), key=lambda p: p.name):
        rng = f"{p.low:.4g} – {p.high:.4g}" if p.low is not None else "–"
        source = _esc(p.source)
        if p.is_assumption:
            source = f'<span class="assumption">{source}</span>'
        if p.note:
            source += f'<br><span class="note">{_esc(p.note)}</span>'
        rows.append([f"<code>{_esc(p.name)}</code>", f"{p.value:.4g}", rng, _esc(p.unit), source])
    return ("<p>Every number of the network, with its range where one is known and where it "
            "comes from: a table of the source document, or a labelled assumption "
            "(<span class=\"assumption\">in italics</span>).</p>"
            + _table(["parameter", "value", "range", "unit", "source"], rows, numeric=(1, 2),
                     cls="params"))
