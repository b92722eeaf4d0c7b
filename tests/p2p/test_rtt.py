"""Adaptive request timeouts (monitor/p2p/rtt.py): samples are given on an injected clock's terms."""

from __future__ import annotations

import pytest

from monitor.p2p.keys import NodeID
from monitor.p2p.rtt import MIN_SAMPLES, NETWORK_MARGIN, RttTable

A, B = NodeID(b"a" * 32), NodeID(b"b" * 32)


def warmed(floor: float, ceiling: float, rtt: float = 0.01, peers: int = MIN_SAMPLES) -> RttTable:
    """A table that has seen enough fast peers for the network-wide timeout to be 1.5 x ``rtt``."""
    table = RttTable(floor, ceiling)
    for i in range(peers):
        table.observe(NodeID((10_000 + i).to_bytes(32, "big")), rtt)
    return table


def test_first_sample_gives_three_round_trips_within_floor_and_ceiling() -> None:
    table = warmed(floor=0.05, ceiling=1.0, peers=500)
    table.observe(B, 0.001)
    assert table.timeout(B) == pytest.approx(0.05)  # never below the floor
    table.observe(A, 0.1)
    assert table.timeout(A) == pytest.approx(0.3)  # srtt + 4 * rtt/2
    table.observe(A, 2.0)
    assert table.timeout(A) == pytest.approx(1.0)  # nor above the configured timeout


def test_retries_double_the_wait() -> None:
    table = warmed(floor=0.05, ceiling=1.0)
    table.observe(A, 0.1)
    assert [round(table.timeout(A, n), 3) for n in range(3)] == [0.3, 0.6, 1.2]


def test_steady_round_trips_shrink_the_variance() -> None:
    table = warmed(floor=0.01, ceiling=5.0, peers=500)
    for _ in range(40):
        table.observe(A, 0.2)
    assert 0.2 <= table.timeout(A) < 0.21


def test_unknown_peers_wait_the_ceiling_until_enough_samples_then_the_network_p99() -> None:
    table = RttTable(floor=0.05, ceiling=1.0)
    for i in range(MIN_SAMPLES - 1):
        table.observe(NodeID(i.to_bytes(32, "big")), 0.1)
    assert table.timeout(B) == 1.0
    samples = [0.1] * 98 + [0.4, 0.4]  # a slow tail the percentile must keep
    for i, rtt in enumerate(samples):
        table.observe(NodeID((1000 + i).to_bytes(32, "big")), rtt)
    assert table.timeout(B) == pytest.approx(NETWORK_MARGIN * 0.4)
    assert table.timeout(B, 1) == pytest.approx(2 * NETWORK_MARGIN * 0.4)


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        RttTable(floor=0.0, ceiling=1.0)
    with pytest.raises(ValueError):
        RttTable(floor=2.0, ceiling=1.0)


def test_an_answered_peer_never_waits_less_than_an_unknown_one() -> None:
    table = warmed(floor=0.01, ceiling=1.0, rtt=0.2)  # the network: 0.3 s for unknown peers
    table.observe(A, 0.01)  # one quick PONG
    assert table.timeout(A) == pytest.approx(0.3)
    assert table.timeout(B) == pytest.approx(0.3)
