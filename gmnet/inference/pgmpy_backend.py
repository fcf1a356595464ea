"""The only module that imports pgmpy: conversion to its models and its reference inference."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping

import numpy as np

from gmnet.errors import ImpossibleEvidenceError
from gmnet.model.compiled import CompiledModel

__all__ = ["to_pgmpy", "pgmpy_query"]


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

    ``model`` may already be cut by graph surgery; pgmpy only ever sees a plain network.
    """
    bn = to_pgmpy(model)
    from pgmpy.inference import VariableElimination

    named = {v: model.states[v][i] for v, i in evidence.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if named:
            joint = VariableElimination(bn).query(
                [target, *named], joint=True, show_progress=False)
            values = joint.values
            # the joint's axes follow joint.variables; pick the evidence slice
            index = []
            for var in joint.variables:
                if var == target:
                    index.append(slice(None))
                else:
                    index.append(joint.state_names[var].index(named[var]))
            unnorm = np.asarray(values[tuple(index)], dtype=float)
            names = joint.state_names[target]
        else:
            factor = VariableElimination(bn).query([target], show_progress=False)
            unnorm = np.asarray(factor.values, dtype=float)
            names = factor.state_names[target]
    total = unnorm.sum()
    if not total > 0:
        raise ImpossibleEvidenceError("the evidence has probability zero under the model")
    ordered = np.array([unnorm[names.index(s)] for s in model.states[target]])
    return ordered / total
