"""Loading, validating and compiling a network file into a :class:`Network`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from gmnet.errors import InvalidArgumentError, NetworkFileError, UnknownNameError
from gmnet.model import cpts as _cpts
from gmnet.model import schema, yaml_safe
from gmnet.model.checks import (
    _check_parameter,
    _check_parameters,
    _check_structure,
    _collect_parameters,
)
from gmnet.model.compiled import CompiledModel
from gmnet.model.cpts import DRAW_LABEL
from gmnet.model.expressions import (
    COMBINATION_RULES,
    ExpressionError,
)
from gmnet.model.files import validate_shape
from gmnet.model.inputs import note_input
from gmnet.model.parameters import Parameter
from gmnet.model.sizes import size_problems

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Network", "load_network", "network_from_dict", "validate_file", "bundled_networks",
           "NETWORKS_DIR", "DEFAULT_NETWORK", "MAX_FILE_BYTES"]

NETWORKS_DIR = Path(__file__).resolve().parent.parent.parent / "networks"
DEFAULT_NETWORK = "goal_misgeneralization"
MAX_FILE_BYTES = yaml_safe.MAX_FILE_BYTES
# other tools' formats, read through gmnet.io.formats (BIF, XMLBIF, NET, XDSL, DSL, DNE, UAI)
FOREIGN_EXTENSIONS = (".bif", ".xml", ".xmlbif", ".bifxml", ".net", ".xdsl", ".dsl", ".dne",
                      ".uai")
SUM_TOLERANCE = 1e-9


class Network:
    """A loaded network: its structure, parameters and compiled CPTs. Never mutated.

    Build one with :func:`load_network`. Transforms (:meth:`with_parameters`,
    :meth:`with_rule`) return new networks.
    """

    def __init__(self, spec: schema.NetworkFile, *, path: str = "<memory>",
                 parameters: Mapping[str, Parameter] | None = None):
        self._spec = spec
        self.path = path
        self.name = spec.name
        self.title = spec.title or spec.name
        self.description = spec.description
        self.rule = spec.settings.combination_rule
        problems: list[str] = []
        self._parameters = dict(parameters) if parameters is not None else _collect_parameters(
            spec, problems)
        order = _check_structure(spec, problems)
        if not problems:  # before any table is built
            problems += size_problems({v: n.states for v, n in spec.nodes.items()},
                                      {v: n.parents for v, n in spec.nodes.items()})
        if problems:
            raise NetworkFileError(path, problems)
        assert order is not None  # a cycle is one of _check_structure's problems
        self.variables: tuple[str, ...] = order
        _check_parameters(spec, self._parameters, problems)
        if problems:
            raise NetworkFileError(path, problems)
        try:
            cpts = self._build_cpts(self._point_values(), problems)
        except ExpressionError as exc:  # pragma: no cover - caught per node below
            problems.append(str(exc))
            cpts = None
        if problems:
            raise NetworkFileError(path, problems)
        self._compiled = CompiledModel(
            self.variables,
            {v: tuple(spec.nodes[v].states) for v in self.variables},
            {v: tuple(spec.nodes[v].parents) for v in self.variables},
            cpts,
        )

    # ----------------------------------------------------------------- structure
    @property
    def spec(self) -> schema.NetworkFile:
        return self._spec

    @property
    def nodes(self) -> Mapping[str, schema.NodeSpec]:
        return MappingProxyType(dict(self._spec.nodes))

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        return MappingProxyType(self._parameters)

    @property
    def compiled(self) -> CompiledModel:
        return self._compiled

    @property
    def metadata(self) -> dict:
        return dict(self._spec.metadata)

    def states(self, variable: str) -> tuple[str, ...]:
        return tuple(self.node(variable).states)

    def parents(self, variable: str) -> tuple[str, ...]:
        return tuple(self.node(variable).parents)

    def children(self, variable: str) -> tuple[str, ...]:
        self.node(variable)
        return tuple(v for v in self.variables if variable in self._spec.nodes[v].parents)

    def node(self, variable: str) -> schema.NodeSpec:
        if variable not in self._spec.nodes:
            raise UnknownNameError("variable", variable, self.variables)
        return self._spec.nodes[variable]

    def check_state(self, variable: str, state: str) -> int:
        """Index of ``state`` of ``variable``, or an error naming the valid states."""
        states = self.states(variable)
        if state not in states:
            raise UnknownNameError("state", state, states, context=f"for {variable}")
        return states.index(state)

    def cpt(self, variable: str) -> np.ndarray:
        """The point-value CPT of ``variable``: shape (*parent cards, card)."""
        self.node(variable)
        return np.array(self._compiled.cpts[variable][0])

    def table(self, variable: str):
        """The point-value CPT of ``variable`` as a labelled pandas DataFrame: one row per
        combination of parent states, one column per state; ``.attrs["formula"]`` holds how
        the network file defines it (see :mod:`gmnet.model.tables`). Needs pandas."""
        from gmnet.model.tables import cpt_frame

        return cpt_frame(self, variable)

    def parameter(self, name: str) -> Parameter:
        if name not in self._parameters:
            raise UnknownNameError("parameter", name, sorted(self._parameters))
        return self._parameters[name]

    def graph(self) -> nx.DiGraph:
        return self._compiled.graph()

    def __repr__(self) -> str:
        return (f"<Network {self.name!r}: {len(self.variables)} nodes, "
                f"{len(self._parameters)} parameters, rule={self.rule}>")

    # ----------------------------------------------------------------- queries
    def query(self, target: str, evidence: Mapping[str, str] | None = None,
              do: Mapping[str, str] | None = None, *, engine: str = "einsum",
              scenario: str | list[str] | tuple[str, ...] | None = None,
              worldview: str | None = None, soft=None) -> dict[str, float]:
        """P(target | evidence, do(...)) as a mapping state -> probability: the plain network
        operation.

        Nothing is held: nodes the question does not mention follow the network's priors (the
        ``prior`` context policy). :func:`gmnet.ask` asks the way the command line does, with
        the ``baseline`` policy by default and every assumption stated (docs/context.md).

        ``worldview`` and ``scenario`` (a name or several, see docs/scenarios.md) are applied
        first; a scenario's evidence joins ``evidence`` and gives way to ``do``. ``soft`` adds
        soft evidence: likelihoods or fixed marginals, e.g. ``"P(capability_level=superhuman)
        =0.3"`` (see docs/why.md); the network is not changed by it.

        >>> net = load_network()
        >>> round(net.query("harm", evidence={"shift_type": "extreme"})["yes"], 4)
        0.2244
        """
        # The model layer's one upward import (docs/architecture.md): the headline method
        # forwards to the one question path, with nothing held.
        from gmnet.analysis.ask import answer
        from gmnet.model.question import Question

        if not isinstance(target, str):
            raise UnknownNameError("variable", str(target), self.variables, context="as target")
        scenarios = () if scenario is None else scenario
        question = Question(target, None, {} if evidence is None else evidence,
                            {} if do is None else do, scenarios, worldview, "prior",
                            soft=soft or ())
        return answer(self, question, engine=engine).distribution

    # ----------------------------------------------------------------- transforms
    def with_parameters(self, overrides: Mapping[str, Any]) -> Network:
        """A new network with some numbers replaced.

        ``overrides`` maps a parameter name to a number or to a mapping with ``value`` and
        optionally ``range`` and ``source``.
        """
        if not isinstance(overrides, Mapping):
            raise InvalidArgumentError(
                "overrides must be a mapping parameter name -> number or {value, range, source}"
                f", got {type(overrides).__name__}")
        params = dict(self._parameters)
        problems = []
        for name, new in overrides.items():
            if name not in params:
                raise UnknownNameError("parameter", str(name), sorted(params))
            old = params[name]
            where = f"override of {name}"
            if isinstance(new, Mapping):
                unknown = sorted(set(map(str, new)) - {"value", "range", "source"})
                if unknown:
                    raise InvalidArgumentError(f"{where}: unknown key {unknown[0]!r}; keys: "
                                               "value, range, source")
                value = _number(new.get("value", old.value), where)
                rng = new.get("range", (old.low, old.high) if "value" not in new else None)
                if rng is not None and (isinstance(rng, str | bytes) or not hasattr(rng, "__len__")
                                        or len(rng) != 2):
                    raise InvalidArgumentError(f"{where}: range must be [low, high], got {rng!r}")
                low, high = ((None, None) if rng is None or rng[0] is None
                             else (_number(rng[0], where), _number(rng[1], where)))
                source = new.get("source")
                if source is not None and not isinstance(source, str):
                    raise InvalidArgumentError(f"{where}: source must be text, got {source!r}")
                params[name] = old.with_value(value, low, high, source)
            else:
                params[name] = old.with_value(_number(new, where), None, None)
            _check_parameter(params[name], problems, where)
        if problems:
            raise InvalidArgumentError("; ".join(problems))
        return Network(self._spec, path=self.path, parameters=params)

    def with_rule(self, rule: str) -> Network:
        """A new network combining modifiers by ``rule``.

        ``"expanded_formula"`` (the bundled network's default: the modifiers scale the product,
        as the document's expanded formulation writes it), ``"relative_risk"`` (each factor
        scaled and capped at 1 on its own) or ``"odds_ratio"`` (each factor's odds scaled);
        :func:`gmnet.model.expressions.split_factors` gives the arithmetic.
        """
        if rule not in COMBINATION_RULES:
            raise UnknownNameError("combination rule", rule, COMBINATION_RULES)
        spec = self._spec.model_copy(
            update={"settings": schema.Settings(combination_rule=rule)}
        )
        return Network(spec, path=self.path, parameters=self._parameters)

    # ----------------------------------------------------------------- batched CPTs
    def _point_values(self) -> dict[str, np.ndarray]:
        return {n: np.array([p.value]) for n, p in self._parameters.items()}

    def compile(self, values: Mapping[str, np.ndarray] | None = None, *,
                restrict: Mapping[str, int | Sequence[int]] | None = None,
                nodes: Iterable[str] | None = None) -> CompiledModel:
        """A compiled model for N parameter draws.

        ``values`` maps parameter names to arrays of shape (N,); names left out keep their
        point value. Used by the uncertainty and sensitivity analyses.

        ``restrict`` maps a variable to the index (or indices) of the states to keep: every CPT
        is then built on those states of that variable only, and the model's ``states`` list
        only them. The result is exactly the matching slice of the full CPTs (calibrated-route
        nodes included), at a fraction of the memory: a query that observes or sets a variable
        never needs the other states. ``nodes`` limits which CPTs are built (default: all);
        the model's ``variables`` are then those nodes.

        >>> net = load_network()
        >>> full = net.compile({"route_share": np.array([0.6, 0.9])})
        >>> part = net.compile({"route_share": np.array([0.6, 0.9])},
        ...                    restrict={"spec_quality": 2}, nodes=["learned_objective"])
        >>> bool(np.allclose(part.cpts["learned_objective"],
        ...      full.cpts["learned_objective"][:, :, :, 2:3], atol=1e-15))
        True
        """
        if not values and restrict is None and nodes is None:
            return self._compiled
        full, selection, only = self._prepare(values, restrict, nodes)
        problems: list[str] = []
        cpts = self._build_cpts(full, problems, check=False, restrict=selection, only=only)
        if problems:
            raise InvalidArgumentError("; ".join(problems))
        variables = self.variables if only is None else tuple(
            v for v in self.variables if v in only)
        states = {v: tuple(self._compiled.states[v][i] for i in selection[v])
                  if v in selection else self._compiled.states[v] for v in self.variables}
        return CompiledModel(variables, states,
                             {v: self._compiled.parents[v] for v in variables}, cpts)

    def _prepare(self, values, restrict, nodes):
        """Checked inputs of :meth:`compile`: every parameter's draws, the selection, nodes."""
        full = self._point_values()
        lengths = {name: np.asarray(arr).reshape(-1).shape[0]
                   for name, arr in (values or {}).items()}
        n = max(lengths.values(), default=1)
        for name, arr in (values or {}).items():
            if name not in self._parameters:
                raise UnknownNameError("parameter", name, sorted(self._parameters))
            if lengths[name] not in (1, n):
                raise InvalidArgumentError(
                    f"values: {name} has {lengths[name]} draws but others have {n}; give every "
                    "parameter the same number of draws (or one)")
            full[name] = np.asarray(arr, dtype=float).reshape(-1)
        # numbers with one value stay of length 1 and broadcast against the N draws
        selection = self._selection(restrict)
        only = None
        if nodes is not None:
            only = set(nodes)
            for v in only:
                self.node(v)
        return full, selection, only

    def _selection(self, restrict) -> dict[str, tuple[int, ...]]:
        """``restrict`` checked: variable -> sorted tuple of kept state indices."""
        selection: dict[str, tuple[int, ...]] = {}
        for var, kept in (restrict or {}).items():
            card = len(self.states(var))
            indices = [kept] if isinstance(kept, int | np.integer) else list(kept)
            if not indices or any(isinstance(i, bool) or not isinstance(i, int | np.integer)
                                  or not 0 <= i < card for i in indices):
                raise InvalidArgumentError(
                    f"restrict: {var} needs state indices in 0..{card - 1} "
                    f"({', '.join(self.states(var))}), got {kept!r}")
            selection[var] = tuple(sorted({int(i) for i in indices}))
        return selection

    def parameters_for(self, variables: Iterable[str], *,
                       restrict: Mapping[str, int | Sequence[int]] | None = None) -> set[str]:
        """The parameters the CPTs of ``variables`` read, with ``restrict`` as in :meth:`compile`.

        A parameter left out cannot change those CPTs: sampling only these is enough.

        >>> sorted(load_network().parameters_for(["capability_transfer"],
        ...                                      restrict={"shift_type": 3}))
        ['p_capability_transfer.extreme']
        """
        selection = self._selection(restrict)
        return self._parameters_for(set(variables), selection)

    def compile_factors(self, values: Mapping[str, np.ndarray] | None = None, *,
                        restrict: Mapping[str, int | Sequence[int]] | None = None,
                        nodes: Iterable[str] | None = None, fused: bool | None = None,
                        grouped: tuple | None = None, routed: dict | None = None
                        ) -> list[tuple[np.ndarray, tuple[str, ...]]]:
        """The CPTs of ``nodes`` as factors for a batched contraction, draws on the LAST axis.

        Returns (array, labels) pairs: one per node, labelled ``(*parents, node, DRAW)``, except
        for calibrated-route nodes, which come as three factors sharing a hidden index
        ``"<node>:route"``: ``U[k, node]``, ``V[k, others]`` and ``W[k, route parents]`` with
        ``CPT = sum_k U * V * W`` (the CPT is affine in the route indicator;
        :func:`gmnet.model.cpts._route_factors`). The three are exact and far smaller than the
        CPT, whose grid multiplies every parent. Arguments as in
        :meth:`compile`; the draw axis label is
        :data:`gmnet.model.cpts.DRAW_LABEL`. Used by the batched engine, which says with
        ``fused`` where compiled loops may build them (:func:`gmnet.model.cpts.build_last`).
        ``grouped``: :meth:`grouped_values` of these same ``values``, when the caller has it.
        ``routed``: calibrated-route node -> a dict for the pieces of its V factor, which is
        then left out (:func:`gmnet.model.cpts.build_last`).
        """
        full, selection, only = self._prepare(values, restrict, nodes)
        problems: list[str] = []
        factored: dict[str, list] = {}
        built = self._build_last(full, problems, check=False, restrict=selection, only=only,
                                 shared=True, factored=factored, fused=fused, grouped=grouped,
                                 routed=routed)
        if problems:
            raise InvalidArgumentError("; ".join(problems))
        out: list[tuple[np.ndarray, tuple[str, ...]]] = []
        for v in self.variables:
            if v in built:
                out.append((built[v], (*self._compiled.parents[v], v, DRAW_LABEL)))
            elif v in factored:
                out.extend(factored[v])
        return out

    def grouped_values(self, values: Mapping[str, np.ndarray] | None = None) -> tuple:
        """(scalars, groups) of ``values`` (every parameter, point values for those left out)
        as the CPT expressions read them: scalar name -> (N,) array, group -> (keys, (N, keys)
        array)."""
        full, _, _ = self._prepare(values, None, None)
        return _cpts.group_values(self.spec, self._parameters, full)

    def _parameters_for(self, variables: set[str], selection) -> set[str]:
        return _cpts.parameters_for(self, variables, selection)

    def _build_cpts(self, values: Mapping[str, np.ndarray], problems: list[str], **kw):
        return _cpts.build_cpts(self, values, problems, **kw)

    def _build_last(self, values: Mapping[str, np.ndarray], problems: list[str], **kw):
        return _cpts.build_last(self, values, problems, **kw)



def _number(value: Any, where: str) -> float:
    """A real number from an override, or an error naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidArgumentError(f"{where}: expected a number, got {value!r}")
    return float(value)


# ============================================================================ loading
def bundled_networks() -> list[str]:
    """Names of the networks shipped in ``networks/``."""
    return sorted(p.stem for p in NETWORKS_DIR.glob("*.yaml")
                  if not p.stem.startswith(("scenarios", "worldviews")))


def _resolve(path_or_name: str | Path | None) -> Path:
    if path_or_name is None:
        path_or_name = DEFAULT_NETWORK
    text = str(path_or_name)
    candidate = Path(text)
    if (candidate.suffix in (".yaml", ".yml") or candidate.suffix.lower() in FOREIGN_EXTENSIONS
            or "/" in text or "\\" in text or candidate.exists()):
        if candidate.is_dir():
            raise InvalidArgumentError(
                f"{text} is a folder; name a network file in it (.yaml, or one of "
                f"{', '.join(sorted(FOREIGN_EXTENSIONS))}) or a bundled network: "
                + ", ".join(bundled_networks()))
        if not candidate.is_file():
            raise UnknownNameError("network file", text, bundled_networks(),
                                   context="(no such file; bundled networks are)")
        return candidate
    if text not in bundled_networks():
        raise UnknownNameError("network", text, bundled_networks())
    return NETWORKS_DIR / f"{text}.yaml"


def read_yaml(path: Path) -> Any:
    """Read a YAML data file safely and within bounds: see :mod:`gmnet.model.yaml_safe`."""
    return yaml_safe.read_yaml(path)


def network_from_dict(data: Any, *, path: str = "<memory>") -> Network:
    """Validate ``data`` (the parsed contents of a network file) and build a Network."""
    spec = validate_shape(data, schema.NetworkFile, path=path,
                          labels={"nodes": "node", "parameters": "parameter"},
                          top_level="'name' and 'nodes'")
    return Network(spec, path=path)


def load_network(path_or_name: str | Path | None = None, *,
                 format: str | None = None) -> Network:  # noqa: A002 - the domain's word
    """Load a network: a bundled one by name (default: the goal-misgeneralization network) or a
    gmnet YAML file by path. Validates the whole file and reports every problem at once.
    Files of other tools (by extension, or any file with ``format=``: bif, xmlbif, net, xdsl,
    dsl, dne, uai) are imported: see :func:`gmnet.io.formats.import_network`.
    """
    path = _resolve(path_or_name)
    note_input(path, with_sidecar=format is not None or path.suffix.lower() in FOREIGN_EXTENSIONS)
    if format is not None or path.suffix.lower() in FOREIGN_EXTENSIONS:
        return _foreign("load")(path, format=format)
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns, str(path))


#: How other tools' files are read. The io layer registers its importer here when it is
#: imported (gmnet.io.importer), so the model layer reads them without importing io: the
#: dependency points down, io -> model (docs/architecture.md).
FOREIGN_READERS: dict[str, Callable[..., Network]] = {}


def register_foreign_readers(*, load: Callable[..., Network],
                             validate: Callable[..., Network]) -> None:
    """Called by the io layer: ``load(path, format=)`` (cached) and ``validate(path)``."""
    FOREIGN_READERS.update(load=load, validate=validate)


def _foreign(kind: str) -> Callable[..., Network]:
    # importing any part of gmnet imports the package, which imports io: always registered
    return FOREIGN_READERS[kind]


_CACHE: dict[tuple[str, int], Network] = {}


def _load_cached(resolved: str, mtime: int, shown: str) -> Network:
    key = (resolved, mtime)
    if key not in _CACHE:
        _CACHE[key] = network_from_dict(read_yaml(Path(shown)), path=shown)
    return _CACHE[key]


def validate_file(path: str | Path) -> Network:
    """Load and validate a network file; raises NetworkFileError listing every problem."""
    note_input(path, with_sidecar=Path(path).suffix.lower() in FOREIGN_EXTENSIONS)
    if Path(path).suffix.lower() in FOREIGN_EXTENSIONS:
        return _foreign("validate")(path)
    return network_from_dict(read_yaml(Path(path)), path=str(path))
