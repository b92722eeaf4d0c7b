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

import numpy as np
import numpy.typing as npt

from monitor.analysis.columns import IntArray
from monitor.analysis.stats import Z95, exact_fraction
from monitor.analysis.units import run_pairs

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


def design_effects(codes: IntArray, cluster: IntArray, clusters: int, vocab_size: int, order: IntArray) -> FloatArray:
    """deff per category of a proportion estimated over units grouped in clusters (see the module text).

    ``order`` sorts the units by cluster.
    """
    n = codes.size
    deff = np.ones(vocab_size, dtype=np.float64)
    if clusters < 2 or clusters == n:
        # One cluster: no between-cluster variance to estimate; it is one draw, so deff = n.
        return deff * n if clusters == 1 and n > 1 else deff
    sizes = np.bincount(cluster, minlength=clusters).astype(np.float64)
    pc, cat, units = run_pairs(cluster[order], codes[order], clusters, vocab_size)
    y = units.astype(np.float64)
    s2 = np.bincount(cat, weights=y * y, minlength=vocab_size)
    sym = np.bincount(cat, weights=y * sizes[pc], minlength=vocab_size)
    counts = np.bincount(codes, minlength=vocab_size).astype(np.float64)
    p = counts / n
    sm2 = float(np.dot(sizes, sizes))
    var_cluster = clusters / (clusters - 1) * (s2 - 2 * p * sym + p * p * sm2) / (n * n)
    var_binomial = p * (1.0 - p) / n
    inner = (p > 0) & (p < 1)
    deff[inner] = np.maximum(1.0, var_cluster[inner] / var_binomial[inner])
    return deff


def share_columns(
    codes: IntArray, vocab_size: int, cluster: IntArray | None, clusters: int, order: IntArray | None = None
) -> ShareColumns:
    """Counts and 95 % intervals for every category; cluster-robust when ``cluster`` (sorted by ``order``) is given."""
    n = codes.size
    counts = np.bincount(codes, minlength=vocab_size).astype(np.int64)
    independent = cluster is None or clusters == n
    if independent or cluster is None:
        deff = np.ones(vocab_size, dtype=np.float64)
    else:
        deff = design_effects(
            codes, cluster, clusters, vocab_size, order if order is not None else np.argsort(cluster, kind="stable")
        )
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
