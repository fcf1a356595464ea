"""What an audit returns: rows, sections, inconsistencies, the capped region, the report."""

from __future__ import annotations

from dataclasses import dataclass

from gmnet.analysis.audit.document import VERDICTS
from gmnet.analysis.audit.render import markdown, text


@dataclass(frozen=True)
class AuditRow:
    """One row of one table: document, model, verdict and the reason for it."""

    row: str
    document: str
    model: str
    verdict: str
    reason: str = ""
    document_value: object = None
    model_value: object = None

    def to_dict(self) -> dict:
        return {"row": self.row, "document": self.document, "model": self.model,
                "verdict": self.verdict, "verdict_text": VERDICTS[self.verdict],
                "reason": self.reason, "document_value": self.document_value,
                "model_value": self.model_value}


@dataclass(frozen=True)
class AuditSection:
    """One table of the document and how the model column is computed."""

    table: str
    method: str
    rows: tuple[AuditRow, ...]

    def verdicts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.verdict] = out.get(r.verdict, 0) + 1
        return out

    def row(self, label: str) -> AuditRow:
        for r in self.rows:
            if r.row == label:
                return r
        raise KeyError(f"no row {label!r} in {self.table}; rows: "
                       + ", ".join(r.row for r in self.rows))

    def to_dict(self) -> dict:
        return {"table": self.table, "method": self.method, "verdicts": self.verdicts(),
                "rows": [r.to_dict() for r in self.rows]}


@dataclass(frozen=True)
class Inconsistency:
    """A place where the document disagrees with itself, with the arithmetic that shows it."""

    key: str
    title: str
    arithmetic: str
    consequence: str

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "arithmetic": self.arithmetic,
                "consequence": self.consequence}


@dataclass(frozen=True)
class CappedRegion:
    """Where the document's formula cannot hold in its own decomposition, by shift type."""

    rows: tuple[dict, ...]
    highlight: dict
    note: str

    def to_dict(self) -> dict:
        return {"by_shift_type": list(self.rows), "highlight": self.highlight, "note": self.note}


@dataclass(frozen=True)
class AuditReport:
    network: str
    worldview: str
    rule: str
    context: dict[str, str]
    sections: tuple[AuditSection, ...]
    inconsistencies: tuple[Inconsistency, ...]
    region: CappedRegion | None

    def section(self, table: str) -> AuditSection:
        for s in self.sections:
            if s.table == table:
                return s
        raise KeyError(f"no table {table!r}; tables: " + ", ".join(s.table for s in self.sections))

    def inconsistency(self, key: str) -> Inconsistency:
        for i in self.inconsistencies:
            if i.key == key:
                return i
        raise KeyError(f"no inconsistency {key!r}; keys: "
                       + ", ".join(i.key for i in self.inconsistencies))

    def verdicts(self) -> dict[str, int]:
        out = {v: 0 for v in VERDICTS}
        for s in self.sections:
            for v, n in s.verdicts().items():
                out[v] += n
        return out

    def to_dict(self) -> dict:
        return {"network": self.network, "worldview": self.worldview, "rule": self.rule,
                "context": self.context, "verdicts": self.verdicts(),
                "sections": [s.to_dict() for s in self.sections],
                "inconsistencies": [i.to_dict() for i in self.inconsistencies],
                "capped_region": None if self.region is None else self.region.to_dict()}

    def to_markdown(self) -> str:
        return markdown(self)

    def to_text(self) -> str:
        return text(self)


    def to_frame(self):
        """Every audited row as a pandas DataFrame indexed by (table, row)."""
        from gmnet.analysis.frames import audit_frame

        return audit_frame(self)
