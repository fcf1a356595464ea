"""Fixing a Critical Unknown: ``--unknown interpretability_feasibility=fails``.

The source document's Critical Unknowns (:data:`gmnet.analysis.uncertainty.CRITICAL_UNKNOWNS`)
are drawn in uncertainty runs. A user who wants to reason under one resolution fixes it: the
numbers it acts on take that resolution's values (source "set by you: ..."), and uncertainty runs
stop drawing it. States:

- an unknown that succeeds or fails (interpretability feasibility): ``succeeds`` keeps the
  network's numbers, ``fails`` sets them to the fallback (1.0x: no effect);
- an unknown that scales (LLM vs RL generalization): a factor, e.g. ``1.3``;
- an unknown that replaces a number (superhuman capability effects): the new value, e.g. ``0.5``.

>>> import gmnet
>>> net = fix_unknowns(gmnet.load_network(), {"interpretability_feasibility": "fails"})
>>> net.parameter("m_alignment.interpretability_verified").value
1.0
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gmnet.analysis.uncertain_inputs import CRITICAL_UNKNOWNS, CriticalUnknown, _unknown_targets
from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.model.network import Network

__all__ = ["fix_unknowns", "unknown_states", "critical_unknown"]


def critical_unknown(key: str) -> CriticalUnknown:
    """The Critical Unknown named ``key``."""
    for u in CRITICAL_UNKNOWNS:
        if u.key == key:
            return u
    raise UnknownNameError("critical unknown", str(key), [u.key for u in CRITICAL_UNKNOWNS])


def unknown_states(unknown: CriticalUnknown) -> str:
    """What a user may fix ``unknown`` to, in words."""
    if unknown.how == "succeeds":
        return "succeeds or fails"
    what = "a factor" if unknown.how == "scale" else "a value"
    return f"{what} between {unknown.low:g} and {unknown.high:g}"


def fix_unknowns(network: Network, unknowns: Mapping[str, str]) -> Network:
    """``network`` with each Critical Unknown of ``unknowns`` resolved as given."""
    if not unknowns:
        return network
    overrides: dict[str, dict] = {}
    for key, state in unknowns.items():
        unknown = critical_unknown(key)
        targets = _unknown_targets(network, unknown)
        if not targets:
            raise InvalidArgumentError(
                f"critical unknown {key} acts on none of network {network.name!r}'s numbers")
        source = f"set by you: Critical Unknown {key}={state}"
        state = str(state).strip()
        if unknown.how == "succeeds":
            if state not in ("succeeds", "fails"):
                raise InvalidArgumentError(
                    f"critical unknown {key}: {state[:40]!r} is not a state; choose one of: "
                    "succeeds, fails")
            if state == "fails":
                for t in targets:
                    overrides[t] = {"value": unknown.fallback, "range": None, "source": source}
            continue
        try:
            number = float(state)
        except ValueError:
            raise InvalidArgumentError(
                f"critical unknown {key}: {state[:40]!r} is not a number; give "
                f"{unknown_states(unknown)}") from None
        if not unknown.low <= number <= unknown.high:
            raise InvalidArgumentError(
                f"critical unknown {key}: {number:g} is outside its range; give "
                f"{unknown_states(unknown)}")
        for t in targets:
            p = network.parameter(t)
            if unknown.how == "scale":
                hi = 1.0 if p.unit in ("probability", "fraction") else np.inf
                value = float(np.clip(p.value * number, 0.0, hi))
            else:
                value = number
            overrides[t] = {"value": value, "range": None, "source": source}
    return network.with_parameters(overrides)


def drawn_unknowns(include: bool | str | list[str] | tuple[str, ...],
                   fixed: Mapping[str, str]) -> bool | str | list[str] | tuple[str, ...]:
    """The Critical Unknowns an uncertainty run draws: ``include`` (all, none or some keys),
    less those the user fixed (a fixed unknown is not uncertain any more)."""
    if not fixed or include is False:
        return include
    if include is True:  # the default set
        keys = [u.key for u in CRITICAL_UNKNOWNS if getattr(u, "default", True)]
    elif include == "all":
        keys = [u.key for u in CRITICAL_UNKNOWNS]
    else:
        keys = list(include)
    return [k for k in keys if k not in fixed]
