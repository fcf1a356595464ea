"""Analysis results as pandas DataFrames: the ``to_frame()`` of every result class.

Each result class has a ``to_frame()`` that calls the function here for it, so the result
modules stay free of pandas (it is imported only when a frame is asked for). Probabilities stay
floats (0.2770, not "27.7%"): a frame is for computing with; its display is pandas'.

>>> import gmnet
>>> from gmnet.analysis.whatif import core_table
>>> frame = core_table_frame(core_table(gmnet.load_network()))
>>> round(float(frame.loc["extreme", "p_harmful_misgeneralization"]), 3)
0.277
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["audit_frame", "comparison_uncertainty_frame", "core_table_frame", "records_frame",
           "sensitivity_frame", "target_checks_frame", "uncertainty_frame", "what_if_frame"]


def _pd():
    from gmnet.model.tables import require_pandas

    return require_pandas()


def _flat(value: Any) -> Any:
    """A cell: mappings as ``k=v, ...`` text, sequences as ``a, b``; numbers unchanged."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def records_frame(records: Iterable[Mapping[str, Any]], index: str | None = None):
    """A DataFrame of flat records (nested mappings and lists become text)."""
    pd = _pd()
    frame = pd.DataFrame([{k: _flat(v) for k, v in r.items()} for r in records])
    return frame.set_index(index) if index and index in frame.columns else frame


def what_if_frame(result) -> Any:
    """One row: the question, P before and after, the absolute and relative change."""
    return records_frame([result.to_dict()])


def core_table_frame(rows) -> Any:
    """The core table: one row per shift type, the network's factors and the document's."""
    records = []
    for row in [rows] if hasattr(rows, "shift_type") else rows:
        data = {k: v for k, v in row.to_dict().items() if k != "document"}
        if row.document:
            cap, goal, harm = row.document
            data.update(document_p_capability_transfer=cap,
                        document_p_goal_fails_given_capability=goal,
                        document_p_harmful_misgeneralization=harm)
        records.append(data)
    return records_frame(records, "shift_type")


def target_checks_frame(checks) -> Any:
    """One row per calibration target: expected, model, tolerance, whether it holds."""
    checks = [checks] if hasattr(checks, "query") else list(checks)
    return records_frame([c.to_dict() for c in checks], "query")


def audit_frame(report) -> Any:
    """Every audited row of every table: document, model, verdict and reason."""
    records = []
    for section in report.sections:
        for r in section.rows:
            data = r.to_dict()
            records.append({"table": section.table, **{k: data[k] for k in (
                "row", "document", "model", "verdict", "verdict_text", "reason")}})
    return _pd().DataFrame(records).set_index(["table", "row"])


def uncertainty_frame(result, what: str = "summary") -> Any:
    """``"summary"``: point value, mean, median and quantiles (one row each);
    ``"draws"``: the answer in every draw."""
    pd = _pd()
    if what == "draws":
        return pd.DataFrame({f"P({result.target}={result.state})": result.draws})
    if what != "summary":
        from gmnet.errors import UnknownNameError

        raise UnknownNameError("table", str(what), ("summary", "draws"))
    rows = {"point values": result.point, "mean": result.mean, "median": result.median}
    if result.samples > 1:
        rows.update({f"{q:.0%} quantile": v for q, v in result.quantiles().items()})
    frame = pd.DataFrame({"value": list(rows.values())},
                         index=pd.Index(list(rows), name="statistic"))
    frame.attrs.update(query=result.query, samples=result.samples, seed=result.seed)
    return frame


def sensitivity_frame(result) -> Any:
    """One row per uncertain input: range, answer at the low and high end, swing, Sobol."""
    frame = records_frame([r.to_dict() for r in result.rows], "name")
    frame.attrs.update(query=result.query, point=result.point, samples=result.samples)
    return frame


def comparison_uncertainty_frame(result) -> Any:
    """One row per portfolio: the ``level`` interval of P(target) over paired draws."""
    pd = _pd()
    rows = [{"portfolio": name, "low": lo, "high": hi}
            for name, (lo, hi) in result.portfolios.items()]
    frame = pd.DataFrame(rows).set_index("portfolio")
    frame.attrs.update(level=result.level, samples=result.samples, seed=result.seed)
    return frame
