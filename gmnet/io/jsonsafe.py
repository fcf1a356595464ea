"""Values made safe for JSON output: NaN and infinities become null (never a NaN in a file or
a response), numpy scalars become plain numbers, mapping keys become strings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["json_safe"]


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, recursively.

    >>> json_safe({"p": float("nan"), "q": [1.0, float("inf")]})
    {'p': None, 'q': [1.0, None]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str):
        return json_safe(value.item())  # numpy scalars
    return value
