"""The range, AS and country tables fused into ONE sorted, disjoint interval table per address family.

Each of the three source tables is a step function over the address space (a label, or none, from each start to the
next). Their union of breakpoints is again a step function whose value is the *triple* (range block, AS label,
country); identical triples are numbered once, so a lookup is one search returning a small integer, and the resolver
turns that integer into a shared :class:`~monitor.snapshot.Attribution` (composed on first use, see
:mod:`monitor.hosting.resolver`). ~1.5 M source intervals
become ~0.9 M fused ones (0.61 M IPv4, 0.28 M IPv6) with ~0.1 M distinct triples.

Fusing is done with numpy at build time (sort all breakpoints, forward-fill each table's label, number the triples);
the result is a few flat integer arrays that the loader caches on disk as raw bytes (``tobytes``/``frombuffer``: no
parsing, no Python object per interval). Lookups use those same buffers two ways:

- one address: ``bisect`` on ``array`` views, narrowed first by a 20-bit top-prefix index (IPv4: ``value >> 12``;
  IPv6: the top 20 bits), so a search touches a handful of entries instead of ~600 k;
- a batch: ``np.searchsorted`` over the uint32 starts (IPv4) or the (high, low) uint64 halves (IPv6).

IPv6 starts are kept as two uint64 halves because numpy has no 128-bit integers.
"""

from __future__ import annotations

import marshal
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.hosting.asn import AsInfo, LabelTable
from monitor.hosting.asntable import categories_of_names
from monitor.hosting.rangecols import RangeSteps
from monitor.hosting.steps import Steps
from monitor.snapshot import HOSTING_CATEGORIES, HostingCategory

__all__ = ["FusedTable", "fuse"]

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
_MASK64 = (1 << 64) - 1
INDEX_BITS = 20  # top-prefix index: 2**20 blocks per family (4 MiB each), ~0.6 IPv4 starts per block on average
SHIFT4 = 32 - INDEX_BITS
SHIFT6 = 64 - INDEX_BITS  # applied to the upper 64-bit half
_FORMAT = 2  # 2: AS-name rule categories per label
_CATEGORY_INDEX = {c: i for i, c in enumerate(HOSTING_CATEGORIES)}
AsnLabel = AsInfo | str


def _merge(tables: Sequence[Steps]) -> tuple[U64, U64, list[I64]]:
    """Union of breakpoints; at each, the label every table holds there (forward fill over the sorted events)."""
    hi = np.concatenate([t.hi for t in tables])
    lo = np.concatenate([t.lo for t in tables])
    # any order of equal positions works: each table has one event per position at most
    # each table is already sorted: a stable sort merges the runs in ~linear time (an unstable one re-sorts)
    order = np.argsort(lo, kind="stable") if not hi.any() else np.lexsort((lo, hi))
    hi, lo = hi[order], lo[order]
    which = np.concatenate([np.full(len(t.hi), k) for k, t in enumerate(tables)])[order]
    label = np.concatenate([t.labels for t in tables])[order]
    n = len(hi)
    last = np.ones(n, dtype=bool)  # the last event at each distinct position sees every table's state there
    last[:-1] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    states = []
    for k in range(len(tables)):
        at = np.maximum.accumulate(np.where(which == k, np.arange(n), -1))
        states.append(np.where(at >= 0, label[np.maximum(at, 0)], -1)[last])
    return hi[last], lo[last], states


