"""Hosting category and region rules: the curated AS table, the AS-name rule, the named long-tail providers, the
company-vs-cloud split (8.8.8.8 is Google, not Google Cloud), regions that are locations only, and tables that are
the same whether built cold, read from the cache, or built without a cache."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from monitor.cli import main
from monitor.errors import DatasetError
from monitor.hosting import Resolver, load_default_resolver
from monitor.hosting.asn import AsInfo, GeoTables, IntervalTable
from monitor.hosting.asntable import ProviderAsns, categories_of_names, category_of_name, read_asn_list
from monitor.hosting.formats import RangeDataset, RangeRecord, read_geofeed
from monitor.hosting.prefixes import parse_network
from monitor.hosting.whois import WhoisAnswer, from_answer
from monitor.snapshot import HOSTING_CATEGORIES, Attribution

TABLE = ProviderAsns.parse(
    "# test table, checked 2026-12-06\n"
    "asn,provider,category,as_names,source,checked\n"
    "64500,acme,hosting,ACME-AS|Acme Hosting Ltd,test,2026-12-01\n"
    "64501,,isp,RESI-NET,test,2026-12-01\n"
    ",bigcloud,cloud,,test,2026-12-01\n"
)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("Hosting Solution Ltd.", "hosting"),
        ("OOO Network of data-centers Selectel", "hosting"),
        ("Johann Wolfgang Goethe-Universitat Frankfurt am Main", "education"),
        ("Ministry of Finance", "government"),
        ("Deutsche Telekom AG", "isp"),
        ("Comcast Cable Communications", "isp"),
        ("University Cloud Services", "education"),  # education is checked before hosting
        ("QUAD9-AS-1", "unknown"),
        (None, "unknown"),
    ],
)
def test_as_name_rule(name: str | None, category: str) -> None:
    assert category_of_name(name) == category


def test_curated_rows_by_number_then_name_and_provider_categories() -> None:
    assert TABLE.provider_of(64500, None) == "acme" and TABLE.category_of(64500, None) == "hosting"
    assert TABLE.provider_of(None, "acme hosting ltd") == "acme"  # names match case-insensitively
    assert TABLE.provider_of(64999, "ACME-AS") == "acme"  # an unknown number falls back to the name
    assert TABLE.provider_of(64501, "RESI-NET") is None and TABLE.category_of(64501, None) == "isp"
    assert TABLE.category_of_provider("bigcloud") == "cloud" and TABLE.category_of_provider("nobody") == "unknown"
    assert TABLE.category_of(None, "Some Telecom") == "isp"  # no row: the AS-name rule
    assert TABLE.data_date == "2026-12-06" and all(r.source == "test" for r in TABLE.rows)
    assert ProviderAsns.bundled().data_date == "2026-12-06"  # the header date, not a source note's


def test_datacenter_list_adds_hosting_but_never_overrides_a_curated_row() -> None:
    listed = read_asn_list(b"AS64501 # RESI-NET, US\nAS64777 # FOO - Foo Servers Inc., US\n\nAS64778\n")
    assert listed == [(64501, ("RESI-NET",)), (64777, ("FOO", "Foo Servers Inc.")), (64778, ())]
    table = TABLE.with_hosting(listed)
    assert table.category_of(64501, None) == "isp"  # curated wins
    assert table.category_of(64777, None) == "hosting" and table.category_of(None, "FOO") == "hosting"
    assert table.provider_of(64777, "FOO") is None  # a list names no provider
    with pytest.raises(DatasetError, match="expected 'AS<number> # name'"):
        read_asn_list(b"{not: a list}")
    with pytest.raises(DatasetError, match="no AS numbers"):
        read_asn_list(b"# only a comment\n")


@pytest.mark.parametrize(
    "text",
    [
        "asn,provider,category\nx1,acme,hosting\n",  # not a number
        "asn,provider,category\n64500,acme,datacentre\n",  # not a category
        "asn,provider,category,as_names\n,,hosting,\n",  # names neither an AS nor a provider
        "provider,category\nacme,hosting\n",  # no asn column
    ],
)
def test_bad_table_rows_are_errors(text: str) -> None:
    with pytest.raises(DatasetError, match=r"asn_providers\.csv"):
        ProviderAsns.parse(text)


def test_bundled_table_rows_state_source_date_and_a_known_category() -> None:
    table = ProviderAsns.bundled()
    assert len(table.rows) > 80
    for row in table.rows:
        assert row.category in HOSTING_CATEGORIES and row.category != "unknown", row
        assert row.source and len(row.checked) == 10, row
    numbers = [r.asn for r in table.rows if r.asn is not None]
    assert len(numbers) == len(set(numbers)), "an AS number listed twice"


# The hosting companies issue 14 names, with the AS each announces from and the GeoLite2 name printed for it.
LONG_TAIL = [
    ("datacamp", 60068, "Datacamp Limited"),
    ("latitude", 396356, "LATITUDE-SH"),
    ("latitude", 262287, "Latitude.sh LTDA"),
    ("cherryservers", 16125, "UAB Cherry Servers"),
    ("m247", 9009, "M247 Europe SRL"),
    ("serverscom", 7979, "SERVERS-COM"),
    ("hivelocity", 29802, "Hivelocity LLC"),
    ("webnx", 18450, "WEBNX"),
    ("worldstream", 49981, "WorldStream B.V."),
    ("selectel", 49505, "OOO Network of data-centers Selectel"),
    ("limestone", 46475, "LIMESTONENETWORKS"),
    ("inovare-prim", 60602, "Inovare-Prim SRL"),
    ("nessus", 47692, "Nessus GmbH"),
    ("globaltelehost", 62563, "AS-GLOBALTELEHOST"),
    ("tzulo", 11878, "TZULO"),
]


@pytest.mark.parametrize(("provider", "asn", "name"), LONG_TAIL)
def test_named_long_tail_providers_by_number_and_by_offline_name(provider: str, asn: int, name: str) -> None:
    table = ProviderAsns.bundled()
    assert table.provider_of(asn, None) == provider  # online / iptoasn: AS number
    assert table.provider_of(None, name) == provider  # offline: GeoLite2's AS name
    assert table.category_of(asn, name) == "hosting"


def resolver_for(records: list[RangeRecord], as_rows: list[tuple[int, int, AsInfo | str]]) -> Resolver:
    ds = RangeDataset("ranges", "test", "2026-12-01", tuple(records))
    starts, ends, labels = [r[0] for r in as_rows], [r[1] for r in as_rows], [r[2] for r in as_rows]
    asn: IntervalTable[AsInfo | str] = IntervalTable({4: (starts, ends, list(range(len(labels))))}, list(labels))
    country: IntervalTable[str] = IntervalTable({4: ([0], [2**32 - 1], [0])}, ["DE"])
    return Resolver.from_datasets([ds], GeoTables(asn, country, "geo", "2024-06-18"), ProviderAsns.bundled())


def test_region_is_a_location_or_nothing_never_the_country() -> None:
    net = parse_network("10.0.0.0/16")
    r = resolver_for(
        [RangeRecord(net, "aws", "eu-central-1", "EC2"), RangeRecord(parse_network("10.1.0.0/16"), "cloudflare")],
        [(0x0A000000, 0x0A01FFFF, AsInfo(16509, "AMAZON-02")), (0x0B000000, 0x0B00FFFF, "Hetzner Online GmbH"),
         (0x0C000000, 0x0C00FFFF, "COMCAST-7922")],
    )  # fmt: skip
    ec2 = r.lookup("10.0.0.1")
    assert (ec2.provider, ec2.region, ec2.country, ec2.category) == ("aws", "eu-central-1", "DE", "cloud")
    anycast = r.lookup("10.1.0.1")
    assert (anycast.provider, anycast.region, anycast.category) == ("cloudflare", None, "hosting")
    by_as = r.lookup("11.0.0.1")  # AS-matched: who, not where
    assert (by_as.provider, by_as.region, by_as.country, by_as.category) == ("hetzner", None, "DE", "hosting")
    isp = r.lookup("12.0.0.1")
    assert (isp.provider, isp.region, isp.category) == ("other:COMCAST-7922", None, "isp")
    nothing = r.lookup("13.0.0.1")
    assert (nothing.provider, nothing.region, nothing.category) == ("unknown", None, "unknown")


def test_geofeed_region_is_the_slug_or_the_city() -> None:
    raw = b"1.0.0.0/24,DE,DE-HE,Frankfurt,\n1.0.1.0/24,SG,SG-01,,\n1.0.2.0/24,US,US-NJ,Newark,\n"
    feed = read_geofeed(raw, "f", "2026-12-01", "acme", region_map={"US-NJ": "ewr1"})
    assert [(r.region, r.country) for r in feed.records] == [("Frankfurt", "DE"), (None, "SG"), ("ewr1", "US")]


def test_whois_answer_gets_category_and_no_region(resolver: Resolver) -> None:
    local = Attribution("unknown", country="DE")
    got = from_answer(resolver, local, WhoisAnswer(24940, "HETZNER-AS", "DE", "88.99.0.0/16", "cymru-dns", 0.0))
    assert (got.provider, got.region, got.country, got.category) == ("hetzner", None, "DE", "hosting")
    other = from_answer(resolver, local, WhoisAnswer(64512, "Example Broadband", "DE", None, "rdap", 0.0))
    assert (other.provider, other.region, other.category) == ("other:Example Broadband", None, "isp")


def test_google_public_dns_is_google_not_gcp(resolver: Resolver) -> None:
    """AS15169 is Google's own network (public DNS, services); GCP customer VMs come from cloud.json / AS396982."""
    dns = resolver.lookup("8.8.8.8")
    assert (dns.provider, dns.category, dns.region) == ("google", "hosting", None)
    vm = resolver.lookup("35.204.0.1")  # cloud.json europe-west4
    assert (vm.provider, vm.category, vm.region) == ("gcp", "cloud", "europe-west4")
    assert ProviderAsns.bundled().provider_of(396982, None) == "gcp"
    assert ProviderAsns.bundled().provider_of(8075, None) == "microsoft"  # Microsoft's corporate AS: not Azure


