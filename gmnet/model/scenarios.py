"""Scenarios: the source document's deployment settings as named changes of a network's inputs.

A scenario is data (``networks/scenarios.yaml``) and may

- observe nodes (``evidence``),
- restrict a root node to some of its states (``within``: evidence that the value lies in the
  set; for a root node, its prior cut to the set and renormalised),
- replace a root node's prior (``prior``),
- replace parameters (``parameters``, like a worldview).

Applying scenarios returns a new network and the evidence to condition on; the loaded network
is never changed. Scenarios combine in any order: parameters first, then priors, then
restrictions, then evidence.

>>> import gmnet
>>> net = gmnet.load_network()
>>> agents, evidence = apply_scenarios(net, ["autonomous_agents", "2026-2027"])
>>> evidence
{'spec_quality': 'low', 'capability_level': 'human_level'}
>>> [round(float(p), 3) for p in agents.cpt("shift_type")]
[0.0, 0.0, 0.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, StrictStr

from gmnet.errors import (
    ImpossibleEvidenceError,
    InvalidArgumentError,
    NetworkFileError,
    UnknownNameError,
)
from gmnet.model import schema
from gmnet.model.files import load_cached, validate_shape
from gmnet.model.network import NETWORKS_DIR, Network, load_network, read_yaml
from gmnet.model.schema import Number, StateName, StrictModel
from gmnet.model.worldviews import OverrideSpec, Worldview, WorldviewCatalog, apply_worldview

__all__ = [
    "KINDS",
    "SCENARIOS_FILE",
    "Scenario",
    "ScenarioCatalog",
    "apply",
    "apply_scenarios",
    "load_scenarios",
    "merge_evidence",
]

SCENARIOS_FILE = NETWORKS_DIR / "scenarios.yaml"
KINDS = ("domain", "period", "example_shift", "custom")
PRIOR_TOLERANCE = 1e-9

ScenarioName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
NodeName = Annotated[str, Field(min_length=1, max_length=64)]
_Strict = StrictModel


class ScenarioSpec(_Strict):
    kind: Literal["domain", "period", "example_shift", "custom"] = "custom"
    label: StrictStr = ""
    description: StrictStr = ""
    evidence: dict[NodeName, StateName] = {}
    within: dict[NodeName, list[StateName]] = {}
    prior: dict[NodeName, dict[StateName, Number]] = {}
    parameters: dict[StrictStr, OverrideSpec] = {}
    source: StrictStr = Field(min_length=1)
    note: StrictStr | None = None


class ScenarioFile(_Strict):
    format: Literal["gmnet-scenarios/1"]
    network: StrictStr | None = None
    scenarios: dict[ScenarioName, ScenarioSpec] = Field(min_length=1)


# ============================================================================ objects
@dataclass(frozen=True)
class Scenario:
    """One named scenario (see the module docstring for what each part does)."""

    name: str
    kind: str
    label: str
    description: str
    source: str
    evidence: Mapping[str, str] = field(default_factory=dict)
    within: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    prior: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    parameters: Mapping[str, OverrideSpec] = field(default_factory=dict)
    note: str | None = None
    path: str = "<memory>"

    @property
    def variables(self) -> frozenset[str]:
        """The nodes this scenario observes, restricts or gives a prior."""
        return frozenset(self.evidence) | frozenset(self.within) | frozenset(self.prior)

    def summary(self) -> str:
        """What the scenario sets, in one line."""
        parts = [f"{v} = {s}" for v, s in self.evidence.items()]
        parts += [f"{v} in {{{', '.join(states)}}}" for v, states in self.within.items()]
        for v, dist in self.prior.items():
            parts.append(f"prior {v}: " + ", ".join(f"{s} {p:g}" for s, p in dist.items()))
        parts += [f"{name} = {spec.value:g}" for name, spec in self.parameters.items()]
        return "; ".join(parts)

    def problems(self, network: Network) -> list[str]:
        """Everything wrong with this scenario for ``network`` (empty when it applies)."""
        where = f"scenario {self.name!r}"
        problems: list[str] = []
        if not (self.evidence or self.within or self.prior or self.parameters):
            problems.append(f"{where}: sets nothing; give evidence, within, prior or parameters")
        for v, state in self.evidence.items():
            if _check_node(network, v, f"{where}: evidence", problems):
                _check_state(network, v, state, f"{where}: evidence", problems)
        for v, states in self.within.items():
            what = f"{where}: within"
            if not (_check_node(network, v, what, problems) and _check_root(network, v, what,
                                                                            problems)):
                continue
            if not states:
                problems.append(f"{what}: {v}: the list of states is empty")
            for s in states:
                _check_state(network, v, s, what, problems)
            if len(set(states)) != len(states):
                problems.append(f"{what}: {v}: a state is listed twice")
            if v in self.evidence and self.evidence[v] not in states:
                problems.append(f"{where}: evidence {v}={self.evidence[v]} lies outside its own "
                                f"within list ({', '.join(states)})")
        for v, dist in self.prior.items():
            what = f"{where}: prior"
            if not (_check_node(network, v, what, problems) and _check_root(network, v, what,
                                                                            problems)):
                continue
            states = network.states(v)
            for s in dist:
                _check_state(network, v, s, what, problems)
            missing = [s for s in states if s not in dist]
            if missing:
                problems.append(f"{what}: {v}: no probability for {', '.join(missing)}; list "
                                f"every state ({', '.join(states)})")
            bad = [p for p in dist.values() if not 0.0 <= p <= 1.0]
            if bad:
                problems.append(f"{what}: {v}: {bad[0]} is not a probability")
            total = sum(dist.values())
            if not missing and not bad and abs(total - 1.0) > PRIOR_TOLERANCE:
                problems.append(f"{what}: {v}: probabilities sum to {total:.6g}, not 1")
        if self.parameters:
            unknown = [p for p in self.parameters if p not in network.parameters]
            for name in unknown:
                problems.append(f"{where}: parameters: " + str(UnknownNameError(
                    "parameter", name, sorted(network.parameters))))
            if not unknown:
                try:
                    network.with_parameters(self.parameter_overrides())
                except InvalidArgumentError as exc:
                    problems.append(f"{where}: parameters: {exc}")
        return problems

    def parameter_overrides(self) -> dict[str, dict]:
        return {name: {"value": spec.value,
                       "range": None if spec.range is None else list(spec.range),
                       "source": spec.source}
                for name, spec in self.parameters.items()}

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "label": self.label,
                "description": self.description, "source": self.source, "note": self.note,
                "evidence": dict(self.evidence),
                "within": {v: list(s) for v, s in self.within.items()},
                "prior": {v: dict(d) for v, d in self.prior.items()},
                "parameters": self.parameter_overrides(), "summary": self.summary()}


def _check_node(network: Network, v: str, what: str, problems: list[str]) -> bool:
    if v not in network.variables:
        problems.append(f"{what}: " + str(UnknownNameError("node", v, network.variables)))
        return False
    return True


def _check_state(network: Network, v: str, state: str, what: str, problems: list[str]) -> None:
    states = network.states(v)
    if state not in states:
        problems.append(f"{what}: " + str(UnknownNameError("state", state, states,
                                                           context=f"for {v}")))


def _check_root(network: Network, v: str, what: str, problems: list[str]) -> bool:
    parents = network.parents(v)
    if parents:
        problems.append(f"{what}: {v} has parents ({', '.join(parents)}); only a root node's "
                        "distribution can be set or restricted: observe it with evidence instead")
        return False
    return True


class ScenarioCatalog(Mapping[str, Scenario]):
    """The scenarios of one file, by name; an unknown name lists the valid ones."""

    def __init__(self, scenarios: Mapping[str, Scenario], *, path: str,
                 network: str | None = None):
        self._scenarios = dict(scenarios)
        self.path = path
        self.network = network

    def __getitem__(self, name: str) -> Scenario:
        if name not in self._scenarios:
            raise UnknownNameError("scenario", str(name), self._scenarios)
        return self._scenarios[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._scenarios)

    def __len__(self) -> int:
        return len(self._scenarios)

    def of_kind(self, kind: str) -> list[Scenario]:
        if kind not in KINDS:
            raise UnknownNameError("scenario kind", kind, KINDS)
        return [s for s in self._scenarios.values() if s.kind == kind]

    def __repr__(self) -> str:
        return f"<ScenarioCatalog {self.path}: {len(self)} scenarios>"


# ============================================================================ loading
_CACHE: dict[tuple[str, int], ScenarioCatalog] = {}


def load_scenarios(path: str | Path | None = None, *,
                   network: Network | None = None) -> ScenarioCatalog:
    """Load and validate a scenario file (default: the bundled ``networks/scenarios.yaml``).

    The file's shape is checked, then every scenario against ``network`` (default: the network
    the file names): unknown nodes, states and parameters, priors that do not sum to one. Every
    problem is reported at once as a NetworkFileError.
    """
    return load_cached(path, SCENARIOS_FILE, "scenario", _load, network, _CACHE)


def _load(target: Path, network: Network | None) -> ScenarioCatalog:
    shown = str(target)
    spec = validate_shape(read_yaml(target), ScenarioFile, path=shown,
                          labels={"scenarios": "scenario"},
                          top_level="'format' and 'scenarios'")
    scenarios = {
        name: Scenario(name, s.kind, s.label or name, s.description, s.source,
                       dict(s.evidence), {v: tuple(st) for v, st in s.within.items()},
                       {v: {k: float(p) for k, p in d.items()} for v, d in s.prior.items()},
                       dict(s.parameters), s.note, shown)
        for name, s in spec.scenarios.items()}
    net = network if network is not None else load_network(spec.network)
    problems = [p for s in scenarios.values() for p in s.problems(net)]
    if problems:
        raise NetworkFileError(shown, problems)
    return ScenarioCatalog(scenarios, path=shown, network=spec.network)



# ============================================================================ applying
def apply_scenarios(network: Network, scenarios: str | Scenario | Iterable[str | Scenario] | None,
                    *, catalog: ScenarioCatalog | None = None) -> tuple[Network, dict[str, str]]:
    """Apply scenarios to ``network``: a new network and the evidence to condition on.

    Parameters
    ----------
    network
        The network (already under a worldview, if any).
    scenarios
        A scenario name or object, or several; ``None`` or empty applies nothing.
    catalog
        Where names are looked up (default: the bundled scenario file).

    Raises
    ------
    UnknownNameError
        An unknown scenario name (the message lists the valid ones).
    NetworkFileError
        A scenario that does not fit the network (unknown node, state or parameter).
    InvalidArgumentError
        Scenarios that contradict each other (two priors for one node, one parameter set twice,
        one node observed in two states, restrictions with no state in common).
    ImpossibleEvidenceError
        A scenario's evidence that another scenario's restriction or prior rules out.
    """
    resolved = _resolve(scenarios, catalog)
    if not resolved:
        return network, {}
    problems = [p for s in resolved for p in s.problems(network)]
    if problems:
        raise NetworkFileError(resolved[0].path, problems)
    return _apply(network, resolved)


def _resolve(scenarios, catalog) -> list[Scenario]:
    if scenarios is None:
        return []
    if isinstance(scenarios, str | Scenario):
        scenarios = [scenarios]
    out: list[Scenario] = []
    for s in scenarios:
        if not isinstance(s, Scenario):
            if not isinstance(s, str):
                raise InvalidArgumentError(f"a scenario is a name or a Scenario, got "
                                           f"{type(s).__name__}")
            catalog = catalog or load_scenarios()
            s = catalog[s]
        if s.name not in [o.name for o in out]:
            out.append(s)
    return out


def _apply(network: Network, scenarios: Sequence[Scenario]) -> tuple[Network, dict[str, str]]:
    names = [s.name for s in scenarios]
    # ------------------------------------------------------------ conflicts between scenarios
    overrides: dict[str, tuple[str, dict]] = {}
    priors: dict[str, tuple[str, Mapping[str, float]]] = {}
    evidence: dict[str, tuple[str, str]] = {}
    within: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for s in scenarios:
        for name, entry in s.parameter_overrides().items():
            if name in overrides:
                raise InvalidArgumentError(
                    f"scenarios {overrides[name][0]!r} and {s.name!r} both set parameter "
                    f"{name}; use only one of them")
            overrides[name] = (s.name, entry)
        for v, dist in s.prior.items():
            if v in priors:
                raise InvalidArgumentError(
                    f"scenarios {priors[v][0]!r} and {s.name!r} both set the prior of {v}; "
                    "use only one of them (e.g. one period)")
            priors[v] = (s.name, dist)
        for v, state in s.evidence.items():
            if v in evidence and evidence[v][1] != state:
                raise InvalidArgumentError(
                    f"scenarios {evidence[v][0]!r} and {s.name!r} observe {v} in different "
                    f"states ({evidence[v][1]} vs {state}); use only one of them")
            evidence[v] = (s.name, state)
        for v, states in s.within.items():
            within.setdefault(v, []).append((s.name, states))
    # ------------------------------------------------------------ parameters, priors, restrictions
    net = network.with_parameters({k: e for k, (_, e) in overrides.items()}) if overrides \
        else network
    new_priors: dict[str, tuple[np.ndarray, list[str]]] = {}
    for v in sorted(set(priors) | set(within), key=net.variables.index):
        states = net.states(v)
        if v in priors:
            dist = np.array([priors[v][1][s] for s in states], dtype=float)
            how = [f"prior from scenario {priors[v][0]!r}"]
        else:
            dist = np.array(net.cpt(v), dtype=float).reshape(-1)
            how = ["the network's prior"]
        for name, allowed in within.get(v, []):
            dist = dist * np.array([s in allowed for s in states], dtype=float)
            how.append(f"restricted to {', '.join(allowed)} by scenario {name!r}")
        total = dist.sum()
        if not total > 0:
            raise InvalidArgumentError(
                f"scenarios {', '.join(repr(n) for n in names)} leave {v} no possible state: "
                + "; ".join(how))
        new_priors[v] = (dist / total, how)
    for v, (name, state) in evidence.items():
        if v in new_priors and new_priors[v][0][net.states(v).index(state)] <= 0:
            raise ImpossibleEvidenceError(
                f"scenario {name!r} observes {v}={state}, which is impossible under "
                + "; ".join(new_priors[v][1]))
    spec = net.spec
    nodes = dict(spec.nodes)
    for v, (dist, how) in new_priors.items():
        probabilities = {s: float(p) for s, p in zip(net.states(v), dist, strict=True)}
        cpt = schema.PriorCPT(kind="prior", probabilities=probabilities,
                              source="; ".join(how))
        nodes[v] = nodes[v].model_copy(update={"cpt": cpt})
    metadata = {**spec.metadata,
                "scenarios": [*spec.metadata.get("scenarios", []), *names],
                "scenario_evidence": {**spec.metadata.get("scenario_evidence", {}),
                                      **{v: st for v, (_, st) in evidence.items()}}}
    spec = spec.model_copy(update={"nodes": nodes, "metadata": metadata})
    result = Network(spec, path=net.path, parameters=net.parameters)
    return result, {v: state for v, (_, state) in evidence.items()}


def apply(network: Network, *, scenario: str | Scenario | Iterable[str | Scenario] | None = None,
          worldview: str | Worldview | None = None,
          scenarios: ScenarioCatalog | None = None,
          worldviews: WorldviewCatalog | None = None) -> tuple[Network, dict[str, str]]:
    """A worldview, then scenarios, applied to ``network``: (new network, scenario evidence).

    Merge the evidence into a query's own with :func:`merge_evidence`.

    >>> import gmnet
    >>> net, evidence = gmnet.apply(gmnet.load_network(), scenario=["game_ai", "2024-2025"],
    ...                             worldview="document-note")
    >>> evidence
    {'spec_quality': 'high', 'capability_level': 'human_level'}
    >>> net.metadata["worldview"], net.metadata["scenarios"]
    ('document-note', ['game_ai', '2024-2025'])
    """
    net = apply_worldview(network, worldview, catalog=worldviews)
    return apply_scenarios(net, scenario, catalog=scenarios)


def merge_evidence(scenario_evidence: Mapping[str, str], evidence: Mapping[str, str] | None,
                   do: Mapping[str, str] | None = None) -> dict[str, str]:
    """A query's evidence with the scenarios' evidence added.

    ``do()`` wins over a scenario's evidence (it asks what if the node were set otherwise);
    evidence that contradicts a scenario's is an error, since both cannot be observed.

    >>> merge_evidence({"spec_quality": "low"}, {"shift_type": "extreme"})
    {'spec_quality': 'low', 'shift_type': 'extreme'}
    >>> merge_evidence({"spec_quality": "low"}, None, {"spec_quality": "high"})
    {}
    """
    do = dict(do or {})
    merged = {v: s for v, s in scenario_evidence.items() if v not in do}
    for v, s in (evidence or {}).items():
        if v in merged and merged[v] != s:
            raise InvalidArgumentError(
                f"evidence {v}={s} contradicts the scenario's {v}={merged[v]}; to ask what if "
                f"it were {s}, intervene: do({v}={s})")
        merged[v] = s
    return merged
