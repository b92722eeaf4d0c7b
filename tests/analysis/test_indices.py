"""Concentration statistics: hand-computed examples and hypothesis properties."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.analysis.concentration import share_table
from monitor.analysis.stats import Interval, hhi, nakamoto, shannon_entropy, top_k_share, wilson_interval

COUNTS = st.lists(st.integers(0, 500), min_size=1, max_size=25).filter(lambda c: sum(c) > 0)


# --- hand-computed examples -------------------------------------------------------------------------------------------


def test_hhi_by_hand() -> None:
    # 0.5^2 + 0.3^2 + 0.2^2
    assert hhi([50, 30, 20]) == pytest.approx(0.38)
    assert hhi([7]) == 1.0
    assert hhi([1, 1, 1, 1]) == pytest.approx(0.25)
    assert hhi([5, 0, 5]) == pytest.approx(0.5)  # empty categories do not count


def test_nakamoto_by_hand() -> None:
    assert nakamoto([50, 30, 20], 0.33) == 1  # 50 % > 33 %
    assert nakamoto([50, 30, 20], 0.50) == 2  # exactly half is not a majority; 80 % is
    assert nakamoto([20, 50, 30], 0.50) == 2  # order of input does not matter
    assert nakamoto([33, 33, 33, 1], 0.33) == 2  # 33 of 100 is not *more* than 33 %
    assert nakamoto([34, 33, 33], 0.33) == 1
    assert nakamoto([10] * 10, 0.50) == 6
    assert nakamoto([1], 0.5) == 1


def test_top_k_by_hand() -> None:
    assert top_k_share([20, 50, 30], 1) == pytest.approx(0.5)
    assert top_k_share([20, 50, 30], 2) == pytest.approx(0.8)
    assert top_k_share([20, 50, 30], 5) == 1.0
    assert top_k_share([20, 50, 30], 0) == 0.0


def test_entropy_by_hand() -> None:
    # -(0.5 log2 0.5 + 0.3 log2 0.3 + 0.2 log2 0.2) = 0.5 + 0.521090 + 0.464386
    assert shannon_entropy([50, 30, 20]) == pytest.approx(1.485475, abs=1e-6)
    assert shannon_entropy([3, 3, 3, 3]) == pytest.approx(2.0)
    assert shannon_entropy([9]) == 0.0


def test_wilson_by_hand() -> None:
    # Values from the closed form, checked against published Wilson tables (0/10 -> 0 to 0.2775; 5/10 -> 0.2366-0.7634).
    zero = wilson_interval(0, 10)
    assert zero.low == 0.0 and zero.high == pytest.approx(0.277533, abs=1e-6)
    five = wilson_interval(5, 10)
    assert five.low == pytest.approx(0.236593, abs=1e-6) and five.high == pytest.approx(0.763407, abs=1e-6)
    ten = wilson_interval(10, 10)
    assert ten.high == 1.0 and ten.low == pytest.approx(0.722467, abs=1e-6)  # mirror of 0/10
    aws = wilson_interval(23, 100)
    assert aws.low == pytest.approx(0.158437, abs=1e-5) and aws.high == pytest.approx(0.321547, abs=1e-5)


def test_empty_input_is_explicit() -> None:
    assert hhi([]) is None and hhi([0, 0]) is None
    assert nakamoto([], 0.33) is None
    assert top_k_share([], 3) is None
    assert shannon_entropy([0]) is None
    assert wilson_interval(0, 0) == Interval(0.0, 1.0)  # nothing known: the whole range


@pytest.mark.parametrize(
    "call",
    [
        lambda: hhi([-1, 2]),
        lambda: nakamoto([1], 1.0),
        lambda: nakamoto([1], -0.1),
        lambda: top_k_share([1], -1),
        lambda: wilson_interval(3, 2),
        lambda: wilson_interval(-1, 2),
    ],
)
def test_invalid_input_raises(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


# --- properties -------------------------------------------------------------------------------------------------------


@given(COUNTS)
def test_shares_sum_to_one(counts: list[int]) -> None:
    table = share_table(Counter({f"p{i}": c for i, c in enumerate(counts)}), sum(counts))
    assert math.isclose(sum(s.share for s in table), 1.0, rel_tol=1e-9)
    assert sum(s.count for s in table) == sum(counts)


@given(COUNTS)
def test_hhi_between_one_over_k_and_one(counts: list[int]) -> None:
    k = sum(1 for c in counts if c > 0)
    value = hhi(counts)
    assert value is not None
    assert 1.0 / k - 1e-12 <= value <= 1.0 + 1e-12


@given(COUNTS, st.randoms(use_true_random=False))
def test_nakamoto_bounded_and_invariant_under_relabelling(counts: list[int], rnd: random.Random) -> None:
    k = sum(1 for c in counts if c > 0)
    shuffled = list(counts)
    rnd.shuffle(shuffled)
    for t in (0.0, 0.33, 0.5, 0.9):
        value = nakamoto(counts, t)
        assert value is not None and 1 <= value <= k
        assert nakamoto(shuffled, t) == value
    assert (nakamoto(counts, 0.33) or 0) <= (nakamoto(counts, 0.5) or 0)


@given(COUNTS)
def test_entropy_and_top_k_bounds(counts: list[int]) -> None:
    k = sum(1 for c in counts if c > 0)
    entropy = shannon_entropy(counts)
    assert entropy is not None and -1e-12 <= entropy <= math.log2(k) + 1e-9
    tops = [top_k_share(counts, j) or 0.0 for j in (1, 3, 5)]
    assert tops == sorted(tops) and tops[-1] <= 1.0 + 1e-12


@given(st.integers(0, 10**6).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_estimate_within_unit_interval(xn: tuple[int, int]) -> None:
    x, n = xn
    ci = wilson_interval(x, n)
    assert 0.0 <= ci.low <= ci.high <= 1.0
    if n:
        assert ci.contains(x / n)
