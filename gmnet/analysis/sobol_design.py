"""Saltelli designs for Sobol indices, made and analysed one block of base rows at a time.

The design is SALib's (``SALib.sample.sobol.sample`` with ``calc_second_order=False``): a
scrambled Sobol sequence of dimension 2d whose first d columns are the matrix A and last d the
matrix B; each base row gives the rows A, AB_1, ..., AB_d, B, where AB_i is A with column i taken
from B. :func:`base_blocks` draws it a block of base rows at a time (the same numbers as one
draw of the whole sequence), so a caller evaluates each block as it is made and keeps only the
answers, N (d + 2) numbers, whatever N is: the design itself, N (d + 2) x d numbers, is never
held.

:func:`sobol_indices` computes SALib's estimators from those answers (``SALib.analyze.sobol``:
Saltelli 2010 for the first order, Jansen for the total order, both normalised by the variance of
the A and B answers) with SALib's bootstrap intervals, drawing the same resampling indices but a
block of them at a time and keeping only how often each resample takes each base row (a byte
each, where SALib holds N x resamples indices and resampled copies of every column).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["base_blocks", "saltelli_rows", "sobol_indices", "SobolIndices", "BOOTSTRAP_BLOCK"]

EPS = float(np.finfo(float).eps)
# entries of one block of the bootstrap (8 bytes each): 2 MB
BOOTSTRAP_BLOCK = 1 << 18


def base_blocks(inputs: int, samples: int, seed: int,
                block: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The base rows of a Saltelli design, ``block`` at a time: (first row, A, B).

    ``A`` and ``B`` are (rows, inputs) arrays of uniform numbers in [0, 1): together the rows
    ``first ..`` of SALib's base sequence for ``seed`` (a scrambled Sobol sequence of dimension
    2 x ``inputs``). ``samples`` and ``block`` should be powers of 2 (Sobol's balance).
    """
    from scipy.stats import qmc

    # seed=, as SALib passes it: the same scrambling, so the same design as SALib's
    engine = qmc.Sobol(d=2 * inputs, scramble=True, seed=seed)
    block = max(1, int(block))
    for start in range(0, samples, block):
        base = engine.random(min(block, samples - start))
        yield start, base[:, :inputs], base[:, inputs:]


