"""The audit: the network against every numeric table of the source document."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import cached_property

from gmnet.analysis.audit.document import (
    CONTEXT_NODES,
    PATHWAY,
    TYPES,
)
from gmnet.analysis.audit.fidelity import Fidelity
from gmnet.analysis.audit.inconsistencies import inconsistencies
from gmnet.analysis.audit.results import (
    AuditReport,
)
from gmnet.analysis.audit.scenario_tables import ScenarioTables
from gmnet.analysis.audit.tables import DocumentTables
from gmnet.analysis.whatif import core_table, neutral_context
from gmnet.errors import GmnetError, InvalidArgumentError
from gmnet.model.network import Network
from gmnet.model.scenarios import ScenarioCatalog, apply_scenarios, load_scenarios


def audit(network: Network, *, scenarios: ScenarioCatalog | None = None) -> AuditReport:
    """Audit ``network`` (under whatever worldview it carries) against the source document.

    Parameters
    ----------
    network
        The network; apply a worldview first to audit that worldview.
    scenarios
        The scenario catalog for the domain, period and shift-chart rows (default: bundled).
    """
    if not isinstance(network, Network):
        raise InvalidArgumentError(f"audit needs a Network, got {type(network).__name__}")
    missing = [v for v in PATHWAY if v not in network.variables]
    if missing:
        raise InvalidArgumentError(
            f"network {network.name!r} has no {', '.join(missing)}: the audit compares the "
            "goal-misgeneralization pathway with the source document")
    if network.metadata.get("scenarios"):
        raise InvalidArgumentError(
            "the audit applies the document's scenarios itself; give it a network without "
            f"scenarios (this one has {', '.join(network.metadata['scenarios'])})")
    return _Audit(network, scenarios).report()


class _Audit(DocumentTables, ScenarioTables, Fidelity):
    def __init__(self, net: Network, scenarios: ScenarioCatalog | None):
        self.net = net
        self._scenarios = scenarios
        self.ctx = {k: v for k, v in neutral_context(net).items() if k != "shift_type"}
        self.shifts = [s for s in net.states("shift_type") if s in TYPES]
        self.labels = [TYPES[s] for s in self.shifts]

    # ------------------------------------------------------------------ helpers
    @property
    def cap_words(self) -> str:
        """How a cap binds under the network's rule, for the reasons of the audit's rows."""
        if self.net.rule == "expanded_formula":
            return "the formula is capped at P(capability transfers)"
        if self.net.rule == "relative_risk":
            return "the per-factor rule caps a factor at 100%"
        return "the odds-ratio rule bends the multiplier near 100%"

    @cached_property
    def scenarios(self) -> ScenarioCatalog | None:
        if self._scenarios is not None:
            return self._scenarios
        try:
            return load_scenarios()
        except GmnetError:
            return None

    def harm(self, do: Mapping[str, str], evidence: Mapping[str, str] | None = None,
             net: Network | None = None) -> float:
        return (net or self.net).query("harm", evidence=evidence, do=dict(do))["yes"]

    def harm_at(self, shift: str, **context: str) -> float:
        return self.harm({**self.ctx, **context, "shift_type": shift})

    @cached_property
    def core(self):
        return {r.shift_type: r for r in core_table(self.net, self.ctx)}

    @cached_property
    def context_nodes(self) -> list[str]:
        return [v for v in CONTEXT_NODES if v in self.net.variables]

    @cached_property
    def grid(self) -> dict[tuple[str, ...], float]:
        """P(harm | do(shift, every context combination)), the rest neutral."""
        out = {}
        states = [self.net.states(v) for v in self.context_nodes]
        for shift in self.shifts:
            for combo in itertools.product(*states):
                out[(shift, *combo)] = self.harm_at(shift, **dict(
                    zip(self.context_nodes, combo, strict=True)))
        return out

    def under_scenarios(self, names: Sequence[str]) -> float:
        """P(harm) with scenarios applied and the variables they leave alone held neutral."""
        cat = self.scenarios
        if cat is None:
            raise InvalidArgumentError("no scenario catalog")
        net, evidence = apply_scenarios(self.net, list(names), catalog=cat)
        touched = set().union(*(cat[n].variables for n in names))
        do = {k: v for k, v in self.ctx.items() if k not in touched}
        return self.harm(do, evidence, net=net)

    def multiplier(self, node: str, state: str, shift: str) -> float:
        base = self.harm_at(shift)
        return self.harm_at(shift, **{node: state}) / base if base > 0 else float("nan")

    # ------------------------------------------------------------------ report
    def report(self) -> AuditReport:
        sections = (self.risk_assessment(), self.expanded_formulation(), self.shift_chart(),
                    self.core_section(), self.meta_analysis(), self.key_factors(),
                    self.spec_impact(), self.domains(), self.timeline(), self.interventions(),
                    self.intervention_bands(), self.pathway(), self.critical_unknowns())
        return AuditReport(self.net.name, self.net.metadata.get("worldview", "document-table"),
                           self.net.rule, dict(self.ctx), sections, tuple(inconsistencies(self)),
                           self.capped_region())

