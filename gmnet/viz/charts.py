"""Charts of gmnet's analyses: run an analysis, turn its result into plain data, plot it.

This is the only place where the plots meet the analyses (:mod:`gmnet.viz.plots` takes plain
numbers); the CLI's ``plot`` command and the HTML report both use it, so a chart looks the same
wherever it appears.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gmnet.errors import GmnetError, InvalidArgumentError, UnknownNameError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gmnet.model.network import Network

__all__ = ["CHART_KINDS", "Chart", "chart", "available", "scenario_grid"]

CHART_KINDS = ("heatmap", "domains", "tornado", "uncertainty", "mitigations")
_NEEDS = {"tornado": "gmnet.analysis.sensitivity", "uncertainty": "gmnet.analysis.uncertainty",
          "mitigations": "gmnet.analysis.mitigations", "domains": "gmnet.model.scenarios"}


@dataclass(frozen=True)
class Chart:
    """A figure, the numbers it shows (JSON-ready) and a one-line summary."""

    kind: str
    figure: Figure
    data: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    def save(self, path, *, format: str | None = None):  # noqa: A002 - matplotlib's word
        """Write the chart to ``path`` (svg, png or pdf; atomically). Returns the path."""
        from gmnet.viz.plots import save_figure

        return save_figure(self.figure, path, format=format)

    def _repr_svg_(self) -> str:
        from gmnet.viz.plots import figure_svg

        return figure_svg(self.figure)


def available(kind: str) -> bool:
    """Whether this version of gmnet has the analysis behind chart ``kind``."""
    module = _NEEDS.get(kind)
    if module is None:
        return kind in CHART_KINDS
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # pragma: no cover - broken installs
        return False


def chart(kind: str, network: Network, *, evidence: Mapping[str, str] | None = None,
          rows: str = "shift_type", columns: str = "spec_quality", target: str = "harm",
          state: str = "yes", samples: int = 2000, rng: int = 0) -> Chart:
    """Run the analysis behind chart ``kind`` on ``network`` and plot it.

    Parameters
    ----------
    kind
        ``heatmap`` (P(target=state) over ``rows`` x ``columns`` set by do()), ``domains``
        (over the application domains x the periods of the scenario catalog), ``tornado``,
        ``uncertainty`` or ``mitigations``.
    evidence
        Evidence every query conditions on (e.g. a scenario's).
    samples, rng
        Parameter draws and seed for the analyses that sample.
    """
    if kind not in CHART_KINDS:
        raise UnknownNameError("chart", str(kind), CHART_KINDS)
    if not available(kind):
        raise GmnetError(f"the {kind} chart needs {_NEEDS[kind]}, which this version of gmnet "
                         "does not have")
    network.node(target)
    network.check_state(target, state)
    evidence = dict(evidence or {})
    if kind == "heatmap":
        return _heatmap(network, evidence, rows, columns, target, state)
    if kind == "domains":
        return _domains(network, evidence, target, state)
    if kind == "mitigations":
        return _mitigations(network, evidence, target, state)
    raise InvalidArgumentError(f"the {kind} chart is not wired to its analysis yet")


def _label(network: Network, var: str) -> str:
    return network.node(var).label or var


def _heatmap(network, evidence, rows, columns, target, state) -> Chart:
    from gmnet.viz.plots import heatmap, probability_grid

    grid, row_states, col_states = probability_grid(network, rows, columns, target=target,
                                                    state=state, evidence=evidence)
    what = f"P({target}={state})"
    fig = heatmap(grid, row_states, col_states,
                  title=f"{what} by {_label(network, rows).lower()} and "
                        f"{_label(network, columns).lower()}",
                  row_title=_label(network, rows), column_title=_label(network, columns),
                  colorbar_label=what)
    i, j = divmod(int(grid.argmax()), grid.shape[1])
    return Chart("heatmap", fig, {
        "target": target, "state": state, "rows": rows, "columns": columns,
        "row_states": list(row_states), "column_states": list(col_states),
        "evidence": evidence, "values": grid.tolist()},
        f"highest {what}: {grid[i, j]:.1%} at {rows}={row_states[i]}, "
        f"{columns}={col_states[j]}")


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


def _domains(network, evidence, target, state) -> Chart:
    from gmnet.viz.plots import heatmap

    grid, domains, periods = scenario_grid(network, target=target, state=state,
                                           evidence=evidence)
    what = f"P({target}={state})"
    fig = heatmap(grid, [d.label for d in domains], [p.name for p in periods],
                  title=f"{what} by application domain and period (scenarios)",
                  row_title="domain", column_title="period", colorbar_label=what)
    i, j = divmod(int(grid.argmax()), grid.shape[1])
    return Chart("domains", fig, {
        "target": target, "state": state, "rows": [d.name for d in domains],
        "columns": [p.name for p in periods], "evidence": evidence, "values": grid.tolist()},
        f"highest {what}: {grid[i, j]:.1%} for {domains[i].label}, {periods[j].name}")


def _mitigations(network, evidence, target, state) -> Chart:
    from gmnet.analysis.mitigations import compare_mitigations
    from gmnet.viz.plots import interval_bars

    result = compare_mitigations(network, evidence=evidence, target=target, state=state)
    rows, groups = [], []
    layers = list(result.layers)
    for layer in layers:
        alone = sorted((v for v in result.values if v.mitigation.layer == layer),
                       key=lambda v: v.probability_alone)
        for value in alone:
            rows.append((value.mitigation.label, value.probability_alone, None, None))
            groups.append(layer)
        together = result.portfolio(layer)
        if len(alone) > 1:
            rows.append((f"whole {layer} layer", together.probability, None, None))
            groups.append(layer)
    rows.append(("all mitigations", result.all_on, None, None))
    groups.append("all")
    what = f"P({target}={state})"
    fig = interval_bars(rows, baseline=result.baseline, groups=groups,
                        title=f"{what} with each mitigation, each layer and all of them",
                        xlabel=what)
    return Chart("mitigations", fig, result.to_dict(),
                 f"no mitigation {result.baseline:.1%}; all on {result.all_on:.1%}")
