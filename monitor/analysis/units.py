"""Populations on the columns: one boolean mask per scope and layer, one integer key per dedup, grouped counts.

A merged unit (an IP or a prefix standing for several records) takes, *in each dimension separately*, the value most
of its records have among the known values of that dimension; ``unknown`` only when none of its records has a known
value; ties go to the key that sorts first (the smallest code, see :mod:`monitor.analysis.columns`). So an IP with
three AWS records (in three regions) and two OVH records is AWS, and a /24 with two unattributed IPs and one AWS IP
is AWS. The result never depends on record order.

Clusters: for per-node populations the IP a node was seen at is its cluster (node ids behind one host are not
independent draws); records without an IP are clusters of their own. IP and prefix units are their own clusters.
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

__all__ = ["LAYER_VIEWS", "UnitTable", "scope_reasons", "unit_table", "majority_codes"]

# "all" is every record whatever its layer; the other two are the records of that layer only.
LAYER_VIEWS: tuple[str, ...] = ("all", "execution", "consensus")

_MERGE_REASON: Mapping[str, str] = {"node": "duplicate_node_id", "ip": "same_ip", "prefix": "same_prefix"}


@dataclass(frozen=True, slots=True)
class UnitTable:
    """The units of one population: per unit its size, its cluster and its code in each dimension."""

    scope: str
    dedup: str
    layer: str
    records: IntArray  # indices of the records counted, in snapshot order
    record_unit: IntArray  # the unit of each counted record
    sizes: IntArray  # records per unit
    cluster: IntArray  # cluster of each unit, 0 .. clusters - 1
    clusters: int
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


def majority_codes(record_unit: IntArray, record_codes: IntArray, units: int, vocab_size: int) -> IntArray:
    """Per unit: the most common non-zero code among its records (ties: smallest code), 0 when it has none."""
    out = np.zeros(units, dtype=np.int64)
    if units == record_unit.size:  # no unit merges records: nothing to choose between
        out[record_unit] = record_codes
        return out
    known = record_codes > 0
    pairs = record_unit[known] * vocab_size + record_codes[known]
    if pairs.size == 0:
        return out
    uniq, counts = np.unique(pairs, return_counts=True)
    unit, code = uniq // vocab_size, uniq % vocab_size
    order = np.lexsort((code, -counts, unit))
    unit, code = unit[order], code[order]
    first = np.ones(unit.size, dtype=np.bool_)
    first[1:] = unit[1:] != unit[:-1]
    out[unit[first]] = code[first]
    return out


def _clusters(cols: NodeColumns, dedup: str, records: IntArray, first: IntArray) -> tuple[IntArray, int]:
    if dedup != "node":
        return np.arange(first.size, dtype=np.int64), int(first.size)
    ip = cols.ip_key[records[first]]
    # A record without an IP is a cluster of its own: give it a code past every IP code.
    raw = np.where(ip >= 0, ip, len(cols.ip_keys) + np.arange(ip.size))
    uniq, inverse = np.unique(raw, return_inverse=True)
    return inverse.astype(np.int64), int(uniq.size)


def unit_table(cols: NodeColumns, scope: str, dedup: str, layer: str = "all") -> UnitTable:
    """The units of scope x dedup x layer with every left-out record counted by reason."""
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
    records = np.flatnonzero(inside)
    keys, first, record_unit = np.unique(key_column[records], return_index=True, return_inverse=True)
    record_unit = record_unit.astype(np.int64).reshape(-1)
    sizes = np.bincount(record_unit, minlength=keys.size).astype(np.int64)
    excluded[_MERGE_REASON[dedup]] = int(records.size - keys.size)
    codes = {
        d: majority_codes(record_unit, cols.codes[d][records], int(keys.size), len(cols.vocab[d]))
        for d in COLUMN_DIMENSIONS
    }
    cluster, clusters = _clusters(cols, dedup, records, first)
    return UnitTable(
        scope=scope,
        dedup=dedup,
        layer=layer,
        records=records,
        record_unit=record_unit,
        sizes=sizes,
        cluster=cluster,
        clusters=clusters,
        codes=codes,
        excluded=excluded,
        keys=keys.astype(np.int64),
    )
