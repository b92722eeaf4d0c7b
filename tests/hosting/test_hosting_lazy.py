"""Lazy composition: a resolver composes an Attribution on the first use of its triple id, and answers exactly as if
every one had been composed up front.

The reference here composes *every* triple eagerly with ``compose(*table.triple(t))`` and each path (single
lookup, ``lookup_int``, batched ``lookup_many``) must give equal answers; afterwards the
resolver's ``composed_ids`` must be exactly the triple ids those lookups touched.
"""

from __future__ import annotations

import gc
import ipaddress
import random
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest

from monitor.hosting import Resolver
from monitor.hosting.asn import ProviderAsns
from monitor.hosting.fused import FusedTable
from monitor.hosting.prefixes import parse_ip
from monitor.snapshot import Attribution


@pytest.fixture(scope="module")
def table(resolver: Resolver) -> FusedTable:
    return resolver.table


@pytest.fixture(scope="module")
def eager(table: FusedTable) -> list[Attribution]:
    """Every triple's Attribution, composed up front as resolvers did before composition became lazy."""
    ref = Resolver.from_table(table, ProviderAsns.bundled())
    return [ref.compose(*table.triple(t)) for t in range(table.size)]


def fresh(table: FusedTable) -> Resolver:
    resolver = Resolver.from_table(table, ProviderAsns.bundled())
    assert resolver.composed_ids == frozenset()  # loading composes nothing
    return resolver


def sample(table: FusedTable, n: int, seed: int) -> list[str]:
    """Random addresses of both families, IPv4-mapped ones, and interval starts (random IPv6 addresses alone would
    land in a handful of intervals), with repeats."""
    rng = random.Random(seed)
    out = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(n)]
    out += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(n // 10)]
    out += [f"::ffff:{ipaddress.IPv4Address(rng.getrandbits(32))}" for _ in range(n // 10)]
    for i in rng.sample(range(len(table.starts4)), n // 2):  # an interval's first address, or the one before it
        out.append(str(ipaddress.IPv4Address(max(table.starts4[i] - rng.choice((0, 1)), 0))))
    for j in rng.sample(range(len(table.hi6)), n // 2):
        out.append(str(ipaddress.IPv6Address(table.hi6[j] << 64 | table.lo6[j])))
    out += rng.sample(out, n // 5)  # repeats: the second lookup of an id finds it composed
    rng.shuffle(out)
    return out


def expected_ids(table: FusedTable, ips: list[str]) -> list[int]:
    return [table.index(*parse_ip(ip)) for ip in ips]


def test_single_lookups_equal_the_eager_reference(table: FusedTable, eager: list[Attribution]) -> None:
    resolver = fresh(table)
    ips = sample(table, 4000, seed=1)
    tids = expected_ids(table, ips)
    got = [resolver.lookup(ip) for ip in ips]
    assert got == [eager[t] for t in tids]
    assert resolver.composed_ids == set(tids)  # lazy: exactly the touched ids, nothing else
    assert len(set(tids)) < table.size // 2  # (so the check above is not vacuous)
    # composed once: later lookups, and triple_results (every id is composed already), return the stored object
    kept = resolver.triple_results(np.array(tids, dtype=np.uint32))
    assert resolver.composed_ids == set(tids)
    for ip, first, k in zip(ips, got, kept, strict=True):
        assert resolver.lookup(ip) is first is k


def test_lookup_int_equals_the_eager_reference(table: FusedTable, eager: list[Attribution]) -> None:
    resolver = fresh(table)
    ips = sample(table, 2000, seed=2)
    tids = expected_ids(table, ips)
    assert [resolver.lookup_int(*parse_ip(ip)) for ip in ips] == [eager[t] for t in tids]
    assert resolver.composed_ids == set(tids)


def test_lookup_many_equals_the_eager_reference(table: FusedTable, eager: list[Attribution]) -> None:
    resolver = fresh(table)
    ips = sample(table, 4000, seed=3)
    tids = expected_ids(table, ips)
    # first a few singles, so the batch meets both composed and missing ids
    for ip in ips[:300]:
        resolver.lookup(ip)
    bad = ["", "not an ip", "fe80::1%eth0"]
    got = resolver.lookup_many([*ips, *bad])
    assert got[: len(ips)] == [eager[t] for t in tids]
    assert got[len(ips) :] == [None, None, eager[table.index(*parse_ip("fe80::1"))]]
    assert resolver.composed_ids == {*tids, table.index(*parse_ip("fe80::1"))}
    # mostly repeats: the memoised batch path
    assert resolver.lookup_many(ips[:50] * 10) == [eager[t] for t in tids[:50]] * 10
    # the batch stored what it composed: single lookups return the very same objects
    for ip, found in zip(ips, got, strict=False):
        assert resolver.lookup(ip) is found


def test_triple_results_composes_missing_and_repeated_ids(table: FusedTable, eager: list[Attribution]) -> None:
    resolver = fresh(table)
    [first] = resolver.triple_results(np.array([5], dtype=np.uint32))
    assert resolver.composed_ids == {5} and first == eager[5]
    tids = np.array([7, 5, 7, 0, table.size - 1, 7], dtype=np.uint32)
    got = resolver.triple_results(tids)
    assert got == [eager[t] for t in tids.tolist()]
    assert got[1] is first  # already composed: not composed again
    assert got[0] is got[2] is got[5]  # a repeated missing id is composed once
    assert resolver.composed_ids == {0, 5, 7, table.size - 1}


def test_overlay_resolver_is_lazy_too(table: FusedTable, eager: list[Attribution], tmp_path: Path) -> None:
    from monitor.hosting.loading import load_overlay

    path = tmp_path / "o.csv"
    path.write_text("1.2.3.0/24,acme,x1\n")
    resolver = Resolver.from_table(table, ProviderAsns.bundled(), [load_overlay(path)])
    assert not resolver.composed_ids
    assert resolver.lookup("1.2.3.4").provider == "acme"
    assert not resolver.composed_ids  # an overlay hit composes through the overlay cache only
    ips = sample(table, 1000, seed=4)
    tids = expected_ids(table, ips)
    assert [resolver.lookup(ip) for ip in ips] == [eager[t] for t in tids]
    assert resolver.composed_ids == set(tids)


def test_concurrent_first_lookups(table: FusedTable, eager: list[Attribution]) -> None:
    """Threads racing on the same (uncomposed) ids all get answers equal to the eager reference."""
    resolver = fresh(table)
    ips = sample(table, 1000, seed=5)
    want = [eager[t] for t in expected_ids(table, ips)]
    barrier = threading.Barrier(8)
    results: list[list[Attribution]] = []

    def work(offset: int) -> None:
        order = ips[offset:] + ips[:offset]
        barrier.wait()
        got = [resolver.lookup(ip) for ip in order]
        results.append(got[len(ips) - offset :] + got[: len(ips) - offset])

    threads = [threading.Thread(target=work, args=(k * 7,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    for got in results:
        assert got == want
    assert [resolver.lookup(ip) for ip in ips] == want


def test_resolver_is_freed_without_the_cycle_collector(table: FusedTable) -> None:
    """Nothing the resolver holds points back at it (no reference cycle: freed without the cycle collector)."""
    gc.disable()
    try:
        resolver = fresh(table)
        resolver.lookup("8.8.8.8")
        ref = weakref.ref(resolver)
        del resolver
        assert ref() is None
    finally:
        gc.enable()
