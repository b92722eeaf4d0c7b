"""Bootstrap intervals for HHI and the Nakamoto coefficient from plain category counts.

A thin form of :mod:`monitor.analysis.resample` for callers that hold counts only: every unit is its own cluster.
The seed comes from the injected ``random.Random``, so a seed reproduces every interval.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.analysis.resample import cluster_bootstrap, percentile_bounds, types_from_counts
from monitor.analysis.stats import Interval

__all__ = ["DEFAULT_SAMPLES", "BootstrapIntervals", "percentile_interval", "bootstrap_indices", "generator"]

DEFAULT_SAMPLES = 1000


@dataclass(frozen=True, slots=True)
class BootstrapIntervals:
    samples: int
    confidence: float
    hhi: Interval
    nakamoto: tuple[tuple[float, Interval], ...]  # (threshold, interval of the coefficient)


def generator(rng: random.Random) -> np.random.Generator:
    """A numpy generator seeded from ``rng``: the one place the injected randomness enters numpy."""
    return np.random.Generator(np.random.PCG64(rng.getrandbits(128)))


def percentile_interval(values: Sequence[float], confidence: float) -> Interval:
    """Nearest-rank percentile interval; integer statistics (Nakamoto) stay integers this way."""
    if not values:
        raise ValueError("no values")
    return percentile_bounds(np.asarray(values, dtype=np.float64), confidence)


def bootstrap_indices(
    counts: Sequence[int],
    thresholds: Sequence[float],
    rng: random.Random,
    samples: int = DEFAULT_SAMPLES,
    confidence: float = 0.95,
) -> BootstrapIntervals | None:
    """Percentile bootstrap intervals for HHI and the Nakamoto coefficient at each threshold, units independent.

    ``None`` when there is nothing to resample (no units) or ``samples`` is 0 (bootstrap switched off).
    """
    if samples < 0:
        raise ValueError("samples must be non-negative")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie in (0, 1)")
    if any(c < 0 for c in counts):
        raise ValueError("counts must be non-negative")
    if samples == 0 or sum(counts) == 0:
        return None
    boot = cluster_bootstrap(types_from_counts(counts), tuple(thresholds), generator(rng), samples, confidence)
    if boot is None:
        return None
    return BootstrapIntervals(samples, confidence, boot.hhi, boot.nakamoto)