class FusedTable:
    """One table per family: ``starts`` → triple id; ``triples[id]`` = (range hit id, AS label id, country id)."""

    __slots__ = ("_hi6_np", "_ids4_np", "_ids6_np", "_lo6_np", "_starts4_np", "asn_labels", "bounds4", "bounds6",
                 "countries", "hi6", "hits", "ids4", "ids6", "lo6", "meta", "name_rules", "starts4",
                 "triples")  # fmt: skip

    def __init__(self, columns: dict[str, bytes], hits: list[Any], asn_labels: list[AsnLabel],
                 countries: list[str], meta: dict[str, Any]) -> None:  # fmt: skip
        """From raw column bytes (what :func:`fuse` builds and :meth:`dumps` stores)."""
        self.hits = hits
        self.asn_labels = asn_labels
        # per AS label, the index in HOSTING_CATEGORIES of what its name suggests (asntable.category_of_name): worked
        # out for all labels at build time, in bulk, so composing an answer never runs the rule itself
        self.name_rules = columns["name_rules"]
        self.countries = countries
        self.meta = meta  # dataset dates and the AS / geo source names (see loading.py)
        cols = {k: _array("I" if k in ("starts4", "ids4", "ids6", "triples") else "Q", v)
                for k, v in columns.items() if k != "name_rules"}  # fmt: skip
        self.starts4, self.ids4 = cols["starts4"], cols["ids4"]
        self.hi6, self.lo6, self.ids6 = cols["hi6"], cols["lo6"], cols["ids6"]
        self.triples = cols["triples"]  # flat, 3 per triple, each id + 1 (0 = none)
        # numpy views of the same buffers (no copy), for batches
        self._starts4_np = np.frombuffer(self.starts4, dtype=np.uint32)
        self._ids4_np = np.frombuffer(self.ids4, dtype=np.uint32)
        self._hi6_np = np.frombuffer(self.hi6, dtype=np.uint64)
        self._lo6_np = np.frombuffer(self.lo6, dtype=np.uint64)
        self._ids6_np = np.frombuffer(self.ids6, dtype=np.uint32)
        # top-prefix index: a search for an address in block b only looks at entries [bounds[b], bounds[b + 1])
        # (counted per block with bincount: 3x faster than searchsorted for 2**20 block starts)
        top4 = (self._starts4_np >> SHIFT4).astype(np.intp)
        on_edge = top4[(self._starts4_np & ((1 << SHIFT4) - 1)) == 0]  # starts equal to their block's first address
        bounds4 = _starts_before(top4) + np.append(np.bincount(on_edge, minlength=1 << INDEX_BITS), 0)
        bounds6 = _starts_before((self._hi6_np >> np.uint64(SHIFT6)).astype(np.intp))
        self.bounds4 = _array("I", bounds4.astype(np.uint32).tobytes())
        self.bounds6 = _array("I", bounds6.astype(np.uint32).tobytes())

    @property
    def size(self) -> int:
        return len(self.triples) // 3

    def triple(self, tid: int) -> tuple[Any, AsnLabel | None, str | None]:
        """The (range hit, AS label, country) of one triple id; ``None`` where that table has nothing."""
        h, a, c = self.triples[3 * tid : 3 * tid + 3]
        return (self.hits[h - 1] if h else None, self.asn_labels[a - 1] if a else None,
                self.countries[c - 1] if c else None)  # fmt: skip

    def name_rule(self, tid: int) -> HostingCategory | None:
        """What the AS name of triple ``tid`` suggests as its category (``None``: the triple has no AS label)."""
        a = self.triples[3 * tid + 1]
        return HOSTING_CATEGORIES[self.name_rules[a - 1]] if a else None

    def index4(self, value: int) -> int:
        block = value >> SHIFT4
        bounds = self.bounds4
        return self.ids4[bisect_right(self.starts4, value, bounds[block], bounds[block + 1]) - 1]

    def index6(self, high: int, low: int) -> int:
        """Triple id of the IPv6 address ``high << 64 | low``."""
        block = high >> SHIFT6
        hi6 = self.hi6
        right = bisect_right(hi6, high, self.bounds6[block], self.bounds6[block + 1])
        left = bisect_left(hi6, high, self.bounds6[block], right)  # starts sharing the upper half: compare the lower
        i = bisect_right(self.lo6, low, left, right) - 1 if left < right else right - 1
        return self.ids6[i]

    def index(self, version: int, value: int) -> int:
        return self.index4(value) if version == 4 else self.index6(value >> 64, value & _MASK64)

    def indices4(self, values: npt.NDArray[np.uint32]) -> U32:
        """Triple ids of many IPv4 addresses."""
        ids: U32 = self._ids4_np[_sorted_search(self._starts4_np, values) - 1]
        return ids

    def indices6(self, high: U64, low: U64) -> U32:
        """Triple ids of many IPv6 addresses given as (high, low) uint64 halves."""
        hi6: U64 = self._hi6_np
        lo6: U64 = self._lo6_np
        i = _sorted_search(hi6, high) - 1
        # rare: the start found shares the upper half but lies past the address; settle those one by one
        for k in np.flatnonzero((hi6[i] == high) & (lo6[i] > low)).tolist():
            i[k] = self._slot6(int(high[k]), int(low[k]))
        ids: U32 = self._ids6_np[i]
        return ids

    def _slot6(self, high: int, low: int) -> int:
        right = bisect_right(self.hi6, high)
        left = bisect_left(self.hi6, high, 0, right)
        return bisect_right(self.lo6, low, left, right) - 1

    def dumps(self) -> bytes:
        named = {"starts4": self.starts4, "ids4": self.ids4, "hi6": self.hi6, "lo6": self.lo6, "ids6": self.ids6,
                 "triples": self.triples}  # fmt: skip
        cols = {k: v.tobytes() for k, v in named.items()}
        cols["name_rules"] = self.name_rules
        hits = [(h.provider, h.region, h.service, h.country, h.source, h.data_date) for h in self.hits]
        labels = [a if isinstance(a, str) else (a.asn, a.name) for a in self.asn_labels]
        return marshal.dumps((_FORMAT, cols, hits, labels, self.countries, self.meta))

    @classmethod
    def loads(cls, data: bytes, hit_type: Any) -> FusedTable:
        """Inverse of :meth:`dumps`; ``hit_type`` rebuilds range hits from their fields. Raises ``ValueError``."""
        fmt, cols, hits, labels, countries, meta = marshal.loads(data)
        if fmt != _FORMAT:
            raise ValueError(f"fused table format {fmt}")
        asn_labels: list[AsnLabel] = [a if isinstance(a, str) else AsInfo(*a) for a in labels]
        return cls(cols, [hit_type(*h) for h in hits], asn_labels, countries, meta)


