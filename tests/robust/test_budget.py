"""Per-IP and per-referrer limits on nodes only one peer vouched for: held, counted, released by a second voucher."""

from __future__ import annotations

from collections import Counter

from monitor.crawl.budget import Limits, Vouching


def test_per_ip_limit_holds_and_a_second_voucher_releases() -> None:
    filtered: Counter[str] = Counter()
    v = Vouching(Limits(per_ip=2, per_referrer=100), filtered)
    assert v.admit(b"n1", "1.1.1.1", b"sybil") and v.admit(b"n2", "1.1.1.1", b"sybil")
    assert not v.admit(b"n3", "1.1.1.1", b"sybil")
    assert not v.admit(b"n3", "1.1.1.1", b"sybil")  # the same peer again vouches for nothing new
    assert filtered == {"limit_per_ip": 1}
    assert v.admit(b"n3", "1.1.1.1", b"honest")  # listed by another peer: admitted after all
    assert filtered == {} and v.released == 1
    assert v.admit(b"n4", "2.2.2.2", b"sybil")  # other IPs are not affected


def test_per_referrer_limit_counts_distinct_nodes() -> None:
    filtered: Counter[str] = Counter()
    v = Vouching(Limits(per_ip=100, per_referrer=3), filtered)
    admitted = [v.admit(bytes([i]), f"10.0.0.{i}", b"flooder") for i in range(10)]
    assert admitted == [True] * 3 + [False] * 7
    assert filtered == {"limit_per_referrer": 7}


def test_held_table_is_bounded_and_overflow_counted() -> None:
    filtered: Counter[str] = Counter()
    v = Vouching(Limits(per_ip=1, per_referrer=100, held_max=5), filtered)
    for i in range(20):
        v.admit(bytes([i]), "1.1.1.1", b"sybil")
    assert filtered == {"limit_per_ip": 5} and v.held_overflow == 14


def test_disabled_limits_admit_everything() -> None:
    v = Vouching(Limits(enabled=False), Counter())
    assert all(v.admit(i.to_bytes(2, "big"), "1.1.1.1", b"x") for i in range(1000))
