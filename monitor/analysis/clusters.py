"""How the units of a population fall into clusters, per category: the input of the design effect and of the
cluster bootstrap.

For a per-node population the clusters are IPs, and (cluster, category) counts are one ``np.bincount`` over pair ids
computed once per dimension for the whole snapshot (:class:`RecordPairs`): no sorting per population. When a
population merged duplicate node ids (rare) the counts come from its own units instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.analysis.columns import IntArray, NodeColumns
from monitor.analysis.units import UnitTable, run_pairs

__all__ = ["RecordPairs", "ClusterCounts", "record_pairs", "cluster_counts", "cluster_sizes"]


@dataclass(frozen=True, slots=True)
class RecordPairs:
    """Every record's (IP cluster, category) pair id in one dimension, over the whole snapshot."""

    pair: IntArray  # pair id per record
    pair_cluster: IntArray  # cluster of each pair id
    pair_code: IntArray  # category code of each pair id
    record_cluster: IntArray  # cluster per record: the IP code, or a cluster of its own without an IP
    cluster_space: int  # cluster ids lie in [0, cluster_space)


@dataclass(frozen=True, slots=True)
class ClusterCounts:
    """The units of one population by (cluster, category): one entry per pair present."""

    cluster: IntArray
    code: IntArray
    units: IntArray  # units of ``code`` in ``cluster`` (> 0)
    sizes: IntArray  # units per cluster id (zeros for ids the population does not use)
    clusters: int  # clusters holding at least one unit


def record_pairs(cols: NodeColumns, dimension: str) -> RecordPairs:
    space = len(cols.ip_keys) + cols.n
    record_cluster = np.where(cols.ip_key >= 0, cols.ip_key, len(cols.ip_keys) + np.arange(cols.n))
    width = len(cols.vocab[dimension])
    uniq, pair = np.unique(record_cluster * width + cols.codes[dimension], return_inverse=True)
    return RecordPairs(pair.reshape(-1), uniq // width, uniq % width, record_cluster, space)


def cluster_sizes(table: UnitTable, pairs: RecordPairs) -> IntArray:
    """Records of ``table`` per cluster id: the same in every dimension (clusters are IPs), so computed once."""
    return np.bincount(pairs.record_cluster[table.records], minlength=pairs.cluster_space)


def cluster_counts(
    table: UnitTable, codes: IntArray, vocab_size: int, pairs: RecordPairs, sizes: IntArray | None = None
) -> ClusterCounts:
    """(cluster, category) counts of ``table``'s units; ``pairs`` are the snapshot's for this dimension (per-node
    populations without merged records read their counts straight off them). ``sizes``: :func:`cluster_sizes` of
    ``table``, when the caller has it from another dimension."""
    if table.dedup == "node" and table.excluded.get("duplicate_node_id", 0) == 0:
        y = np.bincount(pairs.pair[table.records], minlength=pairs.pair_cluster.size)
        present = np.flatnonzero(y)
        sizes = cluster_sizes(table, pairs) if sizes is None else sizes
        return ClusterCounts(
            pairs.pair_cluster[present], pairs.pair_code[present], y[present], sizes, int(np.count_nonzero(sizes))
        )
    if table.dedup != "node":
        ones = np.ones(table.n, dtype=np.int64)
        return ClusterCounts(np.arange(table.n, dtype=np.int64), codes, ones, ones, table.n)
    # Merged node ids: a unit's cluster is the IP of its first record.
    clusters, cluster = np.unique(pairs.record_cluster[table.first_records], return_inverse=True)
    cluster = cluster.reshape(-1)
    order = np.argsort(cluster, kind="stable")
    pc, code, units = run_pairs(cluster[order], codes[order], clusters.size, vocab_size)
    sizes = np.bincount(cluster, minlength=clusters.size)
    return ClusterCounts(pc, code, units, sizes, int(clusters.size))
