"""Coverage of the cluster-robust share interval on simulated snapshots with a known truth (issue 15, build item 1).

A simulated snapshot has ``ips`` hosts. Nodes per host follow a crawl-like mix: 85 % of hosts run one node id, the
other 15 % run 2 + a lognormal(1, 1) draw (median about 4, a tail of dozens, capped at 64): 1.7 node ids per IP on
average, the largest host 20-60 node ids. Each host is the provider with probability ``truth`` and all its node ids
share that, so the per-node share estimates ``truth``. A run checks whether the 95 % interval of the per-node share
(IP as cluster) contains ``truth``; the plain Wilson interval on node counts is checked beside it.

A plain module so that the fast test (tests/analysis/test_coverage.py) and bench/coverage.py share it.
"""

from __future__ import annotations

import numpy as np

from monitor.analysis.clusters import ClusterCounts
from monitor.analysis.stats import wilson_interval
from monitor.analysis.tables import share_columns

__all__ = ["host_sizes", "simulate"]


def host_sizes(gen: np.random.Generator, ips: int) -> np.ndarray:  # type: ignore[type-arg]
    several = gen.random(ips) < 0.15
    tail = np.minimum(2 + np.floor(gen.lognormal(1.0, 1.0, ips)), 64)
    return np.where(several, tail, 1).astype(np.int64)


def simulate(runs: int, ips: int, truth: float, seed: int) -> tuple[float, float, float]:
    """(coverage of the cluster-robust interval, coverage of the independent Wilson interval, mean design effect)."""
    gen = np.random.default_rng(seed)
    hits = naive_hits = 0
    deffs = []
    for _ in range(runs):
        sizes = host_sizes(gen, ips)
        provider = (gen.random(ips) < truth).astype(np.int64)  # code 1: the provider, code 0: anything else
        codes = np.repeat(provider, sizes)
        # Every node id of a host shares its provider: one (host, category) pair per host.
        hosts = ClusterCounts(np.arange(ips, dtype=np.int64), provider, sizes, sizes, ips)
        sc = share_columns(codes, 2, hosts)
        hits += int(sc.low[1] <= truth <= sc.high[1])
        naive = wilson_interval(int(sc.counts[1]), int(codes.size))
        naive_hits += int(naive.low <= truth <= naive.high)
        deffs.append(float(sc.deff[1]))
    return hits / runs, naive_hits / runs, float(np.mean(deffs))
