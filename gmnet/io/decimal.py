"""Numbers in files: the shortest decimal that reads back as the same float."""

from __future__ import annotations

import numpy as np

__all__ = ["exact_decimal"]


def exact_decimal(x: float) -> str:
    """The shortest positional decimal that reads back as exactly ``x`` (no exponent).

    >>> exact_decimal(0.1), exact_decimal(1e-7)
    ('0.1', '0.0000001')
    """
    return np.format_float_positional(float(x), unique=True, trim="0")
