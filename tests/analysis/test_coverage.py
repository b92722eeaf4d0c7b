"""A fast subset of the coverage simulation (the full one, 1,000 snapshots per setting: bench/coverage.py)."""

from __future__ import annotations

from coverage_sim import simulate


def test_cluster_robust_interval_keeps_nominal_coverage_where_wilson_does_not() -> None:
    # 300 simulated snapshots of 1,000 hosts (about 1,700 node ids each). The binomial sd of a coverage estimate from
    # 300 runs is 1.3 points, hence the band; bench/coverage.py checks 93-97 % over 1,000 runs.
    coverage, naive, deff = simulate(runs=300, ips=1000, truth=0.2, seed=7)
    assert 0.91 <= coverage <= 0.98
    assert deff > 3  # node ids behind one host are far from independent ...
    assert naive < 0.8  # ... and the plain Wilson interval on node counts misses the truth far too often