def _starts_before(top: npt.NDArray[np.intp]) -> I64:
    """For each block b (and one past the last), how many entries have a top prefix below b."""
    out = np.zeros((1 << INDEX_BITS) + 1, dtype=np.int64)
    np.cumsum(np.bincount(top, minlength=1 << INDEX_BITS), out=out[1:])
    return out


def _sorted_search(starts: npt.NDArray[Any], keys: npt.NDArray[Any]) -> I64:
    """``searchsorted(starts, keys, "right")``, on sorted keys: random probes into ~1 M starts miss the CPU cache,
    ascending ones reuse it (measured 3x faster for 100 k keys, sort included)."""
    order = np.argsort(keys)
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = np.searchsorted(starts, keys[order], "right")
    return out


def _array(typecode: str, data: bytes) -> array[int]:
    out = array(typecode)
    out.frombytes(data)
    return out


def _compact(ids: I64, values: Sequence[Any]) -> tuple[I64, list[Any]]:
    """Renumber the label ids actually used (1-based, 0 = none) and keep only those labels."""
    used = np.flatnonzero(np.bincount(ids[ids >= 0], minlength=len(values)))  # np.unique without the sort
    remap = np.zeros(max(len(values), 1) + 1, dtype=np.int64)
    remap[used + 1] = np.arange(1, len(used) + 1)
    return remap[ids + 1], [values[i] for i in used.tolist()]


def _factorize(keys: I64) -> tuple[I64, I64]:
    """Distinct keys (sorted) and each key's index among them: ``np.unique(keys, return_inverse=True)`` done with one
    unstable argsort."""
    order = np.argsort(keys)
    ranked = keys[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = ranked[1:] != ranked[:-1]
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ranked[new], inverse


def fuse(ranges: RangeSteps, asn: LabelTable[AsnLabel], country: LabelTable[str],
         meta: dict[str, Any] | None = None) -> FusedTable:  # fmt: skip
    """Fuse the flattened range table (:func:`rangecols.flatten`), an AS table and a country table into one
    :class:`FusedTable` (the build step)."""
    hits: list[Any] = list(ranges.hits)
    fams = [_merge([Steps(*ranges.steps[v]), asn.steps(v), country.steps(v)]) for v in (4, 6)]
    hit_col, hits = _compact(np.concatenate([f[2][0] for f in fams]), hits)
    asn_col, asn_labels = _compact(np.concatenate([f[2][1] for f in fams]), asn.labels)
    country_col, countries = _compact(np.concatenate([f[2][2] for f in fams]), country.labels)
    radix_a, radix_c = len(asn_labels) + 1, len(countries) + 1
    keys = (hit_col * radix_a + asn_col) * radix_c + country_col
    cut = len(fams[0][0])
    keep = np.ones(len(keys), dtype=bool)  # drop breakpoints where the fused triple does not change
    keep[1:] = keys[1:] != keys[:-1]
    keep[cut] = True  # each family starts at address 0
    uniq, tids = _factorize(keys[keep])  # sorting only the kept keys (~2/3)
    triples = np.stack([uniq // (radix_a * radix_c), uniq // radix_c % radix_a, uniq % radix_c], axis=1)
    cut_kept = int(keep[:cut].sum())
    names = [a if isinstance(a, str) else a.name for a in asn_labels]
    rules = bytes(map(_CATEGORY_INDEX.__getitem__, categories_of_names(names)))
    columns: dict[str, bytes] = {"triples": triples.astype(np.uint32).tobytes(), "name_rules": rules}
    for version, (hi, lo, _), fam_keep, ids in ((4, fams[0], keep[:cut], tids[:cut_kept]),
                                               (6, fams[1], keep[cut:], tids[cut_kept:])):  # fmt: skip
        if version == 4:
            columns["starts4"] = lo[fam_keep].astype(np.uint32).tobytes()
            columns["ids4"] = ids.astype(np.uint32).tobytes()
        else:
            columns["hi6"], columns["lo6"] = hi[fam_keep].tobytes(), lo[fam_keep].tobytes()
            columns["ids6"] = ids.astype(np.uint32).tobytes()
    return FusedTable(columns, hits, asn_labels, countries, dict(meta or {}))
