"""PERT draws compiled: numpy's numbers, twice as fast (numba, optional).

A PERT input's draws are ``low + (high - low) * Beta(alpha, beta)``. numpy draws a Beta with
both shapes above one as two Gammas (Marsaglia and Tsang's method on its ziggurat normal), each
random number a call through the bit generator's function pointer. The loop here is numpy's
algorithm statement for statement, with numpy's PCG64 written into it: the 128-bit state in
registers (a 64 x 64 -> 128-bit multiply as LLVM's own, :func:`_mulhi`), numpy's ziggurat
tables, the same libm ``exp``, ``log`` and ``log1p``. The same numbers to the last bit, and the
generator left where numpy leaves it (``tests/test_expression_kernel.py``: a million draws at
several shapes, the tails of the ziggurat and the Gamma's second test included).

numba's own ``Generator.beta`` is the same algorithm through the function pointers: about as
fast as numpy on an Intel Xeon and 1.3x slower on an AMD EPYC; this loop 29 ns a draw against
numpy's 56-61 on the EPYC, one thread. A shape of exactly one (numpy then draws an exponential)
or at most one, another bit generator or a generator of another type, or fewer draws than
:data:`PERT_MIN_DRAWS` are numpy's, with numpy's checks and errors.
"""

from __future__ import annotations

import hashlib

import numpy as np

from gmnet.model import expression_kernel as ek

__all__ = ["pert_draws", "PERT_MIN_DRAWS", "PERT_LOADED_MIN_DRAWS", "load_if_numba_loaded"]

# fewer draws than this are numpy's (the call, and loading the loop, cost more than it saves);
# once the loop is loaded in the process, fewer than PERT_LOADED_MIN_DRAWS (a call costs
# ~20 us: 1,000 draws 58 us against numpy's 75, 2,000 draws 78 against 100)
PERT_MIN_DRAWS = 1 << 15
PERT_LOADED_MIN_DRAWS = 1 << 10

# numpy's PCG64 (XSL-RR 128/64): state = state * M + inc (mod 2^128), then the output of the
# new state; next_double is the top 53 bits of the next output over 2^53. The loop keeps the
# state in two 64-bit halves, the increment's halves fixed.
_PERT_SOURCE = '''import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

M_HI = np.uint64(2549297995355413924)
M_LO = np.uint64(4865540595714422341)
NOR_R = 3.6541528853610087963519472518
NOR_INV_R = 0.27366123732975827203338247596


@intrinsic
def _mulhi(typingctx, a, b):
    # the high half of the 128-bit product (one multiply instruction)
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(p, ir.Constant(wide, 64)), ir.IntType(64))
    return sig, codegen


@numba.njit(inline="always")
def _step(hi, lo, ihi, ilo):
    nlo = lo * M_LO
    nhi = _mulhi(lo, M_LO) + hi * M_LO + lo * M_HI
    lo2 = nlo + ilo
    hi2 = nhi + ihi + (np.uint64(1) if lo2 < nlo else np.uint64(0))
    x = hi2 ^ lo2
    rot = hi2 >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63))), hi2, lo2


@numba.njit(inline="always")
def _double(hi, lo, ihi, ilo):
    r, hi, lo = _step(hi, lo, ihi, ilo)
    # below 2^53: a signed conversion (one instruction) gives the unsigned one's value
    return np.float64(np.int64(r >> np.uint64(11))) * (1.0 / 9007199254740992.0), hi, lo


@numba.njit(inline="always")
def _normal(hi, lo, ihi, ilo, wi, ki, fi):
    # numpy's random_standard_normal
    while True:
        r, hi, lo = _step(hi, lo, ihi, ilo)
        idx = r & np.uint64(0xff)
        r >>= np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000fffffffffffff)
        x = np.float64(np.int64(rabs)) * wi[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < ki[idx]:
            return x, hi, lo
        if idx == 0:
            while True:
                u, hi, lo = _double(hi, lo, ihi, ilo)
                xx = -NOR_INV_R * np.log1p(-u)
                u, hi, lo = _double(hi, lo, ihi, ilo)
                yy = -np.log1p(-u)
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & np.uint64(1):
                        return -(NOR_R + xx), hi, lo
                    return NOR_R + xx, hi, lo
        else:
            u, hi, lo = _double(hi, lo, ihi, ilo)
            if ((fi[idx - 1] - fi[idx]) * u + fi[idx]) < np.exp(-0.5 * x * x):
                return x, hi, lo


@numba.njit(inline="always")
def _gamma(hi, lo, ihi, ilo, b, c, wi, ki, fi):
    # numpy's random_standard_gamma for a shape above one
    while True:
        while True:
            X, hi, lo = _normal(hi, lo, ihi, ilo, wi, ki, fi)
            V = 1.0 + c * X
            if V > 0.0:
                break
        V = V * V * V
        U, hi, lo = _double(hi, lo, ihi, ilo)
        if U < 1.0 - 0.0331 * (X * X) * (X * X):
            return b * V, hi, lo
        if np.log(U) < 0.5 * X * X + b * (1. - V + np.log(V)):
            return b * V, hi, lo


@numba.njit(cache=True, nogil=True)
def kernel(state, alpha, beta, low, span, out, wi, ki, fi):
    ba = alpha - 1. / 3.
    ca = 1. / np.sqrt(9 * ba)
    bb = beta - 1. / 3.
    cb = 1. / np.sqrt(9 * bb)
    hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
    for k in range(out.shape[0]):
        ga, hi, lo = _gamma(hi, lo, ihi, ilo, ba, ca, wi, ki, fi)
        gb, hi, lo = _gamma(hi, lo, ihi, ilo, bb, cb, wi, ki, fi)
        out[k] = low + span * (ga / (ga + gb))
    state[0] = hi
    state[1] = lo
    return 0
'''
_PERT_DIGEST = "pert_" + hashlib.sha256(_PERT_SOURCE.encode()).hexdigest()[:20]
_kernel = None
_TABLES: tuple | None = None
_HALF = (1 << 64) - 1


