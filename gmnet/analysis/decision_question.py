"""The question the decision analyses ask: the user's evidence and do() at the baseline.

Every decision analysis (portfolios, value of information, break-even, bounds) asks its
question at the *baseline*: each context node the question does not mention is held by
``do()`` at the network's neutral context (``metadata.neutral_context``, see
:func:`gmnet.analysis.whatif.neutral_context`), and each mitigation not in the portfolio under
study is held off. :class:`BaselineQuestion` records what was held so that every result can
say so. Context nodes whose prior a scenario replaced are left at that prior
(``keep_priors``), as ``gmnet compare`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.inference.query import resolve_query
from gmnet.model.network import Network

__all__ = ["BaselineQuestion", "baseline_question", "mitigation_names"]

ON, OFF = "on", "off"


def mitigation_names(network: Network) -> tuple[str, ...]:
    """The network's mitigation nodes in the order of :func:`gmnet.analysis.mitigations.
    mitigations_of` (layer by layer): their order fixes the portfolio bits."""
    from gmnet.analysis.mitigations import mitigations_of

    return tuple(m.name for m in mitigations_of(network))


@dataclass(frozen=True)
class BaselineQuestion:
    """A question's evidence and do(), with the nodes the baseline held.

    ``do`` is the user's do() plus the held context (never a mitigation);
    ``held`` the context nodes held at their neutral level; ``mitigations`` the mitigation
    nodes, held off unless a portfolio switches them on (:meth:`do_for`).
    """

    target: str
    state: str
    evidence: dict[str, str]
    do: dict[str, str]
    held: dict[str, str]
    mitigations: tuple[str, ...]
    kept_priors: tuple[str, ...] = field(default=())

    def do_for(self, portfolio: Iterable[str] = ()) -> dict[str, str]:
        """do() for one portfolio: its mitigations on, every other mitigation off."""
        on = set(portfolio)
        unknown = sorted(on - set(self.mitigations))
        if unknown:
            raise UnknownNameError("mitigation", unknown[0], self.mitigations)
        return {**self.do, **{m: ON if m in on else OFF for m in self.mitigations}}

    def text(self, portfolio: Iterable[str] | None = None) -> str:
        """The question in query syntax (with the portfolio's do() when given)."""
        do = self.do if portfolio is None else self.do_for(portfolio)
        parts = [f"{k}={v}" for k, v in self.evidence.items()]
        if do:
            parts.append("do(" + ", ".join(f"{k}={v}" for k, v in do.items()) + ")")
        return f"P({self.target}={self.state}" + (" | " + ", ".join(parts) if parts else "") + ")"

    def held_text(self) -> str:
        """What the baseline held, in one line."""
        held = ", ".join(f"{k}={v}" for k, v in self.held.items())
        out = ("held at the document's baseline: " + held) if held else "no context node held"
        out += "; mitigations not in the portfolio held off"
        if self.kept_priors:
            out += "; left at a scenario's prior: " + ", ".join(self.kept_priors)
        return out

    def to_dict(self) -> dict:
        return {"target": self.target, "state": self.state, "evidence": dict(self.evidence),
                "do": {k: v for k, v in self.do.items() if k not in self.held},
                "held": dict(self.held), "mitigations_held_off_unless_in_portfolio": True,
                "kept_priors": list(self.kept_priors), "context": "baseline"}


def baseline_question(network: Network, *, target: str = "harm", state: str = "yes",
                      evidence: Mapping[str, str] | None = None,
                      do: Mapping[str, str] | None = None,
                      keep_priors: Iterable[str] = ()) -> BaselineQuestion:
    """The baseline question P(target=state | evidence, do(do, held context)).

    Neither ``evidence`` nor ``do`` may name a mitigation (the analyses set them), and evidence
    may not lie downstream of a mitigation (the portfolios would change it).

    >>> import gmnet
    >>> q = baseline_question(gmnet.load_network(), do={"shift_type": "extreme"})
    >>> q.held["spec_quality"], q.do["shift_type"]
    ('medium', 'extreme')
    """
    import networkx as nx

    from gmnet.analysis.whatif import neutral_context

    if not isinstance(target, str) or target not in network.variables:
        raise UnknownNameError("variable", str(target), network.variables, context="as target")
    network.check_state(target, state)
    ev, dd = resolve_query(network, evidence, do)
    names = mitigation_names(network)
    if target in names:
        raise InvalidArgumentError(f"the target {target} is a mitigation; choose an outcome")
    named = sorted((set(ev) | set(dd)) & set(names))
    if named:
        raise InvalidArgumentError(
            f"{named[0]} is a mitigation: the decision analyses set every mitigation "
            f"themselves (give a portfolio instead); remove it from the evidence and do(). "
            f"Mitigations: {', '.join(names)}")
    graph = network.graph()
    downstream = set().union(*(nx.descendants(graph, m) for m in names)) if names else set()
    late = sorted(v for v in ev if v in downstream)
    if late:
        raise InvalidArgumentError(
            f"cannot condition on {late[0]}: the mitigations change it, so observing it would "
            "not compare like with like; condition on context nodes, or set it with do()")
    kept = tuple(sorted(set(keep_priors)))
    for v in kept:
        if v not in network.variables:
            raise UnknownNameError("variable", str(v), network.variables, context="in keep_priors")
    ev_states = {v: network.states(v)[i] for v, i in ev.items()}
    do_states = {v: network.states(v)[i] for v, i in dd.items()}
    held = {v: s for v, s in neutral_context(network).items()
            if v not in names and v not in ev_states and v not in do_states and v not in kept}
    return BaselineQuestion(target, state, ev_states, {**do_states, **held}, held, names, kept)
