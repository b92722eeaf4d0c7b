"""Concentration statistics on plain category counts: shares, Wilson intervals, HHI, Nakamoto, top-k, entropy.

Every function is pure and total. Input is a sequence of non-negative counts, one per category (provider, region, ...);
zero counts are allowed and ignored. Where a figure is undefined for an empty population the function returns ``None``
rather than a number that would read as "perfectly decentralised".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "Z95",
    "Interval",
    "wilson_interval",
    "hhi",
    "exact_fraction",
    "nakamoto",
    "top_k_share",
    "shannon_entropy",
]

# Two-sided 95 % standard normal quantile (Phi^-1(0.975)), to the precision of a double.
Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _check_counts(counts: Sequence[int]) -> None:
    if any(c < 0 for c in counts):
        raise ValueError("counts must be non-negative")


def wilson_interval(successes: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval for a binomial proportion.

    Chosen over the normal (Wald) interval because it stays inside [0, 1] and keeps close to nominal coverage for small
    n and for shares near 0 or 1 (Brown, Cai & DasGupta 2001), both common here: a provider with 0 nodes in a small
    devnet, or one that hosts every node. With n == 0 nothing is known and the whole of [0, 1] is returned.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return Interval(0.0, 1.0)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n))
    # Rounding can push an end a hair past 0, 1 or the point estimate itself at the extremes (p = 0 or 1); clamp so the
    # interval always lies in [0, 1] and contains p.
    low = max(0.0, min(centre - half, p))
    high = min(1.0, max(centre + half, p))
    return Interval(low, high)


def hhi(counts: Sequence[int]) -> float | None:
    """Herfindahl-Hirschman index as a fraction in [1/k, 1] for k non-empty categories (not the 0-10,000 scale)."""
    _check_counts(counts)
    total = sum(counts)
    if total == 0:
        return None
    # Sum of squared counts over total^2 is computed in integers first so equal inputs give bit-equal results.
    return sum(c * c for c in counts) / (total * total)


def exact_fraction(threshold: float) -> Fraction:
    """The rational a threshold stands for: 1/3 written as 0.333... is exactly one third, 0.33 is 33/100."""
    return Fraction(threshold).limit_denominator(1000)


def nakamoto(counts: Sequence[int], threshold: float) -> int | None:
    """Fewest categories whose combined share is strictly more than ``threshold``.

    "Strictly more" because control means exceeding the bound: more than 1/3 of validators halts finality, more than
    half is a majority. The comparison is exact (rational), so 33 of 100 at threshold 0.33 does not count as control.
    """
    _check_counts(counts)
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must lie in [0, 1), got {threshold}")
    total = sum(counts)
    if total == 0:
        return None
    bound = exact_fraction(threshold) * total
    running = 0
    for k, c in enumerate(sorted(counts, reverse=True), start=1):
        running += c
        if running > bound:
            return k
    raise AssertionError("unreachable: the full total always exceeds a threshold below 1")


def top_k_share(counts: Sequence[int], k: int) -> float | None:
    """Combined share of the k largest categories (1.0 when there are k or fewer)."""
    _check_counts(counts)
    if k < 0:
        raise ValueError("k must be non-negative")
    total = sum(counts)
    if total == 0:
        return None
    return sum(sorted(counts, reverse=True)[:k]) / total


def shannon_entropy(counts: Sequence[int]) -> float | None:
    """Shannon entropy of the category distribution in bits: 0 for one category, log2(k) for k equal ones."""
    _check_counts(counts)
    total = sum(counts)
    if total == 0:
        return None
    h = -sum((c / total) * math.log2(c / total) for c in counts if c > 0)
    # -0.0 for a single category reads oddly in reports.
    return abs(h)
