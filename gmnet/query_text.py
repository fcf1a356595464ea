"""The text form of a query (kept for old imports): see :mod:`gmnet.model.question`.

``ParsedQuery`` is :class:`gmnet.model.question.Question` and ``parse_query`` its parser.

>>> parse_query("P(harm=yes | shift_type=extreme, do(spec_quality=low))").do
{'spec_quality': 'low'}
"""

from __future__ import annotations

from gmnet.model.question import Question as ParsedQuery
from gmnet.model.question import parse_question as parse_query

__all__ = ["ParsedQuery", "parse_query"]
