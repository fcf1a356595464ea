"""The only module that imports pgmpy: conversion to its models and its reference inference."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping

import numpy as np

from gmnet.errors import ImpossibleEvidenceError
from gmnet.model.compiled import CompiledModel

__all__ = ["to_pgmpy", "pgmpy_query", "from_pgmpy", "parse_model_text", "model_file_text",
           "classic_model", "exact_decimal", "pgmpy_reference_query", "PGMPY_FORMATS",
           "CLASSIC_NETWORKS"]


def _import_pgmpy():
    """Import pgmpy quietly (its import emits deprecation warnings of its own)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgmpy.inference
        import pgmpy.models  # noqa: F401
    return pgmpy


def to_pgmpy(model: CompiledModel, draw: int = 0):
    """A pgmpy ``DiscreteBayesianNetwork`` of one draw of ``model``."""
    _import_pgmpy()
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    logging.getLogger("pgmpy").setLevel(logging.ERROR)
    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(model.variables)
    bn.add_edges_from((p, v) for v in model.variables for p in model.parents[v])
    cpds = []
    for v in model.variables:
        parents = list(model.parents[v])
        arr = np.asarray(model.cpts[v][draw], dtype=float)
        card = model.card(v)
        values = arr.reshape(-1, card).T  # (card, product of parent cards), last parent fastest
        state_names = {v: list(model.states[v])}
        state_names.update({p: list(model.states[p]) for p in parents})
        cpds.append(TabularCPD(
            v, card, values,
            evidence=parents or None,
            evidence_card=[model.card(p) for p in parents] or None,
            state_names=state_names,
        ))
    bn.add_cpds(*cpds)
    return bn


def pgmpy_query(model: CompiledModel, target: str, evidence: Mapping[str, int]) -> np.ndarray:
    """P(target | evidence) by pgmpy's variable elimination on (a draw of) ``model``.

    ``model`` may already be cut by graph surgery; pgmpy only ever sees a plain network. Each
    observed variable's table is first rescaled (:func:`_likelihoods_rescaled`), so that
    pgmpy's plain products do not underflow where the answer itself is representable.
    """
    bn = to_pgmpy(_likelihoods_rescaled(model, evidence))
    from pgmpy.inference import VariableElimination

    named = {v: model.states[v][i] for v, i in evidence.items()}
    engine = VariableElimination(bn)
    # pgmpy prunes what is d-separated from the target before it conditions, so it does not
    # notice contradictory evidence there; check P(evidence) > 0 by the chain rule,
    # P(e1) P(e2 | e1) ..., one small query per observed variable (never their joint table)
    seen: dict[str, str] = {}
    for var, state in named.items():
        if not _pgmpy_distribution(engine, var, seen).get(state, 0.0) > 0.0:
            raise ImpossibleEvidenceError("the evidence has probability zero under the model")
        seen[var] = state
    dist = _pgmpy_distribution(engine, target, named)
    ordered = np.array([dist.get(s, np.nan) for s in model.states[target]])
    if not np.all(np.isfinite(ordered)) or not ordered.sum() > 0:
        raise ImpossibleEvidenceError("the evidence has probability zero under the model")
    return ordered / ordered.sum()


def _likelihoods_rescaled(model: CompiledModel, evidence: Mapping[str, int]) -> CompiledModel:
    """``model`` with each observed variable's probability of its observed state divided by its
    largest value over the parent configurations (the other states scaled to keep each row
    summing to 1). Conditioned on the evidence, every posterior is unchanged (each likelihood
    is multiplied by a constant), but a likelihood of 1e-300 next to 1e-290 becomes 1e-10 next
    to 1: pgmpy's products then stay far from the floor of double precision."""
    cpts = dict(model.cpts)
    for var, state in evidence.items():
        table = np.array(model.cpts[var], dtype=float)
        seen = table[..., state]
        top = seen.max()
        if not 0.0 < top < 1.0:
            continue
        scaled = seen / top
        rest = 1.0 - seen
        factor = np.divide(1.0 - scaled, rest, out=np.zeros_like(rest), where=rest > 0)
        table = table * factor[..., None]
        table[..., state] = scaled
        cpts[var] = table
    return CompiledModel(model.variables, model.states, model.parents, cpts, model.intervened)


def _pgmpy_distribution(engine, variable: str, evidence: Mapping[str, str]) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        factor = engine.query([variable], evidence=dict(evidence) or None, show_progress=False)
    names = factor.state_names[variable]
    return {name: float(v) for name, v in zip(names, np.asarray(factor.values), strict=True)}


# ============================================================================ files
# Readers and writers of the formats pgmpy handles (BIF, XMLBIF, Hugin NET, GeNIe XDSL). gmnet.io
# calls these; it never sees a pgmpy object. Values are written with the shortest decimal that
# reads back as the same float, so a round trip is exact.
PGMPY_FORMATS = ("bif", "xmlbif", "net", "xdsl")
CLASSIC_NETWORKS = ("asia", "cancer", "earthquake", "sachs", "survey", "alarm", "barley",
                    "child", "insurance", "mildew", "water", "hailfinder", "hepar2", "win95pts")


