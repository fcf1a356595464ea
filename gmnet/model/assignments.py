"""Names of a question checked against a network: evidence and do() as state indices.

One check for every surface (the engines, the question path, the exporters): an unknown
variable or state is a GmnetError naming the valid choices, and a variable both observed and
intervened on is refused.

>>> import gmnet
>>> resolve_query(gmnet.load_network(), {"shift_type": "extreme"}, {"spec_quality": "low"})
({'shift_type': 3}, {'spec_quality': 2})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gmnet.errors import InvalidArgumentError, UnknownNameError

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["resolve_assignments", "resolve_query"]


def resolve_assignments(network: Network, assignments: Mapping[str, str] | None, *,
                        what: str) -> dict[str, int]:
    """Check variable and state names; map each variable to its state index."""
    resolved: dict[str, int] = {}
    if assignments is None:
        return resolved
    if not isinstance(assignments, Mapping):
        raise InvalidArgumentError(f"{what} must be a mapping variable -> state, got "
                                   f"{type(assignments).__name__}")
    for var, state in assignments.items():
        if var not in network.variables:
            raise UnknownNameError("variable", str(var), network.variables, context=f"in {what}")
        if not isinstance(state, str):
            raise InvalidArgumentError(
                f"{what}: the state of {var} must be a string, one of: "
                f"{', '.join(network.states(var))}; got {state!r}")
        resolved[var] = network.check_state(var, state)
    return resolved


def resolve_query(network: Network, evidence: Mapping[str, str] | None,
                  do: Mapping[str, str] | None) -> tuple[dict[str, int], dict[str, int]]:
    """Evidence and do() checked (names, states, no variable in both) as state indices."""
    ev = resolve_assignments(network, evidence, what="evidence")
    dd = resolve_assignments(network, do, what="do()")
    both = sorted(set(ev) & set(dd))
    if both:
        raise InvalidArgumentError(
            f"{both[0]} is both observed and intervened on; give it in evidence or in do(), "
            "not both")
    return ev, dd
