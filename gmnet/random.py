"""The one helper that turns a seed into a random generator; nothing uses global random state."""

from __future__ import annotations

import numpy as np

from gmnet.errors import InvalidArgumentError

__all__ = ["as_generator"]


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed, a Generator (returned as is) or None (fresh entropy).

    >>> float(as_generator(1).random()) == float(as_generator(1).random())
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer) or rng < 0:
        raise InvalidArgumentError(f"seed must be a non-negative integer, got {rng!r}")
    return np.random.default_rng(int(rng))
