"""Worldviews: named, diffable sets of numbers that replace some of a network's parameters.

A worldview is data (``networks/worldviews.yaml``): for each parameter it replaces, a point
value, a range where one is known, and a source. Applying one returns a new network; the loaded
network is never changed.

>>> import gmnet
>>> net = gmnet.load_network()
>>> note = apply_worldview(net, "document-note")
>>> note.parameter("p_harm_given_failure.extreme").value
0.6
>>> net.parameter("p_harm_given_failure.extreme").value > 0.8
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StrictStr

from gmnet.errors import InvalidArgumentError, NetworkFileError, UnknownNameError
from gmnet.model.files import load_cached, validate_shape
from gmnet.model.network import NETWORKS_DIR, Network, load_network, read_yaml
from gmnet.model.parameters import Parameter
from gmnet.model.schema import ParameterValue, StateName, StrictModel

__all__ = [
    "DEFAULT_WORLDVIEW",
    "WORLDVIEWS_FILE",
    "Worldview",
    "WorldviewCatalog",
    "WorldviewDiff",
    "apply_worldview",
    "load_worldviews",
    "worldview_diff",
]

WORLDVIEWS_FILE = NETWORKS_DIR / "worldviews.yaml"
DEFAULT_WORLDVIEW = "document-table"
# The node whose states a worldview's ``applies_to`` names, and which ``name.*`` expands over.
SHIFT_NODE = "shift_type"

WorldviewName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
# A replacement number has the shape of a network file's number: value, range, source, note.
OverrideSpec = ParameterValue
_Strict = StrictModel


class WorldviewSpec(_Strict):
    label: StrictStr = ""
    description: StrictStr = ""
    applies_to: Literal["all"] | list[StateName] = "all"
    overrides: dict[StrictStr, OverrideSpec] = {}
    note: StrictStr | None = None


class WorldviewFile(_Strict):
    format: Literal["gmnet-worldviews/1"]
    network: StrictStr | None = None
    default: StrictStr | None = None
    worldviews: dict[WorldviewName, WorldviewSpec] = Field(min_length=1)


# ============================================================================ objects
@dataclass(frozen=True)
class Worldview:
    """One named worldview. ``applies_to`` is None for every shift type."""

    name: str
    label: str
    description: str
    applies_to: tuple[str, ...] | None
    overrides: Mapping[str, OverrideSpec]
    note: str | None = None
    path: str = "<memory>"

    def shift_types(self, network: Network) -> tuple[str, ...]:
        """The shift types this worldview speaks about, in the network's order."""
        if SHIFT_NODE not in network.variables:
            return ()
        states = network.states(SHIFT_NODE)
        return states if self.applies_to is None else tuple(
            s for s in states if s in self.applies_to)

    def problems(self, network: Network) -> list[str]:
        """Everything wrong with this worldview for ``network`` (empty when it applies)."""
        problems: list[str] = []
        self._expand(network, problems)
        return problems

    def resolved_overrides(self, network: Network) -> dict[str, dict]:
        """Parameter name -> {"value", "range", "source"} with ``name.*`` expanded.

        Raises NetworkFileError (naming the worldview file) listing every problem.
        """
        problems: list[str] = []
        resolved = self._expand(network, problems)
        if problems:
            raise NetworkFileError(self.path, problems)
        return resolved

    def _expand(self, network: Network, problems: list[str]) -> dict[str, dict]:
        where = f"worldview {self.name!r}"
        groups = network.spec.parameters
        if self.applies_to is not None:
            if SHIFT_NODE not in network.variables:
                problems.append(f"{where}: applies_to: network {network.name!r} has no "
                                f"{SHIFT_NODE} node; use 'applies_to: all'")
                return {}
            states = network.states(SHIFT_NODE)
            for s in self.applies_to:
                if s not in states:
                    problems.append(f"{where}: applies_to: " + str(UnknownNameError(
                        "state", s, states, context=f"for {SHIFT_NODE}")))
        explicit: dict[str, dict] = {}
        wildcard: dict[str, dict] = {}
        for key, spec in self.overrides.items():
            entry = {"value": spec.value,
                     "range": None if spec.range is None else [spec.range[0], spec.range[1]],
                     "source": spec.source}
            group, _, member = key.partition(".")
            if group not in groups:
                problems.append(f"{where}: overrides: " + str(UnknownNameError(
                    "parameter", key, sorted(network.parameters))))
                continue
            spec_group = groups[group]
            if member == "*":
                if spec_group.values is None:
                    problems.append(f"{where}: overrides: {key!r}: {group} is a single number, "
                                    f"not indexed; write {group!r}")
                    continue
                keys = list(network.states(spec_group.index))
                if spec_group.index == SHIFT_NODE:
                    keys = [k for k in keys if k in self.shift_types(network)]
                for k in keys:
                    wildcard[f"{group}.{k}"] = entry
                continue
            if key not in network.parameters:
                problems.append(f"{where}: overrides: " + str(UnknownNameError(
                    "parameter", key, sorted(network.parameters))))
                continue
            if (spec_group.index == SHIFT_NODE and self.applies_to is not None
                    and member not in self.applies_to):
                problems.append(f"{where}: overrides: {key!r} is for shift type {member!r}, "
                                f"which applies_to leaves out ({', '.join(self.applies_to)})")
                continue
            explicit[key] = entry
        resolved = {**wildcard, **explicit}  # an explicit name beats its group's wildcard
        if resolved and not problems:
            try:
                network.with_parameters(resolved)
            except InvalidArgumentError as exc:
                problems.append(f"{where}: {exc}")
        return resolved

    def apply(self, network: Network) -> Network:
        """``network`` with this worldview's numbers (a new network)."""
        resolved = self.resolved_overrides(network)
        changed = network.with_parameters(resolved) if resolved else network
        return _with_metadata(changed, worldview=self.name)

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "description": self.description,
                "applies_to": "all" if self.applies_to is None else list(self.applies_to),
                "overrides": {k: {"value": v.value,
                                  "range": None if v.range is None else list(v.range),
                                  "source": v.source} for k, v in self.overrides.items()},
                "note": self.note}


