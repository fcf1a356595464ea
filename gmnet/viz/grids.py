"""The grid charts: P(target) over two variables set by do() (with each cell's interval), and
over the scenario catalog's application domains x periods (with the document's ranges)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gmnet.errors import InvalidArgumentError, UnknownNameError

if TYPE_CHECKING:
    from gmnet.model.network import Network
    from gmnet.viz.chart_base import Chart

__all__ = ["document_domain_ranges", "scenario_grid"]


def _heatmap(network, evidence, rows, columns, target, state, caption=None, samples=None,
             rng=0) -> Chart:
    from gmnet.viz.chart_base import Chart, _held, _label, available
    from gmnet.viz.labels import figure_caption
    from gmnet.viz.plots import heatmap, probability_grid

    grid, row_states, col_states = probability_grid(network, rows, columns, target=target,
                                                    state=state, evidence=evidence)
    what = f"P({target}={state})"
    if caption is None:
        shown = {k: v for k, v in evidence.items() if k not in (rows, columns)}
        caption = figure_caption(network, evidence=shown,
                                 held=_held(network, {rows, columns, *evidence}),
                                 note=f"Rows and columns set by do({rows}, {columns})")
    intervals = None
    if samples and available("uncertainty"):
        intervals = _grid_intervals(network, rows, columns, target, state, evidence, samples,
                                    rng)
    notes = None if intervals is None else [
        [f"[{_pct(lo)}–{_pct(hi)}]" for lo, hi in row] for row in intervals]
    fig = heatmap(grid, row_states, col_states,
                  title=f"{what} by {_label(network, rows).lower()} and "
                        f"{_label(network, columns).lower()}",
                  row_title=_label(network, rows), column_title=_label(network, columns),
                  colorbar_label=what, caption=caption, notes=notes,
                  notes_label=(f"Under each value: the 90% interval over {samples:,} draws of "
                               f"the uncertain numbers (seed {rng}).") if notes else None)
    i, j = divmod(int(grid.argmax()), grid.shape[1])
    data = {"target": target, "state": state, "rows": rows, "columns": columns,
            "row_states": list(row_states), "column_states": list(col_states),
            "evidence": evidence, "values": grid.tolist()}
    if intervals is not None:
        data["intervals"] = {"level": 0.9, "samples": samples, "seed": rng,
                             "values": [[list(c) for c in row] for row in intervals]}
    return Chart("heatmap", fig, data,
                 f"highest {what}: {grid[i, j]:.1%} at {rows}={row_states[i]}, "
                 f"{columns}={col_states[j]}", caption)


def _pct(p: float) -> str:
    return f"{p:.1%}" if abs(p) >= 0.001 or p == 0 else f"{p:.2%}"


def _grid_intervals(network, rows, columns, target, state, evidence, samples, rng):
    """The 90% interval of every cell of :func:`gmnet.viz.plots.probability_grid`'s grid, over
    the same draws of the uncertain numbers (one seed for every cell)."""
    from gmnet.analysis.uncertainty import uncertainty
    from gmnet.viz.chart_base import _held

    ev = {k: v for k, v in evidence.items() if k not in (rows, columns)}
    context = {k: v for k, v in _held(network, ()).items() if k not in ev}
    out = []
    for r in network.states(rows):
        line = []
        for c in network.states(columns):
            do = {**context, rows: r, columns: c}
            result = uncertainty(network, target, state, evidence=ev, do=do, samples=samples,
                                 rng=rng)
            line.append(tuple(float(x) for x in result.interval(0.9)))
        out.append(line)
    return out


def scenario_grid(network: Network, *, rows: str = "domain", columns: str = "period",
                  target: str = "harm", state: str = "yes",
                  evidence: Mapping[str, str] | None = None):
    """P(target=state) under every pair of scenarios (a ``rows`` kind x a ``columns`` kind).

    Each cell applies both scenarios; the context nodes they leave alone are held at the
    neutral context by do() (as the audit does). Returns (grid, row scenarios, column
    scenarios).
    """
    import numpy as np

    from gmnet.analysis.whatif import neutral_context
    from gmnet.model.scenarios import KINDS, apply_scenarios, load_scenarios, merge_evidence

    for kind in (rows, columns):
        if kind not in KINDS:
            raise UnknownNameError("scenario kind", kind, KINDS)
    catalog = load_scenarios()
    row_s, col_s = catalog.of_kind(rows), catalog.of_kind(columns)
    if not row_s or not col_s:
        raise InvalidArgumentError(f"the scenario catalog has no {rows if not row_s else columns}"
                                   " scenarios")
    context = {k: v for k, v in neutral_context(network).items() if k != "shift_type"}
    grid = np.zeros((len(row_s), len(col_s)))
    for i, a in enumerate(row_s):
        for j, b in enumerate(col_s):
            applied, scenario_evidence = apply_scenarios(network, [a.name, b.name],
                                                         catalog=catalog)
            touched = a.variables | b.variables | set(evidence or {})
            do = {k: v for k, v in context.items() if k not in touched}
            ev = merge_evidence(scenario_evidence, evidence, do)
            grid[i, j] = applied.query(target, evidence=ev, do=do)[state]
    return grid, tuple(row_s), tuple(col_s)


def document_domain_ranges() -> dict[tuple[str, str], str]:
    """The document's Application Domain Risk Profiles as {(domain scenario, period scenario):
    range text}: the Current Risk column for the current period, the 2027 Projection for the
    next one."""
    try:
        from gmnet.analysis.audit.document import CURRENT_PERIOD, DOMAINS, PROJECTION_PERIOD
    except ImportError:  # pragma: no cover - a version without the audit
        return {}
    out = {}
    for name, _domain, _span, _spec, current, projected in DOMAINS:
        out[(name, CURRENT_PERIOD)] = current
        out[(name, PROJECTION_PERIOD)] = projected
    return out


def _domains(network, evidence, target, state, caption=None) -> Chart:
    from gmnet.viz.chart_base import Chart
    from gmnet.viz.labels import figure_caption
    from gmnet.viz.plots import heatmap

    grid, domains, periods = scenario_grid(network, target=target, state=state,
                                           evidence=evidence)
    what = f"P({target}={state})"
    ranges = document_domain_ranges() if target == "harm" and state == "yes" else {}
    notes = [[f"document {ranges[(d.name, p.name)]}" if (d.name, p.name) in ranges else ""
              for p in periods] for d in domains]
    has_notes = any(any(row) for row in notes)
    if caption is None:
        caption = figure_caption(
            network, evidence=evidence,
            note="Each cell applies a domain and a period scenario; context settings they "
                 "leave open are held neutral by do() and every mitigation is off")
    fig = heatmap(grid, [d.label for d in domains], [p.name for p in periods],
                  title=f"{what} by application domain and period (scenarios)",
                  row_title="domain", column_title="period", colorbar_label=what,
                  notes=notes if has_notes else None, caption=caption,
                  notes_label=("Under a cell's value: the document's Application Domain Risk "
                               "Profiles range (Current Risk for the current period, 2027 "
                               "Projection for the next).") if has_notes else None)
    i, j = divmod(int(grid.argmax()), grid.shape[1])
    return Chart("domains", fig, {
        "target": target, "state": state, "rows": [d.name for d in domains],
        "columns": [p.name for p in periods], "evidence": evidence, "values": grid.tolist(),
        "document": [[ranges.get((d.name, p.name)) for p in periods] for d in domains]},
        f"highest {what}: {grid[i, j]:.1%} for {domains[i].label}, {periods[j].name}", caption)
