"""Share tables, cluster-robust intervals and concentration indices over grouped counts (numpy).

Per-node shares get a cluster-robust interval with the IP as cluster: the proportion is a ratio estimator over
clusters, its variance the usual between-cluster (linearisation) estimator, and the design effect
deff = var_cluster / var_binomial turns n into the Kish effective sample size n / deff; the interval is Wilson's at
that effective n. Why this and not a cluster bootstrap: it is closed-form (one pass of grouped sums for every
category at once), it reduces to the plain Wilson interval when every IP holds one node (deff = 1), it keeps Wilson's
behaviour near 0 and 1, and a simulation with heavy-tailed nodes-per-IP (bench/coverage.py, tests/analysis/
test_coverage.py) gives 93-97 % coverage. deff is never taken below 1: fewer than one node's worth of information
per node is not something a sample can show, and a deff < 1 would only narrow the interval on noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from monitor.analysis.columns import IntArray
from monitor.analysis.stats import Z95, exact_fraction

if TYPE_CHECKING:
    from monitor.analysis.clusters import ClusterCounts

__all__ = ["FloatArray", "ShareColumns", "wilson_arrays", "share_columns", "exact_threshold", "point_indices"]

FloatArray = npt.NDArray[np.float64]


exact_threshold = exact_fraction


def wilson_arrays(successes: FloatArray, n: FloatArray, z: float = Z95) -> tuple[FloatArray, FloatArray]:
    """Wilson score bounds, elementwise; the same arithmetic (and so the same doubles) as ``wilson_interval``.

    ``n`` may be fractional (an effective sample size); where n == 0 the bounds are [0, 1].
    """
    safe_n = np.where(n > 0, n, 1.0)
    p = successes / safe_n
    z2 = z * z
    denom = 1.0 + z2 / safe_n
    centre = (p + z2 / (2 * safe_n)) / denom
    half = z / denom * np.sqrt(p * (1.0 - p) / safe_n + z2 / (4 * safe_n * safe_n))
    low = np.maximum(0.0, np.minimum(centre - half, p))
    high = np.minimum(1.0, np.maximum(centre + half, p))
    return np.where(n > 0, low, 0.0), np.where(n > 0, high, 1.0)


@dataclass(frozen=True, slots=True)
class ShareColumns:
    """Per category code: count, and the interval with its design effect (1 where units are independent)."""

    counts: IntArray
    low: FloatArray
    high: FloatArray
    deff: FloatArray
    effective_n: FloatArray


def design_effects(cc: ClusterCounts, counts: IntArray, n: int, vocab_size: int) -> FloatArray:
    """deff per category of a proportion estimated over units grouped in clusters (see the module text)."""
    deff = np.ones(vocab_size, dtype=np.float64)
    k = cc.clusters
    if k < 2 or k == n:
        # One cluster: no between-cluster variance to estimate; it is one draw, so deff = n.
        return deff * n if k == 1 and n > 1 else deff
    sizes = cc.sizes.astype(np.float64)
    y = cc.units.astype(np.float64)
    s2 = np.bincount(cc.code, weights=y * y, minlength=vocab_size)
    sym = np.bincount(cc.code, weights=y * sizes[cc.cluster], minlength=vocab_size)
    p = counts / n
    # Integer sum of squares: a float np.dot goes through BLAS, whose thread start-up cost more than the whole rest.
    sm2 = float(np.square(cc.sizes).sum())
    var_cluster = k / (k - 1) * (s2 - 2 * p * sym + p * p * sm2) / (n * n)
    var_binomial = p * (1.0 - p) / n
    inner = (p > 0) & (p < 1)
    deff[inner] = np.maximum(1.0, var_cluster[inner] / var_binomial[inner])
    return deff


def share_columns(codes: IntArray, vocab_size: int, clusters: ClusterCounts | None = None) -> ShareColumns:
    """Counts and 95 % intervals for every category; cluster-robust when ``clusters`` says how units cluster."""
    n = codes.size
    counts = np.bincount(codes, minlength=vocab_size).astype(np.int64)
    independent = clusters is None or clusters.clusters == n
    if clusters is None or independent:
        deff = np.ones(vocab_size, dtype=np.float64)
    else:
        deff = design_effects(clusters, counts, n, vocab_size)
    effective_n = n / deff
    if independent:
        # Integer inputs for the independent case keep the bounds bit-equal to the scalar wilson_interval.
        low, high = wilson_arrays(counts.astype(np.float64), np.full(vocab_size, float(n)))
    else:
        p = counts / n if n else np.zeros(vocab_size)
        low, high = wilson_arrays(p * effective_n, effective_n)
    return ShareColumns(counts, low, high, deff, effective_n)


@dataclass(frozen=True, slots=True)
class PointIndices:
    n: int
    categories: int
    hhi: float | None
    nakamoto: tuple[int | None, ...]
    top: tuple[float | None, ...]
    entropy_bits: float | None


def point_indices(known: IntArray, thresholds: tuple[float, ...], top_k: tuple[int, ...]) -> PointIndices:
    """HHI, Nakamoto (strictly more than each exact threshold), top-k and entropy of the non-zero ``known`` counts."""
    counts = np.sort(known[known > 0])[::-1]
    total = int(counts.sum())
    if total == 0:
        return PointIndices(0, 0, None, tuple(None for _ in thresholds), tuple(None for _ in top_k), None)
    squares = int(np.dot(counts, counts))
    running = np.cumsum(counts)
    nakamoto = tuple(
        int(np.searchsorted(running, int(exact_threshold(t) * total), side="right")) + 1 for t in thresholds
    )
    shares = counts / total
    entropy = abs(float(-np.sum(shares * np.log2(shares))))
    return PointIndices(
        n=total,
        categories=int(counts.size),
        hhi=squares / (total * total),
        nakamoto=nakamoto,
        top=tuple(int(counts[:k].sum()) / total for k in top_k),
        entropy_bits=entropy,
    )
