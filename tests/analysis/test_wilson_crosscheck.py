"""Wilson bounds against a second, independent implementation (issue 15 tests).

The Wilson score interval is the set of p with (phat - p)^2 <= z^2 p (1 - p) / n: its ends are the roots of
(1 + z^2/n) p^2 - (2 phat + z^2/n) p + phat^2 = 0. Solving that quadratic with numpy's polynomial root finder shares
no code (and no algebraic rearrangement) with monitor.analysis.stats.wilson_interval or tables.wilson_arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.analysis.stats import Z95, wilson_interval
from monitor.analysis.tables import wilson_arrays


def _roots(k: float, n: float) -> tuple[float, float]:
    phat = k / n
    z2n = Z95 * Z95 / n
    low, high = sorted(np.roots([1 + z2n, -(2 * phat + z2n), phat * phat]).real)
    return max(0.0, float(low)), min(1.0, float(high))


@given(st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_the_quadratic_roots(case: tuple[int, int]) -> None:
    k, n = case
    ours = wilson_interval(k, n)
    assert (ours.low, ours.high) == pytest.approx(_roots(k, n), abs=1e-9)
    low, high = wilson_arrays(np.array([float(k)]), np.array([float(n)]))
    assert (float(low[0]), float(high[0])) == (ours.low, ours.high)


@given(st.floats(1.0, 5000.0), st.floats(0.0, 1.0))
def test_wilson_at_a_fractional_effective_n_matches_the_roots(n: float, p: float) -> None:
    low, high = wilson_arrays(np.array([p * n]), np.array([n]))
    assert (float(low[0]), float(high[0])) == pytest.approx(_roots(p * n, n), abs=1e-9)
