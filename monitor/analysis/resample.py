"""Cluster bootstrap for HHI and the Nakamoto coefficient, vectorised over replicates.

What is resampled are clusters (for per-node populations the IPs; otherwise every unit is its own cluster), so node
ids behind one host move together, as they do between real crawls. Resampling uses Poisson(1) weights per cluster
(the "Poisson bootstrap": the large-n form of drawing k of k clusters with replacement, where each cluster's count
is Binomial(k, 1/k)). Independent weights are what make it cheap: clusters with the same contents (same category,
same size: most of a long tail) are exchangeable, so their total weight is one Poisson(multiplicity) draw per
replicate, and a replicate costs a draw per distinct cluster *type*, not per cluster. Category totals then follow
from one grouped sum. Randomness comes only from the injected ``numpy.random.Generator``.

Intervals are nearest-rank percentile intervals. Percentile intervals of plug-in indices can exclude their own point
estimate (for a nearly even spread, resampling makes the data look more concentrated than it is); rather than
silently report such an interval, callers flag it (``Indices.hhi_ci_excludes_estimate`` and friends).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.analysis.clusters import ClusterCounts
from monitor.analysis.columns import IntArray
from monitor.analysis.stats import Interval
from monitor.analysis.tables import FloatArray, exact_threshold

__all__ = ["ClusterBootstrap", "cluster_types", "types_from_counts", "cluster_bootstrap", "percentile_bounds"]

_CHUNK = 256  # replicates per block: bounds memory at chunk x categories


@dataclass(frozen=True, slots=True)
class ClusterBootstrap:
    samples: int
    confidence: float
    hhi: Interval
    nakamoto: tuple[tuple[float, Interval], ...]


@dataclass(frozen=True, slots=True)
class _Types:
    multiplicity: FloatArray  # clusters of each type
    entry_type: IntArray  # entries: (type, category, units of that category in one cluster of the type)
    entry_cat: IntArray
    entry_units: IntArray


def cluster_types(cc: ClusterCounts) -> _Types:
    """Group the clusters of the known units (code > 0) by their contents."""
    known = cc.code > 0
    cluster, cat, units = cc.cluster[known], cc.code[known], cc.units[known]
    per_cluster = np.bincount(cluster, minlength=cc.sizes.size)
    single = per_cluster[cluster] == 1
    span = int(units.max()) + 1 if units.size else 1
    sig, mult = np.unique(cat[single] * span + units[single], return_counts=True)
    types = [(int(s // span), int(s % span)) for s in sig.tolist()]
    mixed_order = np.argsort(cluster[~single], kind="stable")
    m_cluster = cluster[~single][mixed_order].tolist()
    m_cat, m_units = cat[~single][mixed_order].tolist(), units[~single][mixed_order].tolist()
    signatures: dict[int, list[tuple[int, int]]] = {}
    for c, k, u in zip(m_cluster, m_cat, m_units, strict=True):
        signatures.setdefault(c, []).append((k, u))
    mixed: Counter[tuple[tuple[int, int], ...]] = Counter(tuple(sorted(v)) for v in signatures.values())
    entry_type = list(range(len(types)))
    entry_cat = [c for c, _ in types]
    entry_units = [u for _, u in types]
    multiplicity = mult.tolist()
    for signature, count in sorted(mixed.items()):
        t = len(multiplicity)
        multiplicity.append(count)
        for c, u in signature:
            entry_type.append(t)
            entry_cat.append(c)
            entry_units.append(u)
    order = np.argsort(np.asarray(entry_cat, dtype=np.int64), kind="stable")
    return _Types(
        multiplicity=np.asarray(multiplicity, dtype=np.float64),
        entry_type=np.asarray(entry_type, dtype=np.int64)[order],
        entry_cat=np.asarray(entry_cat, dtype=np.int64)[order],
        entry_units=np.asarray(entry_units, dtype=np.int64)[order],
    )


def percentile_bounds(values: FloatArray, confidence: float) -> Interval:
    """Nearest-rank percentile interval; integer statistics (Nakamoto) stay integers this way."""
    ordered = np.sort(values)
    tail = (1.0 - confidence) / 2.0
    size = ordered.size
    lo = min(size - 1, max(0, int(np.floor(tail * size))))
    hi = min(size - 1, max(0, int(np.ceil((1.0 - tail) * size)) - 1))
    return Interval(float(ordered[lo]), float(ordered[hi]))


def _replicates(types: _Types, gen: np.random.Generator, count: int) -> IntArray:
    """Category totals of ``count`` replicates (rows), one column per category with entries."""
    weights = gen.poisson(types.multiplicity, size=(count, types.multiplicity.size))
    contributions = weights[:, types.entry_type] * types.entry_units
    starts = np.flatnonzero(np.r_[True, types.entry_cat[1:] != types.entry_cat[:-1]])
    totals: IntArray = np.add.reduceat(contributions, starts, axis=1)
    return totals


def _chunk_stats(totals: IntArray, fractions: list[tuple[int, int]]) -> tuple[FloatArray, list[FloatArray]]:
    n = totals.sum(axis=1)
    alive = n > 0
    totals, n = totals[alive], n[alive]
    hhi = (totals.astype(np.float64) ** 2).sum(axis=1) / (n.astype(np.float64) ** 2)
    running = np.cumsum(-np.sort(-totals, axis=1), axis=1)
    # Strictly more than t x n: for integer sums, more than floor(t x n), computed in integers.
    nakamotos = [(running <= (n * num // den)[:, None]).sum(axis=1).astype(np.float64) + 1 for num, den in fractions]
    return hhi, nakamotos


def cluster_bootstrap(
    types: _Types,
    thresholds: tuple[float, ...],
    gen: np.random.Generator,
    samples: int,
    confidence: float = 0.95,
) -> ClusterBootstrap | None:
    """Percentile intervals of HHI and Nakamoto over ``samples`` replicates; None when off or nothing to resample."""
    if samples < 0:
        raise ValueError("samples must be non-negative")
    if samples == 0 or types.multiplicity.size == 0:
        return None
    fractions = [(f.numerator, f.denominator) for f in (exact_threshold(t) for t in thresholds)]
    hhis: list[FloatArray] = []
    nakamotos: list[list[FloatArray]] = [[] for _ in thresholds]
    done = 0
    while done < samples:
        count = min(_CHUNK, samples - done)
        hhi, nak = _chunk_stats(_replicates(types, gen, count), fractions)
        hhis.append(hhi)
        for acc, values in zip(nakamotos, nak, strict=True):
            acc.append(values)
        done += count
    all_hhi = np.concatenate(hhis)
    if all_hhi.size == 0:
        return None
    return ClusterBootstrap(
        samples=samples,
        confidence=confidence,
        hhi=percentile_bounds(all_hhi, confidence),
        nakamoto=tuple(
            (t, percentile_bounds(np.concatenate(v), confidence)) for t, v in zip(thresholds, nakamotos, strict=True)
        ),
    )


def types_from_counts(counts: Sequence[int]) -> _Types:
    """Cluster types when every unit is its own cluster: one type per non-empty category."""
    present = [(i + 1, c) for i, c in enumerate(counts) if c > 0]
    return _Types(
        multiplicity=np.asarray([c for _, c in present], dtype=np.float64),
        entry_type=np.arange(len(present), dtype=np.int64),
        entry_cat=np.asarray([i for i, _ in present], dtype=np.int64),
        entry_units=np.ones(len(present), dtype=np.int64),
    )
