"""Several vantage points: per-vantage coverage, their overlap, and the combined snapshot.

Input is the latest successful crawl of every vantage point (:meth:`monitor.store.base.Store.latest_crawls`) within a
window. The *union* is the set of node ids seen from any of them, the *intersection* those seen by every one; a
vantage's *coverage* is its share of the union, its *exclusive* count the nodes no other vantage saw. Comparing the
provider shares of each vantage with those of the union is how vantage bias shows: a provider that only one vantage
sees a lot of is a property of where that crawler sits, not of the network.

The combined snapshot (one record per node of the union) is what ``monitor serve --role api`` analyses and publishes
as the metrics without a ``vantage`` label. Per node it takes the most recent observation (by crawl start) for the
address and attribution, and counts the node reachable if any vantage reached it.
"""

from __future__ import annotations

import hashlib
import re
import socket
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor import __version__
from monitor.snapshot import (
    HOSTING_CATEGORIES,
    Attribution,
    ClientInfo,
    CrawlMeta,
    HostingCategory,
    NodeRecord,
    Snapshot,
)
from monitor.store.base import ObservedNode, VantageCrawl

__all__ = [
    "VantageFigures",
    "VantageSummary",
    "summarise",
    "combined_snapshot",
    "valid_vantage",
    "COMBINED",
    "OTHER",
    "UNNAMED",
]

COMBINED = "combined"  # the vantage name of the combined snapshot
OTHER = "other"
UNNAMED = "unnamed"  # label of crawls stored without a vantage name (history from before vantage points)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def valid_vantage(name: str) -> bool:
    """A vantage name is a short label value: letters, digits, dot, dash, underscore (max 63)."""
    return bool(_NAME.match(name)) and name != COMBINED


@dataclass(frozen=True, slots=True)
class VantageFigures:
    vantage: str
    snapshot_id: str
    started_at: float
    nodes: int
    reachable: int
    exclusive: int  # seen by no other vantage
    coverage: float | None  # nodes / union
    providers: tuple[tuple[str, float], ...]  # (provider, share of this vantage's nodes): union's top-K and "other"


@dataclass(frozen=True, slots=True)
class VantageSummary:
    vantages: tuple[VantageFigures, ...]  # at most max_vantages, most recent first
    union: int
    union_reachable: int  # reached from any vantage
    intersection: int
    vantage_points: int  # every vantage in the window, also those beyond max_vantages
    union_providers: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "vantage_points": self.vantage_points,
            "union": self.union,
            "union_reachable": self.union_reachable,
            "intersection": self.intersection,
            "union_providers": dict(self.union_providers),
            "vantages": [
                {
                    "vantage": v.vantage,
                    "snapshot_id": v.snapshot_id,
                    "started_at": v.started_at,
                    "nodes": v.nodes,
                    "reachable": v.reachable,
                    "exclusive": v.exclusive,
                    "coverage": v.coverage,
                    "providers": dict(v.providers),
                }
                for v in self.vantages
            ],
        }