def saltelli_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The design rows of base rows ``a`` and ``b`` in SALib's order: for each base row A,
    AB_1, ..., AB_d, B, shape (rows (d + 2), d). For checking against SALib; the analysis
    itself never builds it."""
    n, d = a.shape
    out = np.repeat(a[:, None, :], d + 2, axis=1)
    columns = np.arange(d)
    out[:, 1 + columns, columns] = b
    out[:, -1, :] = b
    return out.reshape(-1, d)


@dataclass(frozen=True)
class SobolIndices:
    """First- and total-order indices of every input, the half-widths of their bootstrap
    intervals, and the variance of the answer (over the A and B rows)."""

    s1: np.ndarray
    s1_conf: np.ndarray
    st: np.ndarray
    st_conf: np.ndarray
    variance: float


def sobol_indices(y: np.ndarray, inputs: int, *, seed: int, num_resamples: int = 100,
                  conf_level: float = 0.95, columns: Sequence[int] | None = None,
                  block: int = BOOTSTRAP_BLOCK) -> SobolIndices:
    """SALib's first- and total-order Sobol indices with bootstrap intervals, in bounded memory.

    Parameters
    ----------
    y
        The answers of a design of N base rows in SALib's layout: N (d + 2) numbers (or an
        (N, d + 2) array), each base row's A, AB_1, ..., AB_d, B.
    inputs
        d.
    seed
        Seed of the bootstrap's resampling indices (SALib's ``seed``; a positive number).
    num_resamples, conf_level
        As SALib's.
    columns
        The inputs whose AB answers may differ from A's (default: all). The others have S1, ST
        and their intervals exactly 0, as SALib gives them, without being resampled.
    block
        Entries (8 bytes each) of one block of the bootstrap's work: its resampling indices, or
        its base rows' terms times the resamples. The numbers do not depend on it.

    Returns
    -------
    SobolIndices
        Equal to ``SALib.analyze.sobol.analyze(..., calc_second_order=False)`` with the same
        seed to rounding (about 1e-15): SALib's bootstrap draws ``rng.integers(N, size=(N,
        num_resamples))``; here the same indices are drawn a block of rows at a time and kept
        as counts, one byte per base row and resample.
    """
    from scipy.stats import norm

    d = int(inputs)
    y = np.asarray(y, dtype=float).reshape(-1, d + 2)
    n = y.shape[0]
    cols = list(range(d)) if columns is None else sorted({int(c) for c in columns})
    a_raw, b_raw = y[:, 0], y[:, -1]
    variance = float(np.var(np.r_[a_raw, b_raw]))
    zeros = np.zeros(d)
    if variance <= EPS ** 2 or np.ptp(y) <= EPS:
        return SobolIndices(zeros, zeros.copy(), zeros.copy(), zeros.copy(), 0.0)
    # SALib normalises every answer by the mean and standard deviation of all of them
    mean, std = _mean_std(y)

    def norm_(x: np.ndarray) -> np.ndarray:
        return (x - mean) / std

    a, b = norm_(a_raw), norm_(b_raw)
    s1, st = zeros.copy(), zeros.copy()
    both = np.r_[a, b]
    if np.ptp(both) > EPS:
        var = float(np.var(both))
        if var > EPS:
            for j in cols:
                ab = norm_(y[:, 1 + j])
                s1[j] = np.mean(b * (ab - a)) / var
                st[j] = 0.5 * np.mean((a - ab) ** 2) / var
    s1_conf, st_conf = zeros.copy(), zeros.copy()
    if cols and num_resamples > 0:
        boot_s1, boot_st = _bootstrap(y, cols, n, seed, num_resamples, block, norm_)
        z = norm.ppf(0.5 + conf_level / 2)
        s1_conf[cols] = z * boot_s1.std(axis=0, ddof=1)
        st_conf[cols] = z * boot_st.std(axis=0, ddof=1)
    return SobolIndices(s1, s1_conf, st, st_conf, variance)


def _mean_std(y: np.ndarray, rows: int = 1 << 12) -> tuple[float, float]:
    """Mean and (population) standard deviation of every entry, without a copy of ``y``."""
    mean = float(y.mean())
    squares = sum(float(np.sum((y[i:i + rows] - mean) ** 2)) for i in range(0, len(y), rows))
    return mean, float(np.sqrt(squares / y.size))


def _bootstrap(y: np.ndarray, cols: list[int], n: int, seed: int, resamples: int, block: int,
               norm_) -> tuple[np.ndarray, np.ndarray]:
    """(resamples, len(cols)) bootstrap estimates of S1 and ST, SALib's way: resample k takes
    the base rows ``r[:, k]`` of ``r = default_rng(seed).integers(n, size=(n, resamples))``.

    ``r`` is drawn a block of rows at a time and kept only as counts (how often resample k
    takes base row i: one byte each); every resample's sums are then one matrix product per
    block of base rows.
    """
    counts = _resample_counts(n, seed, resamples, block)
    k = len(cols)
    take = [1 + j for j in cols]
    sums = np.zeros((resamples, 4 + 2 * k))
    low, high = np.inf, -np.inf
    rows = max(1, block // (resamples + 4 + 2 * k))
    for start in range(0, n, rows):
        part = slice(start, start + rows)
        a, b = norm_(y[part, 0]), norm_(y[part, -1])
        diff = norm_(y[part, take]) - a[:, None]
        terms = np.column_stack([a, a * a, b, b * b, b[:, None] * diff, diff * diff])
        weights = counts[part]
        sums += weights.T.astype(float) @ terms
        picked = weights.any(axis=1)
        if picked.any():
            low = min(low, float(a[picked].min()), float(b[picked].min()))
            high = max(high, float(a[picked].max()), float(b[picked].max()))
    if high - low <= EPS:  # SALib: every resample's A and B constant, the estimates 0
        return np.zeros((resamples, k)), np.zeros((resamples, k))
    mean = (sums[:, 0] + sums[:, 2]) / (2 * n)
    var = ((sums[:, 1] + sums[:, 3]) / (2 * n) - mean ** 2)[:, None]
    first, second = sums[:, 4:4 + k] / n, 0.5 * sums[:, 4 + k:] / n
    ok = var > EPS
    return (np.divide(first, var, out=np.zeros_like(first), where=ok),
            np.divide(second, var, out=np.zeros_like(second), where=ok))


def _resample_counts(n: int, seed: int, resamples: int, block: int) -> np.ndarray:
    """(n, resamples) counts: how often resample k of SALib's bootstrap takes base row i."""
    step = max(1, block // resamples)
    columns = np.arange(resamples)
    # a count is about Poisson(1): one byte holds it but for odds far below 1e-300; a count
    # that overflowed shows in the column sums, and then the next size is used
    for dtype in (np.uint8, np.uint16, np.uint32):
        rng = np.random.default_rng(seed)
        counts = np.zeros((n, resamples), dtype=dtype)
        flat = counts.reshape(-1)
        for start in range(0, n, step):
            r = rng.integers(n, size=(min(step, n - start), resamples))
            np.add.at(flat, (r * resamples + columns).reshape(-1), 1)
        taken = sum(counts[i:i + step].sum(axis=0, dtype=np.int64) for i in range(0, n, step))
        if (taken == n).all():
            break
    return counts
