"""A request's question resolved against its network (:class:`Asked`): what the endpoints
compute with, and what they echo (the assumptions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gmnet.analysis.ask import Resolved
from gmnet.model.network import Network
from gmnet.model.question import Question

__all__ = ["Asked"]


@dataclass
class Asked:
    """A request's question resolved against the network (the Question path)."""

    resolved: Resolved

    @property
    def network(self) -> Network:
        return self.resolved.network

    @property
    def evidence(self) -> dict[str, str]:
        return self.resolved.evidence

    @property
    def do(self) -> dict[str, str]:
        return self.resolved.do

    @property
    def question(self) -> Question:
        return self.resolved.question

    @property
    def target(self) -> str:
        return self.question.target

    @property
    def state(self) -> str:
        return self.question.state or ""

    @property
    def worldview(self) -> str | None:
        return self.question.worldview

    def parsed(self) -> Question:
        """The question as computed: its evidence (the scenarios' included) and do() (what the
        context policy held included)."""
        return self.question.replace(evidence=self.evidence, do=self.do)

    def echo(self) -> dict[str, Any]:
        p = self.resolved.provenance()
        return {"network": p["network"], "evidence": p["evidence"], "do": p["do"],
                "scenario": p["scenario"], "worldview": self.worldview, "context": p["context"],
                "held": p["held"], "assumptions": p["assumptions"]}