def default_vantage() -> str:
    """The host name as a vantage name (characters a label may not carry become '-')."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()).strip("-._")[:63]
    return name if valid_vantage(name) else "default"


def _label(vantage: str) -> str:
    return vantage if vantage else UNNAMED


def _shares(counts: Mapping[str, int], n: int, keys: Sequence[str]) -> tuple[tuple[str, float], ...]:
    if n == 0:
        return ()
    kept = [(k, counts.get(k, 0) / n) for k in keys if k != OTHER]
    return (*kept, (OTHER, (n - sum(counts.get(k, 0) for k, _ in kept)) / n))


def _providers(nodes: Sequence[ObservedNode]) -> Counter[str]:
    return Counter(o.provider or "unknown" for o in {o.node_id: o for o in nodes}.values())


def summarise(crawls: Sequence[VantageCrawl], *, max_vantages: int = 16, top_k: int = 10) -> VantageSummary:
    """Coverage and overlap of the given crawls (one per vantage); per-vantage figures for the newest
    ``max_vantages`` only, so that the ``vantage`` label stays bounded however many crawlers write."""
    sets = {c.vantage: {o.node_id for o in c.nodes} for c in crawls}
    union: set[str] = set().union(*sets.values()) if sets else set()
    intersection: set[str] = set.intersection(*sets.values()) if sets else set()
    seen_by: Counter[str] = Counter(node for ids in sets.values() for node in ids)
    merged = combined_nodes(crawls)
    union_counts = Counter(o.provider or "unknown" for o in merged)
    top = [k for k, _ in union_counts.most_common(top_k)]
    figures = []
    for c in sorted(crawls, key=lambda c: (-c.started_at, c.vantage))[:max_vantages]:
        ids = sets[c.vantage]
        figures.append(
            VantageFigures(
                vantage=_label(c.vantage),
                snapshot_id=c.snapshot_id,
                started_at=c.started_at,
                nodes=len(ids),
                reachable=len({o.node_id for o in c.nodes if o.reachable}),
                exclusive=sum(1 for node in ids if seen_by[node] == 1),
                coverage=len(ids) / len(union) if union else None,
                providers=_shares(_providers(c.nodes), len(ids), top),
            )
        )
    reachable = sum(1 for o in merged if o.reachable)
    union_shares = _shares(union_counts, len(merged), top)
    return VantageSummary(tuple(figures), len(union), reachable, len(intersection), len(crawls), union_shares)


def combined_nodes(crawls: Sequence[VantageCrawl]) -> list[ObservedNode]:
    """One observation per node of the union: the newest one, reachable if any vantage reached the node."""
    newest: dict[str, ObservedNode] = {}
    reached: set[str] = set()
    for c in sorted(crawls, key=lambda c: c.started_at):
        for o in c.nodes:
            newest[o.node_id] = o
            if o.reachable:
                reached.add(o.node_id)
    return [o if o.reachable or o.node_id not in reached else _reachable(o) for o in newest.values()]


def _reachable(o: ObservedNode) -> ObservedNode:
    return ObservedNode(o.node_id, o.ip, True, o.network, o.provider, o.region, o.country, o.asn, o.category, o.client)


def _record(o: ObservedNode, attributions: dict[tuple[Any, ...], Attribution]) -> NodeRecord:
    attribution = None
    if o.provider is not None:
        category: HostingCategory = "unknown"
        for known in HOSTING_CATEGORIES:  # narrows the stored text to the Literal
            if o.category == known:
                category = known
        key = (o.provider, o.region, o.country, o.asn, category)
        attribution = attributions.setdefault(
            key, Attribution(o.provider, o.region, o.country, o.asn, category=category)
        )
    client = ClientInfo(raw=o.client, name=o.client) if o.client else None
    return NodeRecord(
        node_id=o.node_id,
        pubkey="",
        ip=o.ip,
        udp_port=None,
        tcp_port=None,
        answered_ping=o.reachable,
        network=o.network,  # type: ignore[arg-type]  # stored from a NetworkVerdict
        attribution=attribution,
        client=client,
    )


def combined_snapshot(crawls: Sequence[VantageCrawl], datasets: Mapping[str, str] | None = None) -> Snapshot:
    """The union of the crawls as one snapshot (vantage ``combined``); its id names the crawls it combines."""
    if not crawls:
        raise ValueError("no crawl to combine")
    ids = sorted(c.snapshot_id for c in crawls)
    networks = sorted({c.network for c in crawls})
    attributions: dict[tuple[Any, ...], Attribution] = {}
    nodes = tuple(_record(o, attributions) for o in combined_nodes(crawls))
    meta = CrawlMeta(
        id="combined-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16],
        network=networks[0] if len(networks) == 1 else "mixed",
        started_at=min(c.started_at for c in crawls),
        ended_at=max(c.ended_at for c in crawls),
        tool_version=__version__,
        settings={"vantages": sorted(_label(c.vantage) for c in crawls), "snapshot_ids": ids},
        datasets=dict(datasets or {}),
        counters={"discovered": len(nodes)},
        simulated=any(c.simulated for c in crawls),
        vantage=COMBINED,
    )
    return Snapshot(meta, nodes)
