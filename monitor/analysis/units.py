"""Populations on the columns: one boolean mask per scope and layer, one integer key per dedup, grouped counts.

A merged unit (an IP or a prefix standing for several records) takes, *in each dimension separately*, the value most
of its records have among the known values of that dimension; ``unknown`` only when none of its records has a known
value; ties go to the key that sorts first (the smallest code, see :mod:`monitor.analysis.columns`). So an IP with
three AWS records (in three regions) and two OVH records is AWS, and a /24 with two unattributed IPs and one AWS IP
is AWS. The result never depends on record order.

Clusters (:mod:`monitor.analysis.clusters`): for per-node populations the IP a node was seen at is its cluster (node
ids behind one host are not independent draws); records without an IP are clusters of their own. IP and prefix units
are their own clusters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from monitor.analysis.columns import (
    COLUMN_DIMENSIONS,
    KEYLESS_BAD_IP,
    KEYLESS_NO_IP,
    LAYER_CODES,
    BoolArray,
    IntArray,
    NodeColumns,
)

__all__ = ["LAYER_VIEWS", "UnitTable", "scope_reasons", "unit_table", "run_pairs", "majority_codes"]

# "all" is every record whatever its layer; the other two are the records of that layer only.
LAYER_VIEWS: tuple[str, ...] = ("all", "execution", "consensus")

_MERGE_REASON: Mapping[str, str] = {"node": "duplicate_node_id", "ip": "same_ip", "prefix": "same_prefix"}


@dataclass(frozen=True, slots=True)
class UnitTable:
    """The units of one population: per unit its size, its cluster and its code in each dimension."""

    scope: str
    dedup: str
    layer: str
    records: IntArray  # indices of the records counted, by unit (and in snapshot order within a unit)
    record_unit: IntArray  # the unit of each counted record (ascending)
    sizes: IntArray  # records per unit
    first_records: IntArray  # the first record of each unit (its IP is the unit's cluster for per-node units)
    codes: dict[str, IntArray]  # dimension -> code per unit
    excluded: dict[str, int]
    keys: IntArray  # the dedup key code of each unit (node_key / ip_key / prefix_key)

    @property
    def n(self) -> int:
        return int(self.sizes.size)


def _layer_mask(cols: NodeColumns, layer: str) -> BoolArray:
    if layer == "all":
        return np.ones(cols.n, dtype=np.bool_)
    mask: BoolArray = cols.layer == LAYER_CODES[layer]
    return mask


def scope_reasons(cols: NodeColumns, scope: str, within: BoolArray) -> tuple[BoolArray, dict[str, int]]:
    """(records of ``within`` inside ``scope``, per-reason counts of those outside it; zeros included)."""
    if scope == "discovered":
        return within, {}
    if scope == "reachable":
        inside = within & cols.answered_ping
        return inside, {"not_reachable": int(np.count_nonzero(within & ~cols.answered_ping))}
    if scope == "hosted":
        inside = within & cols.hosted
        return inside, {"not_hosted": int(np.count_nonzero(within & ~cols.hosted))}
    if scope == "mainnet":
        codes, names = cols.network
        counts = np.bincount(codes[within], minlength=len(names))
        reasons = {"network_other": 0, "network_unknown": 0}
        for name, count in zip(names, counts.tolist(), strict=True):
            if name != "mainnet":
                reasons[f"network_{name}"] = reasons.get(f"network_{name}", 0) + count
        mainnet = names.index("mainnet") if "mainnet" in names else -1
        return within & (codes == mainnet), reasons
    raise ValueError(f"unknown scope {scope!r}")


def _split_runs(groups: IntArray, codes: IntArray, n_groups: int) -> tuple[IntArray, IntArray, BoolArray]:
    """(groups holding one code, that code, mask of the elements in groups holding several); ``groups`` sorted."""
    start = np.ones(groups.size, dtype=np.bool_)
    start[1:] = groups[1:] != groups[:-1]
    change = np.zeros(groups.size, dtype=np.bool_)
    change[1:] = (codes[1:] != codes[:-1]) & ~start[1:]
    mixed_group = np.zeros(n_groups, dtype=np.bool_)
    mixed_group[groups[change]] = True
    mixed = mixed_group[groups]
    single = start & ~mixed
    return groups[single], codes[single], mixed


def run_pairs(groups: IntArray, codes: IntArray, n_groups: int, vocab_size: int) -> tuple[IntArray, IntArray, IntArray]:
    """(group, code, count) for every code present in each group, where ``groups`` is sorted (groups contiguous).

    Most groups hold one code only (the node ids behind an IP, the IPs of a /24 mostly agree); they cost a
    comparison with the neighbour. Only the groups with several codes are sorted.
    """
    if groups.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    pg, pc, mixed = _split_runs(groups, codes, n_groups)
    count = np.bincount(groups, minlength=n_groups)[pg]
    if mixed.any():
        uniq, counts = np.unique(groups[mixed] * vocab_size + codes[mixed], return_counts=True)
        pg = np.concatenate([pg, uniq // vocab_size])
        pc = np.concatenate([pc, uniq % vocab_size])
        count = np.concatenate([count, counts])
    return pg.astype(np.int64), pc.astype(np.int64), count.astype(np.int64)


def majority_codes(
    record_unit: IntArray, record_codes: IntArray, units: int, vocab_size: int, starts: BoolArray | None = None
) -> IntArray:
    """Per unit: the most common non-zero code among its records (ties: smallest code), 0 when it has none.

    ``record_unit`` must be sorted (the records of a unit contiguous); ``starts``, when given, marks each unit's
    first record (the caller has it already).
    """
    out = np.zeros(units, dtype=np.int64)
    if units == record_unit.size:  # no unit merges records: nothing to choose between
        out[record_unit] = record_codes
        return out
    if record_unit.size == 0:
        return out
    if starts is None:
        starts = np.ones(record_unit.size, dtype=np.bool_)
        starts[1:] = record_unit[1:] != record_unit[:-1]
    # A unit whose records all carry one code takes it (0 when that is unknown): a comparison with the neighbour.
    out[record_unit[starts]] = record_codes[starts]
    change = record_codes[1:] != record_codes[:-1]
    change &= ~starts[1:]
    if not change.any():
        return out
    # Only the units holding several codes (so at least one known) count their known codes.
    mixed_unit = np.zeros(units, dtype=np.bool_)
    mixed_unit[record_unit[1:][change]] = True
    chosen = mixed_unit[record_unit] & (record_codes > 0)
    uniq, counts = np.unique(record_unit[chosen] * vocab_size + record_codes[chosen], return_counts=True)
    unit, code = uniq // vocab_size, uniq % vocab_size
    # (unit, code) pairs come sorted by unit then code: a unit's winner is its first pair with the unit's top count.
    start = np.ones(unit.size, dtype=np.bool_)
    start[1:] = unit[1:] != unit[:-1]
    top = counts == np.maximum.reduceat(counts, np.flatnonzero(start))[np.cumsum(start) - 1]
    unit, code = unit[top], code[top]
    first = np.ones(unit.size, dtype=np.bool_)
    first[1:] = unit[1:] != unit[:-1]
    out[unit[first]] = code[first]
    return out


def unit_table(
    cols: NodeColumns, scope: str, dedup: str, layer: str = "all", dimensions: tuple[str, ...] = COLUMN_DIMENSIONS
) -> UnitTable:
    """The units of scope x dedup x layer with every left-out record counted by reason (codes for ``dimensions``)."""
    within = _layer_mask(cols, layer)
    excluded: dict[str, int] = {}
    if layer != "all":
        excluded["other_layer"] = int(cols.n - np.count_nonzero(within))
    inside, reasons = scope_reasons(cols, scope, within)
    excluded.update(reasons)
    if dedup == "node":
        key_column = cols.node_key
    else:
        key_column = cols.ip_key if dedup == "ip" else cols.prefix_key
        keyless = cols.keyless[inside]
        excluded["no_ip"] = int(np.count_nonzero(keyless == KEYLESS_NO_IP))
        excluded["bad_ip"] = int(np.count_nonzero(keyless == KEYLESS_BAD_IP))
        inside = inside & (cols.keyless == 0)
    # Records in key order (ties in snapshot order): every unit is one contiguous run, so grouping is a diff.
    order = cols.key_order[dedup]
    in_order = np.flatnonzero(inside[order])  # ascending: the reads below are sequential
    records = order[in_order]
    sorted_keys = key_column[records]
    start = np.ones(records.size, dtype=np.bool_)
    start[1:] = sorted_keys[1:] != sorted_keys[:-1]
    first = np.flatnonzero(start)
    keys = sorted_keys[first]
    record_unit = np.cumsum(start) - 1
    sizes = np.diff(np.append(first, records.size)).astype(np.int64)
    excluded[_MERGE_REASON[dedup]] = int(records.size - keys.size)
    codes = {
        d: majority_codes(record_unit, cols.codes_by_key[dedup][d][in_order], int(keys.size), len(cols.vocab[d]), start)
        for d in dimensions
    }
    return UnitTable(
        first_records=records[first],
        scope=scope,
        dedup=dedup,
        layer=layer,
        records=records,
        record_unit=record_unit,
        sizes=sizes,
        codes=codes,
        excluded=excluded,
        keys=keys.astype(np.int64),
    )
