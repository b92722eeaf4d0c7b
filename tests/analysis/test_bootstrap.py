"""Binomial and multinomial sampling (the reference sampler in tests/), and the bootstrap intervals."""

from __future__ import annotations

import random
import statistics

import pytest
from reference_impl import binomial, multinomial, resample_counts

from monitor.analysis.bootstrap import bootstrap_indices, percentile_interval
from monitor.analysis.stats import Interval


@pytest.mark.parametrize(("n", "p"), [(50, 0.1), (1000, 0.3), (10_000, 0.02), (7, 0.9), (100_000, 0.5), (20, 0.7)])
def test_binomial_moments(n: int, p: float) -> None:
    rng = random.Random(42)
    draws = [binomial(rng, n, p) for _ in range(20_000)]
    assert all(0 <= d <= n for d in draws)
    mean, var = statistics.fmean(draws), statistics.pvariance(draws)
    sd = (n * p * (1 - p)) ** 0.5
    # Five standard errors of the mean; the variance within 5 %.
    assert abs(mean - n * p) < 5 * sd / (20_000**0.5)
    assert var == pytest.approx(n * p * (1 - p), rel=0.05)


def test_binomial_edges() -> None:
    rng = random.Random(1)
    assert binomial(rng, 0, 0.5) == 0
    assert binomial(rng, 10, 0.0) == 0
    assert binomial(rng, 10, 1.0) == 10
    with pytest.raises(ValueError):
        binomial(rng, -1, 0.5)


def test_multinomial_keeps_total_and_zero_weights() -> None:
    rng = random.Random(3)
    for _ in range(200):
        out = multinomial(rng, 100, [5, 0, 3, 2])
        assert sum(out) == 100 and out[1] == 0
    with pytest.raises(ValueError):
        multinomial(rng, 3, [0, 0])


def test_resample_counts_matches_multinomial_second_moment() -> None:
    # For a multinomial, E[sum X_i^2] = sum(n p_i (1 - p_i) + n^2 p_i^2); grouping equal weights must not change it.
    weights = [40, 25, 10, 10, 10] + [2] * 20 + [1] * 60
    n = sum(weights)
    expected = sum(n * (w / n) * (1 - w / n) + (w**2) for w in weights)
    rng = random.Random(9)
    sums = []
    for _ in range(4000):
        replicate = resample_counts(rng, weights)
        assert sum(replicate) == n and all(c > 0 for c in replicate)
        sums.append(sum(c * c for c in replicate))
    assert statistics.fmean(sums) == pytest.approx(expected, rel=0.01)


def test_percentile_interval_nearest_rank() -> None:
    values = [float(v) for v in range(1000)]
    assert percentile_interval(values, 0.95) == Interval(25.0, 974.0)
    assert percentile_interval([3.0], 0.95) == Interval(3.0, 3.0)
    with pytest.raises(ValueError):
        percentile_interval([], 0.95)


def test_bootstrap_is_reproducible_and_brackets_a_concentrated_mix() -> None:
    counts = [300, 200, 100, 50] + [5] * 40 + [1] * 100
    a = bootstrap_indices(counts, (0.33, 0.5), random.Random(5), samples=300)
    b = bootstrap_indices(counts, (0.33, 0.5), random.Random(5), samples=300)
    assert a == b and a is not None
    total = sum(counts)
    point = sum(c * c for c in counts) / total**2
    assert a.hhi.low <= point <= a.hhi.high
    assert [t for t, _ in a.nakamoto] == [0.33, 0.5]
    assert all(iv.low <= iv.high for _, iv in a.nakamoto)


def test_bootstrap_degenerate_and_empty() -> None:
    one = bootstrap_indices([12], (0.33, 0.5), random.Random(0), samples=50)
    assert one is not None and one.hhi == Interval(1.0, 1.0)
    assert all(iv == Interval(1.0, 1.0) for _, iv in one.nakamoto)
    assert bootstrap_indices([], (0.5,), random.Random(0)) is None
    assert bootstrap_indices([0, 0], (0.5,), random.Random(0)) is None
    assert bootstrap_indices([3, 4], (0.5,), random.Random(0), samples=0) is None
    with pytest.raises(ValueError):
        bootstrap_indices([3], (0.5,), random.Random(0), samples=-1)


def test_vectorised_bootstrap_agrees_with_the_reference_sampler() -> None:
    # Poisson cluster weights (every unit its own cluster) against the reference's exact multinomial resampling.
    counts = [500, 300, 150, 40, 10]
    n = sum(counts)
    rng = random.Random(11)
    hhis, n50s = [], []
    for _ in range(2000):
        replicate = sorted(resample_counts(rng, counts), reverse=True)
        hhis.append(sum(c * c for c in replicate) / n**2)
        running = 0
        for k, c in enumerate(replicate, start=1):
            running += c
            if 2 * running > n:
                n50s.append(float(k))
                break
    reference = percentile_interval(hhis, 0.95)
    ours = bootstrap_indices(counts, (0.5,), random.Random(11), samples=2000)
    assert ours is not None
    assert abs(ours.hhi.low - reference.low) < 0.006 and abs(ours.hhi.high - reference.high) < 0.006
    assert dict(ours.nakamoto)[0.5] == percentile_interval(n50s, 0.95)
