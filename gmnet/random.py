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


# ============================================================================ keyed streams
# numpy's SeedSequence (numpy/random/bit_generator.pyx), written out so that many streams of
# one run, SeedSequence(entropy=base, spawn_key=(key,)) for each key, share the mixing of the
# run's entropy (the same for all of them) and each costs a few microseconds instead of ~45
# (a 2,000-draw uncertainty question of 40 inputs makes 80 of them). Tested against numpy
# word for word (tests/test_uncertainty.py).
_POOL = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_M32 = 0xFFFFFFFF


def _words(n: int) -> list[int]:
    """numpy's _int_to_uint32_array: 32-bit words, least significant first ([0] for 0)."""
    out = [n & _M32]
    n >>= 32
    while n:
        out.append(n & _M32)
        n >>= 32
    return out


def _hashmix(value: int, const: list[int]) -> int:
    value ^= const[0]
    const[0] = (const[0] * _MULT_A) & _M32
    value = (value * const[0]) & _M32
    return value ^ (value >> 16)


def _mix(x: int, y: int) -> int:
    result = (_MIX_L * x - _MIX_R * y) & _M32
    return result ^ (result >> 16)


class _Seeded(np.random.bit_generator.ISeedSequence):
    """The state words a SeedSequence would give PCG64 (``generate_state(4, uint64)``)."""

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != 4 or np.dtype(dtype) != np.dtype(np.uint64):  # pragma: no cover
            raise NotImplementedError("only PCG64's seeding")
        return self.state.copy()


def keyed_generators(base: int, keys: list[int]) -> list[np.random.Generator]:
    """``[default_rng(SeedSequence(entropy=base, spawn_key=(key,))) for key in keys]``: the
    same generators (the same streams), made faster. ``base`` >= 0 and each key in
    [0, 2**32) (a CRC-32).

    >>> g = keyed_generators(12345, [7])[0]
    >>> h = np.random.default_rng(np.random.SeedSequence(entropy=12345, spawn_key=(7,)))
    >>> bool(g.random() == h.random())
    True
    """
    entropy = _words(int(base))
    entropy += [0] * (_POOL - len(entropy))  # padded where a spawn key follows
    const = [_INIT_A]
    pool = [_hashmix(entropy[i], const) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], const))
    for word in entropy[_POOL:]:
        for dst in range(_POOL):
            pool[dst] = _mix(pool[dst], _hashmix(word, const))
    out = []
    for key in keys:
        if not 0 <= key <= _M32:  # pragma: no cover - CRC-32s
            raise ValueError(f"key {key} is not a 32-bit word")
        mixed, c = list(pool), [const[0]]
        for dst in range(_POOL):
            mixed[dst] = _mix(mixed[dst], _hashmix(key, c))
        h, state = _INIT_B, []
        for i in range(8):  # generate_state(4, uint64): 8 words, cycling over the pool
            value = mixed[i % _POOL] ^ h
            h = (h * _MULT_B) & _M32
            value = (value * h) & _M32
            state.append(value ^ (value >> 16))
        words = np.array(state, dtype="<u4").view("<u8").astype(np.uint64)
        out.append(np.random.Generator(np.random.PCG64(_Seeded(words))))
    return out
