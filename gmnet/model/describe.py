"""Plain-text descriptions of a network: every number with its range and source."""

from __future__ import annotations

from pathlib import Path

from gmnet.model.expressions import names_used
from gmnet.model.network import NETWORKS_DIR, Network
from gmnet.model.schema import DECISION_UNITS

__all__ = ["parameters_markdown", "parameter_users"]


def parameter_users(network: Network) -> dict[str, list[str]]:
    """For each parameter group, the nodes whose CPT expressions read it."""
    users: dict[str, list[str]] = {}
    for v in network.variables:
        cpt = network.node(v).cpt
        texts: list[str] = []
        if cpt.kind in ("prior", "expression"):
            texts = [t for t in cpt.probabilities.values() if isinstance(t, str) and t != "rest"]
        elif cpt.kind == "calibrated_route":
            texts = [cpt.target, cpt.route]
            if isinstance(cpt.route_share, str):
                texts.append(cpt.route_share)
        for name in set().union(*map(names_used, texts)) if texts else set():
            users.setdefault(name, []).append(v)
    return users


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.6g}"


def parameters_markdown(network: Network) -> str:
    """A Markdown page listing every parameter: value, range, unit, source, the nodes using it."""
    users = parameter_users(network)
    path = Path(network.path)
    shown = f"networks/{path.name}" if path.resolve().parent == NETWORKS_DIR else str(path)
    lines = [
        f"# Every number of `{network.name}`",
        "",
        f"Generated from `{shown}` by `gmnet show --markdown --network {network.name}`;"
        " a test fails when this file is stale. A source that begins with \"assumption\" is ours,"
        " not the source document's.",
        "",
        "| parameter | value | range | unit | used by | source |",
        "|---|---|---|---|---|---|",
    ]
    for p in network.parameters.values():
        rng = f"{_fmt(p.low)} - {_fmt(p.high)}" if p.low is not None else ""
        used = ", ".join(f"`{v}`" for v in users.get(p.group, []))
        if not used and p.unit in DECISION_UNITS:
            used = "decisions (docs/decisions.md)"
        source = p.source.replace("|", "/") + (f" ({p.note})" if p.note else "")
        lines.append(f"| `{p.name}` | {_fmt(p.value)} | {rng} | {p.unit} | {used} | {source} |")
    assumptions = sum(p.is_assumption for p in network.parameters.values())
    lines += ["", f"{len(network.parameters)} numbers, {assumptions} of them labelled "
              "assumptions.", ""]
    return "\n".join(lines)
