"""UAI competition evidence files (``.evid``) and answer files (``MAR``, ``PR``).

Evidence: ``N  var state  var state ...`` (UAI 2014: the number of observed variables, then
their pairs of 0-based indices) or the older layout with a number of samples first (``1`` then
one such line); only one sample is read. Answers: ``MAR`` then one line ``N  c1 p.. c2 p..``
(each variable's cardinality followed by its marginal), and ``PR`` then the base-10 logarithm
of the probability of the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from gmnet.io.decimal import exact_decimal
from gmnet.io.parsed import FileFormatError

__all__ = ["parse_evidence", "mar_text", "pr_text", "parse_answer"]


def _integers(text: str, what: str) -> list[int]:
    tokens = text.split()
    bad = [t for t in tokens if not t.isdigit()]
    if bad:
        raise FileFormatError(f"{what}: {bad[0][:40]!r} is not a non-negative integer")
    return [int(t) for t in tokens]


def parse_evidence(text: str, cards: Sequence[int]) -> dict[int, int]:
    """Variable index -> state index from the text of a UAI evidence file."""
    numbers = _integers(text, "evidence file")
    if not numbers:
        return {}
    if len(numbers) == 1 + 2 * numbers[0]:
        pairs = numbers[1:]
    elif numbers[0] >= 1 and len(numbers) >= 2 and len(numbers) >= 2 + 2 * numbers[1] \
            and (numbers[0] > 1 or len(numbers) == 2 + 2 * numbers[1]):
        pairs = numbers[2:2 + 2 * numbers[1]]  # old layout: samples, then the first sample
    else:
        raise FileFormatError("evidence file: expected the number of observed variables and "
                              "that many (variable, state) pairs")
    evidence: dict[int, int] = {}
    for var, state in zip(pairs[0::2], pairs[1::2], strict=True):
        if var >= len(cards):
            raise FileFormatError(f"evidence names variable {var}; the model has {len(cards)}")
        if state >= cards[var]:
            raise FileFormatError(f"evidence gives variable {var} state {state}; it has "
                                  f"{cards[var]}")
        if var in evidence and evidence[var] != state:
            raise FileFormatError(f"evidence gives variable {var} two states")
        evidence[var] = state
    return evidence


def mar_text(marginals: Sequence[np.ndarray]) -> str:
    """The ``MAR`` answer: every variable's marginal, in the model's variable order."""
    parts = [str(len(marginals))]
    for dist in marginals:
        parts.append(str(len(dist)))
        parts.extend(exact_decimal(float(p)) if p >= 1e-12 or p == 0 else repr(float(p))
                     for p in dist)
    return "MAR\n" + " ".join(parts) + "\n"


def pr_text(log10_probability: float) -> str:
    """The ``PR`` answer: log10 P(evidence)."""
    return "PR\n" + repr(float(log10_probability)) + "\n"


def parse_answer(text: str) -> tuple[str, list[np.ndarray] | float]:
    """``("MAR", [marginal, ...])`` or ``("PR", log10 P(e))`` from a published answer file."""
    tokens = text.split()
    if not tokens or tokens[0].upper() not in ("MAR", "PR"):
        raise FileFormatError("an answer file starts with MAR or PR")
    kind, rest = tokens[0].upper(), tokens[1:]
    try:
        values = [float(t) for t in rest]
    except ValueError:
        raise FileFormatError("the answer file holds something other than numbers") from None
    if kind == "PR":
        if not values:
            raise FileFormatError("the PR answer holds no number")
        return kind, values[-1]
    for skip in (0, 1):  # the 2010 layout has a number of samples first
        out, pos = _marginals(values, skip)
        if out is not None and pos == len(values):
            return kind, out
    raise FileFormatError("the MAR answer is not N followed by each variable's cardinality "
                          "and probabilities")


def _marginals(values: list[float], pos: int) -> tuple[list[np.ndarray] | None, int]:
    if pos >= len(values) or values[pos] != int(values[pos]):
        return None, pos
    n, pos = int(values[pos]), pos + 1
    out = []
    for _ in range(n):
        if pos >= len(values) or values[pos] != int(values[pos]) or values[pos] < 1:
            return None, pos
        card, pos = int(values[pos]), pos + 1
        if pos + card > len(values):
            return None, pos
        out.append(np.array(values[pos:pos + card]))
        pos += card
    return out, pos


def log10(value_ln: float) -> float:
    """A natural logarithm as a base-10 one."""
    return value_ln / math.log(10.0)


def indexed(evidence: Mapping[int, int], names: Sequence[str]) -> dict[str, int]:
    """Evidence by variable index as evidence by name."""
    return {names[i]: s for i, s in evidence.items()}