def _with_metadata(network: Network, **entries) -> Network:
    metadata = {**network.spec.metadata, **entries}
    spec = network.spec.model_copy(update={"metadata": metadata})
    return Network(spec, path=network.path, parameters=network.parameters)


class WorldviewCatalog(Mapping[str, Worldview]):
    """The worldviews of one file, by name; an unknown name lists the valid ones."""

    def __init__(self, worldviews: Mapping[str, Worldview], *, default: str | None,
                 path: str, network: str | None = None):
        self._worldviews = dict(worldviews)
        self.default = default
        self.path = path
        self.network = network

    def __getitem__(self, name: str) -> Worldview:
        if name not in self._worldviews:
            raise UnknownNameError("worldview", str(name), self._worldviews)
        return self._worldviews[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._worldviews)

    def __len__(self) -> int:
        return len(self._worldviews)

    def __repr__(self) -> str:
        return f"<WorldviewCatalog {self.path}: {', '.join(self._worldviews)}>"


# ============================================================================ loading
_CACHE: dict[tuple[str, int], WorldviewCatalog] = {}


def load_worldviews(path: str | Path | None = None, *,
                    network: Network | None = None) -> WorldviewCatalog:
    """Load and validate a worldview file (default: the bundled ``networks/worldviews.yaml``).

    The file's shape is checked, then every worldview against ``network`` (default: the network
    the file names); every problem is reported at once as a NetworkFileError.
    """
    return load_cached(path, WORLDVIEWS_FILE, "worldview", _load, network, _CACHE)


def _load(target: Path, network: Network | None) -> WorldviewCatalog:
    shown = str(target)
    spec = validate_shape(read_yaml(target), WorldviewFile, path=shown,
                          labels={"worldviews": "worldview"},
                          top_level="'format' and 'worldviews'")
    worldviews = {
        name: Worldview(name, w.label or name, w.description,
                        None if w.applies_to == "all" else tuple(w.applies_to),
                        dict(w.overrides), w.note, shown)
        for name, w in spec.worldviews.items()}
    problems = []
    if spec.default is not None and spec.default not in worldviews:
        problems.append("default: " + str(UnknownNameError("worldview", spec.default,
                                                           worldviews)))
    net = network if network is not None else load_network(spec.network)
    for w in worldviews.values():
        problems.extend(w.problems(net))
    if problems:
        raise NetworkFileError(shown, problems)
    return WorldviewCatalog(worldviews, default=spec.default, path=shown, network=spec.network)



