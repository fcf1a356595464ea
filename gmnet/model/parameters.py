"""Parameters: every number of a network, with its point value, range and source."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Parameter"]


@dataclass(frozen=True)
class Parameter:
    """One number of a network.

    ``name`` is ``group.key`` for a number of an indexed group (``m_spec.high``) or the group's
    name for a scalar (``route_share``). ``low``/``high`` are None where no range is known.
    """

    name: str
    group: str
    key: str | None
    value: float
    low: float | None
    high: float | None
    source: str
    unit: str = "probability"
    note: str | None = None

    @property
    def ranged(self) -> bool:
        return self.low is not None and self.high is not None and self.high > self.low

    @property
    def is_assumption(self) -> bool:
        return self.source.strip().lower().startswith("assumption")

    def with_value(
        self, value: float, low: float | None = None, high: float | None = None,
        source: str | None = None,
    ) -> Parameter:
        return Parameter(self.name, self.group, self.key, float(value), low, high,
                         source or self.source, self.unit, self.note)
