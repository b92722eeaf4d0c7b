"""The fused lookup table against the three tables it replaces, batched against single lookups, and its disk cache."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import build_range_table, label_lookup

from monitor.hosting import Resolver, load_default_resolver
from monitor.hosting.asn import AsInfo, GeoTables, IntervalTable, ProviderAsns
from monitor.hosting.formats import RangeDataset, RangeRecord, read_overlay
from monitor.hosting.fused import FusedTable
from monitor.hosting.prefixes import Network
from monitor.hosting.resolver import RangeHit

PROVIDERS = ProviderAsns.parse("# checked 2026-01-01\nasn,provider,as_names\n64500,hetzner,HETZNER\n")
BITS = {4: 32, 6: 128}


def text(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


@st.composite
def tables(draw: st.DrawFn, version: int) -> tuple[list[RangeRecord], IntervalTable[AsInfo | str], IntervalTable[str]]:
    bits = BITS[version]
    records = []
    for _ in range(draw(st.integers(0, 12))):
        plen = draw(st.integers(0, bits))
        first = draw(st.integers(0, (1 << bits) - 1)) >> (bits - plen) << (bits - plen)
        net = Network(version, first, first | ((1 << (bits - plen)) - 1), plen)
        records.append(RangeRecord(net, draw(st.sampled_from(["aws", "gcp"])), draw(st.sampled_from([None, "r1"]))))

    def intervals(n_labels: int) -> tuple[list[int], list[int], list[int]]:
        cuts = sorted(set(draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=16))))
        starts, ends, ids = [], [], []
        for a, b in zip(cuts[::2], cuts[1::2], strict=False):
            if draw(st.booleans()):
                starts.append(a)
                ends.append(b)
                ids.append(draw(st.integers(0, n_labels - 1)))
        return starts, ends, ids

    labels: list[AsInfo | str | None] = ["HETZNER", "COMCAST", AsInfo(64500, "H"), AsInfo(7922, None), None]
    asn = IntervalTable({version: intervals(len(labels))}, labels)
    country = IntervalTable({version: intervals(3)}, ["DE", "US", None])
    return records, asn, country


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([4, 6]).flatmap(lambda v: st.tuples(st.just(v), tables(v))), st.data())
def test_fused_table_answers_like_the_three_tables(
    case: tuple[int, tuple[list[RangeRecord], IntervalTable[AsInfo | str], IntervalTable[str]]], data: st.DataObject
) -> None:
    version, (records, asn, country) = case
    ds = RangeDataset("t", "t", "2026-01-01", tuple(records))
    resolver = Resolver.from_datasets([ds], GeoTables(asn, country, "g", "2024-01-01"), PROVIDERS)
    ranges = build_range_table([ds])
    edges = {0, (1 << BITS[version]) - 1}
    for net in (r.network for r in records):
        edges |= {net.first - 1, net.first, net.last, net.last + 1}
    for starts, ends, _ in (asn.rows(version), country.rows(version)):
        for s, e in zip(starts, ends, strict=True):
            edges |= {s - 1, s, e, e + 1}
    extra = data.draw(st.lists(st.integers(0, (1 << BITS[version]) - 1), max_size=20))
    values = sorted(v for v in edges | set(extra) if 0 <= v < 1 << BITS[version])
    expected = [
        resolver.compose(ranges.lookup(version, v), label_lookup(asn, version, v), label_lookup(country, version, v))
        for v in values
    ]
    assert [resolver.lookup_int(version, v) for v in values] == expected
    # as text, ::ffff:a.b.c.d is IPv4 (parse_ip): compare the other addresses
    texts, wanted = zip(*[(text(version, v), e) for v, e in zip(values, expected, strict=True) if v >> 32 != 0xFFFF],
                        strict=True)  # fmt: skip
    assert [resolver.lookup(t) for t in texts] == list(wanted)
    assert resolver.lookup_many(list(texts)) == list(wanted)


addresses = st.one_of(
    st.integers(0, (1 << 32) - 1).map(lambda v: text(4, v)),
    st.integers(0x2000 << 112, (0x4000 << 112) - 1).map(lambda v: text(6, v)),
    st.integers(0, (1 << 32) - 1).map(lambda v: f"::ffff:{text(4, v)}"),
    st.sampled_from(["", "junk", "1.2.3", "01.2.3.4", "::g", "fe80::1%eth0", "2a01:4f8::1", "18.138.108.67"]),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(addresses, max_size=60))
def test_batched_equals_single_on_random_addresses(resolver: Resolver, ips: list[str]) -> None:
    def single(ip: str) -> object:
        try:
            return resolver.lookup(ip)
        except ValueError:
            return None

    assert resolver.lookup_many(ips) == [single(ip) for ip in ips]
    assert resolver.lookup_many(ips * 3) == [single(ip) for ip in ips] * 3  # the path that resolves repeats once


def test_batched_with_overlays_equals_single(tmp_path: Path, data_dir: Path) -> None:
    overlay = tmp_path / "o.csv"
    overlay.write_text("127.0.0.0/16,sim-aws,us-east-1\n2001:db8::/32,sim-v6,lab\n18.138.108.0/24,sim-x,x\n")
    resolver = load_default_resolver(overlays=[overlay], data_dir=data_dir)
    ips = ["127.0.0.5", "127.1.0.1", "2001:db8::7", "::ffff:127.0.0.9", "18.138.108.67", "8.8.8.8", "", "x"]
    singles = [resolver.lookup(ip) for ip in ips[:-2]] + [None, None]
    assert [a.provider if a else None for a in singles] == [
        "sim-aws", "unknown", "sim-v6", "sim-aws", "sim-x", "google", None, None]  # fmt: skip
    assert resolver.lookup_many(ips) == singles
    assert resolver.lookup_many(ips[:6]) == singles[:6]  # all-valid fast path


def test_cache_round_trip_and_corrupt_cache_is_rebuilt(data_dir: Path, resolver: Resolver) -> None:
    table = resolver.table
    again = FusedTable.loads(table.dumps(), RangeHit)
    assert (again.starts4, again.ids4, again.hi6, again.lo6, again.triples) == (
        table.starts4, table.ids4, table.hi6, table.lo6, table.triples)  # fmt: skip
    cached = list((data_dir / "cache").glob("fused-*.bin"))
    assert len(cached) == 1
    cached[0].write_bytes(b"garbage")
    rebuilt = load_default_resolver(data_dir=data_dir)
    assert rebuilt.lookup("18.138.108.67") == resolver.lookup("18.138.108.67")
    assert cached[0].read_bytes() != b"garbage"
    with pytest.raises(ValueError):
        FusedTable.loads(b"\x00", RangeHit)


def test_overlay_only_addresses_and_reserved_space(tmp_path: Path) -> None:
    overlay = read_overlay(b"prefix,provider\n10.0.0.0/8,lab\n", "lab.csv", "2026-01-01")
    empty = GeoTables(IntervalTable({}, []), IntervalTable({}, []), "g", "2024-01-01")
    resolver = Resolver.from_datasets([], empty, PROVIDERS, [overlay])
    assert resolver.lookup_many(["10.1.1.1", "11.0.0.1", "::1"]) == [
        resolver.lookup("10.1.1.1"), resolver.lookup("11.0.0.1"), resolver.lookup("::1")]  # fmt: skip
    assert resolver.lookup("10.1.1.1").provider == "lab" and resolver.lookup("::1").provider == "unknown"