def test_classify_command_says_google_with_its_category(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITOR_DATA_DIR", str(data_dir))
    assert main(["classify", "--offline", "--json", "8.8.8.8"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["provider"], row["category"]) == ("google", "hosting")
    assert main(["classify", "--offline", "8.8.8.8"]) == 0
    out = capsys.readouterr().out
    assert "category" in out and "google" in out and "gcp" not in out


def sample_ips(resolver: Resolver, n: int) -> list[str]:
    rng = random.Random(7)
    starts = resolver.table.starts4
    ips = [".".join(str(rng.randrange(256)) for _ in range(4)) for _ in range(n)]
    ips += [".".join(str(b) for b in starts[i].to_bytes(4, "big")) for i in rng.sample(range(len(starts)), n)]
    return [*ips, "2a01:4f8::1", "2606:4700::1", "2a05:d014::1"]


def test_cold_warm_and_uncached_loads_give_the_same_tables_and_answers(tmp_path: Path) -> None:
    cold = load_default_resolver(data_dir=tmp_path)  # builds and writes the cache
    assert len(list((tmp_path / "cache").glob("fused-*.bin"))) == 1
    warm = load_default_resolver(data_dir=tmp_path)  # reads it
    uncached = load_default_resolver(data_dir=tmp_path / "other", use_cache=False)
    assert not (tmp_path / "other" / "cache").exists()
    for attr in ("starts4", "ids4", "hi6", "lo6", "ids6", "triples"):
        assert getattr(cold.table, attr) == getattr(warm.table, attr) == getattr(uncached.table, attr), attr
    ips = sample_ips(cold, 3000)
    want = cold.lookup_many(ips)
    assert warm.lookup_many(ips) == want == uncached.lookup_many(ips)
    assert [warm.lookup(ip) for ip in ips] == want
    assert {a.category for a in want if a is not None} >= {"cloud", "hosting", "isp", "unknown"}
    assert cold.datasets == warm.datasets


def test_bulk_name_rule_equals_one_by_one_on_every_bundled_as_name(resolver: Resolver) -> None:
    """The batch path's :func:`categories_of_names` answers as :func:`category_of_name` for each GeoLite2 AS name."""
    names = [a if isinstance(a, str) else a.name for a in resolver.table.asn_labels]
    names += [None, "", "Cloud Telecom", "a university\nnet", "GOV", "Straße Telekom"]  # the last two: slow path
    assert categories_of_names(names) == [category_of_name(n) for n in names]
    assert categories_of_names(names[:-2]) == [category_of_name(n) for n in names[:-2]]  # the one-pass path
    table = resolver.table  # and what the table keeps per AS label is that answer
    assert [table.name_rule(t) for t in range(0, table.size, 97)] == [
        None if (a := table.triple(t)[1]) is None else category_of_name(a if isinstance(a, str) else a.name)
        for t in range(0, table.size, 97)
    ]


def test_overlay_provider_without_a_row_takes_the_category_of_its_as(resolver: Resolver, tmp_path: Path) -> None:
    from monitor.hosting.loading import load_overlay

    path = tmp_path / "o.csv"
    path.write_text(
        "prefix,provider,region,country,asn,as_name\n"
        "127.1.0.0/24,other:Comcast Cable,,US,7922,COMCAST-7922\n"  # the simulated devnet's overlay rows look so
        "127.2.0.0/24,hetzner,fsn1,DE,24940,Hetzner Online GmbH\n"
        "127.3.0.0/24,lab,rack-1,DE,,\n"
    )
    r = Resolver.from_table(resolver.table, ProviderAsns.bundled(), [load_overlay(path)])
    assert (r.lookup("127.1.0.9").category, r.lookup("127.1.0.9").region) == ("isp", None)
    assert (r.lookup("127.2.0.9").category, r.lookup("127.2.0.9").region) == ("hosting", "fsn1")
    assert r.lookup("127.3.0.9").category == "unknown"  # nothing says what "lab" is


def test_no_region_anywhere_is_a_country_or_subdivision_code(resolver: Resolver) -> None:
    """Over the whole fused table (every distinct answer): regions are provider regions or places, never ISO codes."""
    import re

    iso = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
    table = resolver.table
    fresh = Resolver.from_table(table, ProviderAsns.bundled())  # (composing everything: not the shared fixture)
    answers = fresh.triple_results(np.arange(table.size, dtype=np.uint32))
    regions = {a.region for a in answers if a.region is not None}
    assert regions and not {r for r in regions if iso.match(r)}
    assert all(a.region is None for a in answers if a.source.startswith("asn:"))  # AS-matched: no region
    assert {a.category for a in answers} <= set(HOSTING_CATEGORIES)


def test_datacenter_list_fixture_with_irregular_real_lines_parses() -> None:
    rows = read_asn_list((Path(__file__).parent / "fixtures" / "datacenter-asns.txt").read_bytes())
    listed = dict(rows)
    assert len(rows) == 35 and len(listed) == 34  # AS8560 is listed twice, as in the real file
    assert listed[19281] == ("QUAD9-AS-1", "Quad9") and listed[216071] == ("VDSINA",)
    assert (8560, ("ONEANDONE-AS / IONOS",)) in rows and (8560, ("IONOS SE",)) in rows
    assert listed[42473] == ("ANEXIA-AS A-9020 # Klagenfurt",)  # kept whole: matches nothing, harms nothing
