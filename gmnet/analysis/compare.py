"""Mitigation comparison on the Question path: ``gmnet compare``, the web API and the report
ask through here, so the comparison's "no mitigation" row is the answer to the same question
with every mitigation off.

>>> import gmnet
>>> from gmnet.model.question import Question
>>> result, resolved = compare_question(gmnet.load_network(), Question("harm", "yes",
...                                      {"shift_type": "extreme"}))
>>> round(result.baseline, 3), resolved.question.context
(0.277, 'baseline')
"""

from __future__ import annotations

from gmnet.analysis.ask import Resolved, resolve
from gmnet.analysis.mitigations import MitigationComparison, compare_mitigations, mitigations_of
from gmnet.errors import InvalidArgumentError
from gmnet.model.network import Network
from gmnet.model.question import Question

__all__ = ["compare_question"]


def compare_question(network: Network, question: Question) -> tuple[MitigationComparison,
                                                                      Resolved]:
    """Every mitigation portfolio for ``question`` (its target and state; its evidence, do(),
    scenarios, worldview, context policy and numbers).

    The context policy holds the non-mitigation nodes (baseline: at the document's neutral
    levels); each portfolio then sets the mitigations itself (on in it, off otherwise).
    """
    if question.states is None or question.joint:
        raise InvalidArgumentError(
            f"a comparison reduces one outcome's state, e.g. P(harm=yes); got {question.text}")
    resolved = resolve(network, question)
    net = resolved.network
    mitigations = {m.name for m in mitigations_of(net)}
    named = sorted((set(question.evidence) | set(question.do)) & mitigations)
    if named:
        raise InvalidArgumentError(
            f"{named[0]} is a mitigation: compare sets every mitigation itself; remove it from "
            f"the evidence and do(). Mitigations: {', '.join(sorted(mitigations))}")
    context_do = {k: v for k, v in resolved.do.items() if k not in mitigations}
    result = compare_mitigations(net, evidence=resolved.evidence, do=context_do,
                                 context="prior", target=question.target,
                                 state=question.states[0])
    return result, resolved
