"""Bootstrap intervals for HHI and the Nakamoto coefficient, resampling category counts.

Resampling n units with replacement from a population is the same as drawing one multinomial vector of counts with
probabilities count_i / n, so a replicate costs a binomial draw per distinct count rather than a draw per unit (see
:func:`resample_counts`). Randomness comes only from the injected ``random.Random``, so a seed reproduces every
interval.

Intervals are percentile intervals. A simulation of ours (long-tailed provider mixes, n = 1,500 to 3,000) gave
0.89-0.95 coverage for HHI and >= 0.99 for Nakamoto. Their known weakness: for a nearly even spread over many
categories the plug-in indices are biased (resampling makes the data look more concentrated), and the interval can
then even exclude the point estimate. Read them as sampling variability, not as bias-corrected bounds.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from monitor.analysis.stats import Interval

__all__ = [
    "DEFAULT_SAMPLES",
    "BootstrapIntervals",
    "binomial",
    "multinomial",
    "resample_counts",
    "percentile_interval",
    "bootstrap_indices",
]

DEFAULT_SAMPLES = 1000

# Below this mean the CDF walk is cheaper than the rejection sampler and exact without any tuning constants.
_INVERSION_MAX_MEAN = 10.0


@dataclass(frozen=True, slots=True)
class BootstrapIntervals:
    samples: int
    confidence: float
    hhi: Interval
    nakamoto: tuple[tuple[float, Interval], ...]  # (threshold, interval of the coefficient)


def binomial(rng: random.Random, n: int, p: float) -> int:
    """One Binomial(n, p) variate (``random.binomialvariate`` only arrived in Python 3.12)."""
    if n < 0:
        raise ValueError("n must be non-negative")
    if n == 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        # Both samplers below assume p <= 1/2; the count of failures is Binomial(n, 1 - p).
        return n - binomial(rng, n, 1.0 - p)
    if n * p < _INVERSION_MAX_MEAN:
        return _binomial_inversion(rng, n, p)
    return _binomial_btrs(rng, n, p)


def _binomial_inversion(rng: random.Random, n: int, p: float) -> int:
    """Walk the CDF from 0: expected n*p + 1 steps, so only used for small means."""
    q = 1.0 - p
    ratio = p / q
    pmf = q**n  # >= exp(-2 * _INVERSION_MAX_MEAN) for p <= 1/2, so no underflow
    u = rng.random()
    x = 0
    while u > pmf and x < n:
        u -= pmf
        x += 1
        pmf *= (n - x + 1) / x * ratio
    return x


def _binomial_btrs(rng: random.Random, n: int, p: float) -> int:
    """Transformed rejection with squeeze (Hörmann 1993, "The generation of binomial random variates"), p <= 1/2."""
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    log_odds = math.log(p / q)
    mode = math.floor((n + 1) * p)
    h = math.lgamma(mode + 1) + math.lgamma(n - mode + 1)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        # The squeeze accepts most candidates without evaluating the log-pmf.
        if us >= 0.07 and v <= v_r:
            return k
        log_v = math.log(v * alpha / (a / (us * us) + b))
        if log_v <= h - math.lgamma(k + 1) - math.lgamma(n - k + 1) + (k - mode) * log_odds:
            return k


def multinomial(rng: random.Random, n: int, weights: Sequence[int]) -> list[int]:
    """Counts of n draws over categories with probabilities proportional to the integer ``weights``, in their order.

    Drawn as a chain of conditional binomials: category i gets Binomial(draws left, w_i / weight left).
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    left = n
    weight_left = sum(weights)
    if weight_left == 0 and n > 0:
        raise ValueError("cannot draw from categories that all have weight 0")
    out: list[int] = []
    for w in weights:
        x = _draw(rng, left, w, weight_left)
        out.append(x)
        left -= x
        weight_left -= w
    return out


def _draw(rng: random.Random, left: int, w: int, weight_left: int) -> int:
    if left == 0 or w == 0:
        return 0
    if w >= weight_left:
        return left
    return binomial(rng, left, w / weight_left)


