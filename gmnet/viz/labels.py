"""Words for figures: readable names of a network's numbers, and the caption that says what a
figure assumed.

A figure pasted into a paper loses the command that made it, so every figure says its question
in words: the scenarios, the worldview, what is observed, what is set by do() and what is held.
:func:`figure_caption` builds that line from what the plot already knows; a caller that has the
full question (e.g. a ``Question`` object) passes its own text as ``caption=`` instead.

>>> import gmnet
>>> net = gmnet.load_network()
>>> parameter_label(net, "m_spec.medium")
'Specification-quality multiplier on goal failure: medium'
>>> parameter_label(net, "p_capability_transfer.extreme")
'P(capabilities transfer to deployment | shift type = extreme)'
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["figure_caption", "parameter_label", "wrap_label", "MAX_LABEL"]

MAX_LABEL = 110  # characters: longer descriptions are cut at a word and end with an ellipsis


def _short(description: str) -> str:
    """The first clause of a description, without asides, at most MAX_LABEL long."""
    text = " ".join(description.split())
    text = re.split(r"(?<=[a-z)%])\. ", text, maxsplit=1)[0].rstrip(".")
    # the definition, not the formula or the detail after it: "..., P(on) = ...", "...; ..."
    text = re.split(r", P\(|; |: | = ", text, maxsplit=1)[0]
    text = re.sub(r'\s+\([^()]*\)', "", text)  # (and on learning a proxy): an aside
    if len(text) > MAX_LABEL:
        text = text[:MAX_LABEL - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


def parameter_label(network: Network | None, name: str, fallback: str | None = None) -> str:
    """A readable name for the number ``name`` (``group.key`` or a scalar group).

    From the parameter group's own description (its first sentence), followed by the state it
    is indexed by (``: medium``). Names the network does not know (e.g. a Critical Unknown)
    keep ``fallback``, or the name itself.
    """
    if network is None:
        return fallback or name
    groups = network.spec.parameters
    param = network.parameters.get(name)
    group_name = param.group if param is not None else name.split(".", 1)[0]
    group = groups.get(group_name)
    if group is None or not group.description.strip():
        return fallback or name
    text = _short(group.description)
    key = param.key if param is not None else (name.split(".", 1)[1] if "." in name else None)
    if not key:
        return text
    state = key.replace("_", " ")
    index = group.index or ""
    words = [index.replace("_", " ")]
    if index in network.variables and network.node(index).label:
        words.append(network.node(index).label.lower())
    for word in words:  # "P(... | shift type)" -> "P(... | shift type = extreme)"
        at = text.lower().find(word) if word else -1
        if at >= 0:
            end = at + len(word)
            return f"{text[:end]} = {state}{text[end:]}"
    return f"{text}: {state}"


def wrap_label(text: str, width: int = 42, lines: int = 3) -> str:
    """``text`` on at most ``lines`` lines of ``width`` characters (a tick label)."""
    wrapped = textwrap.wrap(text, width)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][:width - 1].rstrip() + "…"
    return "\n".join(wrapped) or text


def _pairs(values: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def figure_caption(network: Network | None = None, *,
                   evidence: Mapping[str, str] | None = None,
                   do: Mapping[str, str] | None = None,
                   held: Mapping[str, str] | None = None,
                   scenarios: Iterable[str] | None = None, worldview: str | None = None,
                   note: str | None = None) -> str:
    """One line saying what a figure assumed: scenarios, worldview, evidence, do(), held nodes.

    Parameters
    ----------
    network
        The network the figure was computed on: its metadata supplies the scenarios and the
        worldview when they are not given, and its roles sort held mitigations out.
    evidence, do
        What the question observes and sets.
    held
        Nodes held by do() that the question itself did not mention (e.g. the neutral context
        and every mitigation off), reported apart from ``do``.
    note
        A last sentence (e.g. how many parameter draws).

    >>> figure_caption(None, evidence={"spec_quality": "low"}, do={"ai_control": "on"},
    ...                scenarios=["autonomous_agents"])
    'Scenario: autonomous_agents. Observed: spec_quality=low. Set by do(): ai_control=on.'
    """
    meta = network.metadata if network is not None else {}
    names = list(scenarios) if scenarios is not None else list(meta.get("scenarios") or [])
    view = worldview if worldview is not None else meta.get("worldview")
    parts = []
    if names:
        parts.append(("Scenarios: " if len(names) > 1 else "Scenario: ") + " + ".join(names))
    if view:
        parts.append(f"Worldview: {view}")
    if evidence:
        parts.append("Observed: " + _pairs(evidence))
    if do:
        parts.append("Set by do(): " + _pairs(do))
    if held:
        held = dict(held)
        mitigations = {}
        if network is not None:
            mitigations = {k: v for k, v in held.items()
                           if k in network.variables and network.node(k).role == "mitigation"}
        rest = {k: v for k, v in held.items() if k not in mitigations}
        states = set(mitigations.values())
        text = []
        if rest:
            text.append(_pairs(rest))
        if len(states) == 1 and len(mitigations) > 2:
            named = network is not None and any(
                k in network.variables and network.node(k).role == "mitigation"
                for k in (do or {}))
            text.append(f"every {'other ' if named else ''}mitigation {states.pop()}")
        elif mitigations:
            text.append(_pairs(mitigations))
        parts.append("Held by do(): " + "; ".join(text))
    if note:
        parts.append(note.rstrip("."))
    return ". ".join(parts) + "." if parts else ""
