"""The audit: every numeric table of the source document against the network, row by row.

For each row: what the document says, what the network gives and a verdict - reproduced
exactly (to the precision the document prints), within the document's range, or outside it
with the reason. Then the document's internal inconsistencies, each with its arithmetic; the
region where the document's formula cannot hold in its own decomposition; how much of goal
failure the pathway carries; and where each mitigation's reduction stays inside its band.

Modules: :mod:`~gmnet.analysis.audit.document` (the document's tables as data),
:mod:`~gmnet.analysis.audit.tables` and :mod:`~gmnet.analysis.audit.scenario_tables` (one method
per table), :mod:`~gmnet.analysis.audit.fidelity` (pathway share, intervention bands),
:mod:`~gmnet.analysis.audit.inconsistencies`, :mod:`~gmnet.analysis.audit.render`.

>>> import gmnet
>>> report = audit(gmnet.load_network())
>>> report.section("Detailed Risk Assessment by Shift Type").verdicts()
{'reproduced': 12}
"""

from gmnet.analysis.audit.core import audit
from gmnet.analysis.audit.document import RISK_RANGES, VERDICTS, DocValue, doc
from gmnet.analysis.audit.results import (
    AuditReport,
    AuditRow,
    AuditSection,
    CappedRegion,
    Inconsistency,
)

__all__ = [
    "VERDICTS",
    "RISK_RANGES",
    "AuditReport",
    "AuditRow",
    "AuditSection",
    "CappedRegion",
    "DocValue",
    "Inconsistency",
    "audit",
    "doc",
]