def exact_decimal(x: float) -> str:
    """The shortest positional decimal that reads back as exactly ``x`` (no exponent)."""
    return np.format_float_positional(float(x), unique=True, trim="0")


def from_pgmpy(bn) -> CompiledModel:
    """A :class:`CompiledModel` (one draw) from a pgmpy ``DiscreteBayesianNetwork``.

    Each CPT's parent axes follow the CPD's evidence order and every axis follows the states in
    the order the variable's own CPD lists them, whatever order the file used inside other CPDs.
    """
    import networkx as nx

    cpds = {str(c.variable): c for c in bn.get_cpds()}
    nodes = [str(v) for v in bn.nodes()]
    missing = [v for v in nodes if v not in cpds]
    if missing:
        raise ValueError("no probability table for " + ", ".join(missing))
    states = {v: tuple(str(s) for s in cpds[v].state_names[cpds[v].variable]) for v in nodes}
    parents: dict[str, tuple[str, ...]] = {}
    tables: dict[str, np.ndarray] = {}
    for v in nodes:
        cpd = cpds[v]
        names = [str(x) for x in cpd.variables]
        parents[v] = tuple(names[1:])
        arr = np.asarray(cpd.values, dtype=float).reshape(cpd.cardinality)
        for axis, var in enumerate(names):
            own = [str(s) for s in cpd.state_names[cpd.variables[axis]]]
            if var not in states:
                raise ValueError(f"the table of {v} refers to unknown variable {var}")
            if sorted(own) != sorted(states[var]):
                raise ValueError(f"the table of {v} lists states {own} for {var}, which has "
                                 f"{list(states[var])}")
            arr = np.take(arr, [own.index(s) for s in states[var]], axis=axis)
        tables[v] = np.moveaxis(arr, 0, -1)[None]
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((p, v) for v in nodes for p in parents[v])
    order = tuple(nx.lexicographical_topological_sort(graph, key=nodes.index))
    return CompiledModel(order, states, parents, tables)


def parse_model_text(text: str, fmt: str) -> tuple[str | None, CompiledModel]:
    """Parse a network in ``fmt`` (one of :data:`PGMPY_FORMATS`) with pgmpy's reader.

    Returns the network's name where the format stores one, and the model. Any failure of the
    reader is raised as ``ValueError`` with the reader's message.
    """
    from pgmpy import readwrite

    readers = {"bif": _cached_grammar_bif_reader_class(), "xmlbif": readwrite.XMLBIFReader,
               "net": _fast_net_reader_class(), "xdsl": readwrite.XDSLReader}
    if fmt not in readers:
        raise ValueError(f"pgmpy reads {', '.join(PGMPY_FORMATS)}, not {fmt}")
    logging.getLogger("pgmpy").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = readers[fmt](string=text)
            bn = reader.get_model()
        except Exception as exc:  # noqa: BLE001 - pgmpy's readers raise anything on bad input
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise ValueError(detail) from None
    name = getattr(bn, "name", None) or getattr(reader, "network_name", None)
    return (str(name) if name else None), from_pgmpy(bn)


def model_file_text(model: CompiledModel, fmt: str, *, name: str) -> str:
    """``model`` (draw 0) as the text of a ``fmt`` file, written by pgmpy's writer with every
    probability in full precision (see :func:`exact_decimal`)."""
    from pgmpy import readwrite

    logging.getLogger("pgmpy").setLevel(logging.ERROR)
    bn = to_pgmpy(model)
    bn.name = name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "bif":
            return str(readwrite.BIFWriter(bn))
        if fmt == "xmlbif":
            return str(readwrite.XMLBIFWriter(bn))
        if fmt == "net":
            import re

            # a root's potential is "potential (A)" in Hugin's own files, not "(A |)"
            return re.sub(r"potential \((\w+) \|\)", r"potential (\1)",
                          str(_ExactNETWriter(bn, model)))
        if fmt == "xdsl":
            return _xdsl_text(bn, model, name)
    raise ValueError(f"pgmpy writes {', '.join(PGMPY_FORMATS)}, not {fmt}")


_BIF_READER = None


def _cached_grammar_bif_reader_class():
    """pgmpy 1.1's BIFReader builds its pyparsing grammars (over every Unicode letter) anew for
    each file, 1.4 s each time; the grammars do not depend on the file, so build them once."""
    global _BIF_READER
    if _BIF_READER is None:
        from pgmpy.readwrite import BIFReader

        class CachedGrammarBIFReader(BIFReader):
            _grammars: dict = {}

            def get_variable_grammar(self):
                if "variable" not in self._grammars:
                    self._grammars["variable"] = super().get_variable_grammar()
                return self._grammars["variable"]

            def get_probability_grammar(self):
                if "probability" not in self._grammars:
                    self._grammars["probability"] = super().get_probability_grammar()
                return self._grammars["probability"]

        _BIF_READER = CachedGrammarBIFReader
    return _BIF_READER