def resample_counts(rng: random.Random, weights: Sequence[int]) -> list[int]:
    """One bootstrap replicate of a population given by its category counts, *without labels*.

    Returns the non-zero counts of sum(weights) draws with probabilities proportional to ``weights``, in no
    particular order. Dropping labels lets categories of equal weight be drawn as one: the group's total is one
    binomial, and its split over m equally likely bins is m-way uniform, which for sparse groups costs one cheap draw
    per unit instead of one binomial per category. Snapshots have long tails of ASes with one or two nodes.
    HHI and Nakamoto do not depend on labels, so nothing is lost for them.
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    groups = sorted(Counter(w for w in weights if w > 0).items(), reverse=True)
    left = weight_left = sum(weights)
    out: list[int] = []
    for w, m in groups:
        x = _draw(rng, left, w * m, weight_left)
        left -= x
        weight_left -= w * m
        if m == 1 or x <= 1:
            out.append(x)
        elif x <= 3 * m:
            out.extend(Counter(rng.choices(range(m), k=x)).values())
        else:
            # Several draws per bin: a small-mean binomial per bin costs less than three uniform draws.
            out.extend(multinomial(rng, x, [1] * m))
        if left == 0:
            break
    return [c for c in out if c]


def _nakamoto_sorted(descending: Sequence[int], bounds: Sequence[int]) -> list[int]:
    """Nakamoto coefficients for several bounds (threshold x total) in one pass over counts sorted largest first.

    Same rule as :func:`monitor.analysis.stats.nakamoto` (strictly more than the bound), inlined because the
    bootstrap evaluates it B times per population and dimension.
    """
    result = [0] * len(bounds)
    pending = sorted(range(len(bounds)), key=lambda i: bounds[i])
    running = 0
    for k, c in enumerate(descending, start=1):
        running += c
        while pending and running > bounds[pending[0]]:
            result[pending.pop(0)] = k
        if not pending:
            break
    return result


def percentile_interval(values: Sequence[float], confidence: float) -> Interval:
    """Nearest-rank percentile interval; integer statistics (Nakamoto) stay integers this way."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    tail = (1.0 - confidence) / 2.0
    lo = min(len(ordered) - 1, max(0, math.floor(tail * len(ordered))))
    hi = min(len(ordered) - 1, max(0, math.ceil((1.0 - tail) * len(ordered)) - 1))
    return Interval(float(ordered[lo]), float(ordered[hi]))


def bootstrap_indices(
    counts: Sequence[int],
    thresholds: Sequence[float],
    rng: random.Random,
    samples: int = DEFAULT_SAMPLES,
    confidence: float = 0.95,
) -> BootstrapIntervals | None:
    """Percentile bootstrap intervals for HHI and for the Nakamoto coefficient at each threshold.

    ``None`` when there is nothing to resample (no units) or ``samples`` is 0 (bootstrap switched off).
    """
    if samples < 0:
        raise ValueError("samples must be non-negative")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie in (0, 1)")
    weights = [c for c in counts if c > 0]
    n = sum(weights)
    if n == 0 or samples == 0:
        return None
    # Integer bounds: for an integer running sum, running > t*n exactly when running > floor(t*n).
    bounds = [math.floor(Fraction(t) * n) for t in thresholds]
    hhis: list[float] = []
    nakamotos: list[list[float]] = [[] for _ in thresholds]
    for _ in range(samples):
        replicate = sorted(resample_counts(rng, weights), reverse=True)
        hhis.append(sum(c * c for c in replicate) / (n * n))
        for values, coefficient in zip(nakamotos, _nakamoto_sorted(replicate, bounds), strict=True):
            values.append(float(coefficient))
    return BootstrapIntervals(
        samples=samples,
        confidence=confidence,
        hhi=percentile_interval(hhis, confidence),
        nakamoto=tuple((t, percentile_interval(v, confidence)) for t, v in zip(thresholds, nakamotos, strict=True)),
    )
