"""Second sampling source: peers of the user's own nodes (``--rpc URL``, admin_peers), merged into a crawl.

A crawl only reaches nodes that accept unsolicited UDP; nodes behind NAT never answer it, but they connect *out* to
other nodes, so a node the user runs sees them as inbound peers. Their records carry ``source="rpc"``; a node both
sources saw keeps its crawl record, is marked ``discv4+rpc`` and borrows the client name if the crawl had none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from monitor.crawl.records import rpc_records
from monitor.snapshot import NodeRecord

if TYPE_CHECKING:
    from monitor.rpc.client import RPCSample

__all__ = ["sample_rpc", "merge_rpc", "merge_protocols"]


async def sample_rpc(urls: Sequence[str], per_call: float) -> list[RPCSample]:
    """admin_peers + admin_nodeInfo of every endpoint; one that fails stops the run with its error (exit 1)."""
    from monitor.rpc.client import sample_node  # web3 costs ~1 s to import: only when --rpc is used

    return [await sample_node(url, timeout=per_call) for url in urls]


def merge_rpc(
    crawled: Sequence[NodeRecord], samples: Sequence[RPCSample], now: float
) -> tuple[list[NodeRecord], dict[str, int]]:
    by_id = {r.node_id: r for r in crawled}
    merged = dict(by_id)
    only_rpc = both = inbound_only = 0
    seen_rpc: set[str] = set()
    for sample in samples:
        inbound = {p.pubkey.hex() for p in sample.peers if p.inbound}
        for record in rpc_records(sample.node, sample.peers, now):
            if record.node_id in seen_rpc:
                continue  # two of the user's nodes share a peer: count it once
            seen_rpc.add(record.node_id)
            crawl = by_id.get(record.node_id)
            if crawl is None:
                merged[record.node_id] = record
                only_rpc += 1
                inbound_only += record.pubkey in inbound
                continue
            both += 1
            merged[record.node_id] = dataclasses.replace(
                crawl, source=f"{crawl.source}+rpc", client=crawl.client or record.client
            )
    counters = {
        "rpc_endpoints": len(samples),
        "rpc_peers": len(seen_rpc),
        "rpc_only": only_rpc,
        "rpc_only_inbound": inbound_only,
        "rpc_also_crawled": both,
    }
    return list(merged.values()), counters


def _merge_pair(a: NodeRecord, b: NodeRecord) -> NodeRecord:
    """One node seen by two discovery protocols (same key, so the same node id).

    The record with the newer ENR (else the one that answered) gives the node's facts and verdict; reachability is
    what either protocol saw; the protocols are both.
    """
    newer = max((a, b), key=lambda r: (r.enr_seq or -1, r.answered_ping, r.enr is not None))
    other = b if newer is a else a
    return dataclasses.replace(
        newer,
        ip=newer.ip or other.ip,
        udp_port=newer.udp_port or other.udp_port,
        tcp_port=newer.tcp_port or other.tcp_port,
        first_seen=min(a.first_seen, b.first_seen),
        last_seen=max(a.last_seen, b.last_seen),
        answered_ping=a.answered_ping or b.answered_ping,
        bonded=a.bonded or b.bonded,
        answered_findnode=a.answered_findnode or b.answered_findnode,
        neighbors_returned=max(a.neighbors_returned, b.neighbors_returned),
        source="+".join(sorted({*a.source.split("+"), *b.source.split("+")})),
        client=newer.client or other.client,
        rlpx=newer.rlpx or other.rlpx,
        protocols=tuple(sorted({*a.protocols, *b.protocols})),
    )


def merge_protocols(found: Iterable[Sequence[NodeRecord]]) -> list[NodeRecord]:
    """Records of every protocol, one per node id, in the order first found."""
    merged: dict[str, NodeRecord] = {}
    for records in found:
        for record in records:
            known = merged.get(record.node_id)
            merged[record.node_id] = record if known is None else _merge_pair(known, record)
    return list(merged.values())