def _fast_net_reader_class():
    import re

    from pgmpy.readwrite import NETReader

    class FastNETReader(NETReader):
        """pgmpy 1.1's NETReader with two fixes: it rescanned the whole file for every node
        while reading states (quadratic: half a minute for 25 nodes), and it split quoted state
        names at spaces. Hugin's ``%`` comments are removed first."""

        _node = re.compile(r"\bnode\s+([A-Za-z0-9_\-]+)\s*\{")
        _states = re.compile(r"\bstates\s*=\s*\(([^)]*)\)\s*;")
        _quoted = re.compile(r'"((?:[^"\\]|\\.)*)"')

        def __init__(self, string: str):
            super().__init__(string=_strip_percent_comments(string))

        def get_states(self):
            variable_states = {}
            starts = [(m.group(1), m.end()) for m in self._node.finditer(self.network)]
            for i, (name, start) in enumerate(starts):
                end = starts[i + 1][1] if i + 1 < len(starts) else len(self.network)
                found = self._states.search(self.network, start, end)
                if found is None:
                    raise ValueError(f"node {name} has no 'states = (...);'")
                variable_states[name] = self._quoted.findall(found.group(1))
            return variable_states

    return FastNETReader


def _strip_percent_comments(text: str) -> str:
    """Remove Hugin comments (``%`` to the end of the line, outside quoted strings)."""
    out = []
    for line in text.splitlines():
        quoted = False
        for i, ch in enumerate(line):
            if ch == '"':
                quoted = not quoted
            elif ch == "%" and not quoted:
                line = line[:i]
                break
        out.append(line)
    return "\n".join(out)


def _nested(arr: np.ndarray) -> str:
    if arr.ndim == 1:
        return "(" + " ".join(exact_decimal(x) for x in arr) + ")"
    return "(" + " ".join(_nested(a) for a in arr) + ")"


def _exact_net_writer_class():
    from pgmpy.readwrite import NETWriter

    class ExactNETWriter(NETWriter):
        """pgmpy 1.1's NETWriter rounds to 8 decimals; this one writes every digit."""

        def __init__(self, bn, model: CompiledModel):
            self._gmnet_model = model
            super().__init__(bn)

        def net_cpd(self, var_name):
            # Hugin's layout: parents in the listed order, the node's own states innermost
            return _nested(np.asarray(self._gmnet_model.cpts[var_name][0]))

    return ExactNETWriter


def _ExactNETWriter(bn, model):  # noqa: N802 - a factory standing in for the class
    return _exact_net_writer_class()(bn, model)


def _xdsl_text(bn, model: CompiledModel, name: str) -> str:
    """XDSL via pgmpy's writer, then exact probabilities and a deterministic layout (pgmpy places
    nodes at random positions, so two exports of one network would differ)."""
    import xml.dom.minidom as md
    import xml.etree.ElementTree as etree

    from pgmpy.readwrite import XDSLWriter

    writer = XDSLWriter(bn, network_id=name)
    for elem in writer.root.find("nodes").findall("cpt"):
        var = elem.attrib["id"]
        elem.find("probabilities").text = " ".join(
            exact_decimal(x) for x in np.asarray(model.cpts[var][0]).reshape(-1))
    depth: dict[str, int] = {}
    for v in model.variables:
        depth[v] = 1 + max((depth[p] for p in model.parents[v]), default=-1)
    column: dict[int, int] = {}
    genie = writer.root.find("extensions").find("genie")
    genie.set("app", "gmnet")
    for node in genie.findall("node"):
        var = node.attrib["id"]
        row = depth[var]
        col = column.get(row, 0)
        column[row] = col + 1
        x, y = 40 + 160 * col, 40 + 120 * row
        node.find("position").text = f"{x} {y} {x + 72} {y + 48}"
    raw = etree.tostring(writer.root, encoding="utf-8")
    return md.parseString(raw).toprettyxml(indent="    ", encoding="utf-8").decode("utf-8")


def classic_model(name: str) -> CompiledModel:
    """One of the classic networks bundled inside pgmpy's wheel (bnlearn repository BIF files),
    read from the installed package: nothing is downloaded."""
    import gzip
    from importlib.resources import files

    if name not in CLASSIC_NETWORKS:
        raise ValueError(f"unknown classic network {name!r}")
    ref = files("pgmpy") / "utils" / "example_models" / f"{name}.bif.gz"
    with ref.open("rb") as handle:
        text = gzip.decompress(handle.read()).decode("utf-8")
    return parse_model_text(text, "bif")[1]


def pgmpy_reference_query(model: CompiledModel, target: str, evidence: Mapping[str, str],
                          do: Mapping[str, str]) -> dict[str, float]:
    """P(target | evidence, do(...)) computed by pgmpy alone: its own ``do`` (graph surgery)
    and variable elimination on draw 0 of ``model``. Names, not indices. A reference for tests
    that is independent of gmnet's surgery and contraction."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import VariableElimination

        bn = to_pgmpy(model)
        if do:
            bn = bn.do(list(do))
        observed = {**dict(evidence), **dict(do)}
        factor = VariableElimination(bn).query([target], evidence=observed or None,
                                               show_progress=False)
    names = [str(s) for s in factor.state_names[target]]
    values = np.asarray(factor.values, dtype=float)
    return {s: float(values[names.index(s)]) for s in model.states[target]}