def apply_worldview(network: Network, worldview: str | Worldview | None, *,
                    catalog: WorldviewCatalog | None = None) -> Network:
    """``network`` with a worldview's numbers; ``None`` leaves it as it is.

    Raises UnknownNameError for an unknown name (listing the valid ones) and NetworkFileError
    when the worldview does not fit the network (unknown parameter, number out of range).
    """
    if worldview is None:
        return network
    if not isinstance(worldview, Worldview):
        worldview = (catalog or load_worldviews())[worldview]
    return worldview.apply(network)


# ============================================================================ diff
@dataclass(frozen=True)
class ParameterChange:
    """One number two worldviews set differently."""

    name: str
    before: Parameter
    after: Parameter

    def to_dict(self) -> dict:
        def one(p: Parameter) -> dict:
            return {"value": p.value, "range": None if p.low is None else [p.low, p.high],
                    "source": p.source}
        return {"name": self.name, "before": one(self.before), "after": one(self.after)}


@dataclass(frozen=True)
class ShiftEffect:
    """The core table's numbers for one shift type under both worldviews (neutral context)."""

    shift_type: str
    before: dict[str, float]
    after: dict[str, float]

    @property
    def change(self) -> float:
        return self.after["p_harm"] - self.before["p_harm"]

    @property
    def ratio(self) -> float:
        b = self.before["p_harm"]
        return self.after["p_harm"] / b if b > 0 else float("nan")

    def to_dict(self) -> dict:
        return {"shift_type": self.shift_type, "before": self.before, "after": self.after,
                "change": self.change, "ratio": self.ratio}


@dataclass(frozen=True)
class WorldviewDiff:
    """What changes from worldview ``a`` to worldview ``b``: numbers, then P(harm)."""

    a: str
    b: str
    changes: tuple[ParameterChange, ...]
    effects: tuple[ShiftEffect, ...]
    context: dict[str, str]

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "context": self.context,
                "changes": [c.to_dict() for c in self.changes],
                "effects": [e.to_dict() for e in self.effects]}


FACTORS = ("p_capability_transfer", "p_goal_fails_given_capability", "p_harm_given_failure",
           "p_harm")


def worldview_diff(network: Network, a: str | Worldview, b: str | Worldview, *,
                   catalog: WorldviewCatalog | None = None) -> WorldviewDiff:
    """Compare two worldviews on ``network``: each changed number and, per shift type at the
    network's neutral context, P(capability transfers), P(goal fails | capability),
    P(harm | goal fails) and P(harm).
    """
    catalog = catalog or load_worldviews()
    wa = a if isinstance(a, Worldview) else catalog[a]
    wb = b if isinstance(b, Worldview) else catalog[b]
    net_a, net_b = wa.apply(network), wb.apply(network)
    changes = []
    for name, pa in net_a.parameters.items():
        pb = net_b.parameters[name]
        if (pa.value, pa.low, pa.high, pa.source) != (pb.value, pb.low, pb.high, pb.source):
            changes.append(ParameterChange(name, pa, pb))
    context = {k: v for k, v in network.metadata.get("neutral_context", {}).items()
               if k in network.variables and k != SHIFT_NODE}
    effects = []
    needed = {SHIFT_NODE, "capability_transfer", "goal_misgeneralizes", "harm"}
    if needed <= set(network.variables):
        for shift in network.states(SHIFT_NODE):
            effects.append(ShiftEffect(shift, _factors(net_a, shift, context),
                                       _factors(net_b, shift, context)))
    return WorldviewDiff(wa.name, wb.name, tuple(changes), tuple(effects), context)


def _factors(net: Network, shift: str, context: Mapping[str, str]) -> dict[str, float]:
    do = {**context, SHIFT_NODE: shift}
    return {
        "p_capability_transfer": net.query("capability_transfer", do=do)["yes"],
        "p_goal_fails_given_capability": net.query(
            "goal_misgeneralizes", evidence={"capability_transfer": "yes"}, do=do)["yes"],
        "p_harm_given_failure": net.query(
            "harm", evidence={"goal_misgeneralizes": "yes"}, do=do)["yes"],
        "p_harm": net.query("harm", do=do)["yes"],
    }