def pert_draws(rng: np.random.Generator, alpha: float, beta: float, low: float, high: float,
               n: int) -> np.ndarray | None:
    """``n`` PERT draws compiled, or None where numpy should draw them: few draws, loops
    switched off, numba not yet loaded by this process's compiled loops (importing it only to
    draw would cost more than it saves), or a case the loop does not take (the module's
    docstring). Compiled once per machine, kept on disk."""
    global _kernel
    if n < (PERT_MIN_DRAWS if _kernel is None else PERT_LOADED_MIN_DRAWS) \
            or ek.mode() == "off" or not ek._numba \
            or type(rng) is not np.random.Generator \
            or type(rng.bit_generator) is not np.random.PCG64 \
            or not (1.0 < alpha < np.inf and 1.0 < beta < np.inf):
        return None
    tables = _tables()
    if tables is None:
        return None
    if _kernel is None:
        with ek._lock:
            if _kernel is None:
                _kernel = ek._load(_PERT_SOURCE, _PERT_DIGEST)
    out = np.empty(n)
    bits = rng.bit_generator
    with bits.lock:  # as numpy draws: one thread at a time on a generator
        state = bits.state
        now = state["state"]
        halves = np.array([now["state"] >> 64, now["state"] & _HALF, now["inc"] >> 64,
                           now["inc"] & _HALF], dtype=np.uint64)
        try:
            ek._call(_kernel, halves, float(alpha), float(beta), float(low),
                     float(high - low), out, *tables)
        finally:  # Ctrl+C is raised after the call returns: the stream has moved on
            now["state"] = (int(halves[0]) << 64) | int(halves[1])
            bits.state = state
    return out


def _tables() -> tuple | None:
    """numpy's ziggurat tables for the normal (wi, ki, fi), as numba keeps them; None where this
    numba has none (numpy then draws)."""
    global _TABLES
    if _TABLES is None:
        try:
            from numba.np.random._constants import fi_double, ki_double, wi_double
        except ImportError:  # pragma: no cover - another numba
            _TABLES = ()
        else:
            _TABLES = (np.ascontiguousarray(wi_double, dtype=np.float64),
                       np.ascontiguousarray(ki_double, dtype=np.uint64),
                       np.ascontiguousarray(fi_double, dtype=np.float64))
    return _TABLES or None


def load_if_numba_loaded() -> bool:
    """Load the loop where this process has loaded numba already (a server's worker after its
    warm-up), so that its smaller runs draw with it too; True if it is loaded."""
    if ek.mode() != "off" and ek._numba:
        pert_draws(np.random.default_rng(0), 2.0, 2.0, 0.0, 1.0, PERT_MIN_DRAWS)
    return _kernel is not None
