"""Synthetic attributed snapshots of any size, for the exporter's tests and benchmark.

The spread is made up but shaped like a mainnet crawl: a few clouds hold large shares, a long tail of residential
and business networks (one AS name each) holds the rest, many node ids share an IP, most nodes answer PING and most
answering ones are on mainnet; about two thirds of the answering ones have a client name (as if dialed over RLPx),
drawn from a made-up client mix. Clouds are category "cloud" or "hosting", the tail "isp"; records are execution-layer
(70 %), consensus-layer (25 %) or of unknown layer (5 %), drawn per IP (the nodes behind one host run one stack).
Every snapshot built here is marked simulated.
"""

from __future__ import annotations

import random
import uuid

from monitor import __version__
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

__all__ = ["synthetic_snapshot"]

# provider -> (weight, regions, countries); weights are relative, the tail below gets the remaining mass.
_CLOUDS: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {
    "aws": (0.20, ("us-east-1", "us-east-2", "eu-central-1", "ap-northeast-1", "eu-west-1"), ("US", "DE", "JP", "IE")),
    "hetzner": (0.14, ("fsn1", "nbg1", "hel1", "ash"), ("DE", "FI", "US")),
    "ovh": (0.07, ("gra", "rbx", "bhs", "waw"), ("FR", "CA", "PL")),
    "gcp": (0.05, ("us-central1", "europe-west1", "asia-east1"), ("US", "BE", "TW")),
    "contabo": (0.04, ("eu", "us-central", "sin"), ("DE", "US", "SG")),
    "digitalocean": (0.03, ("nyc1", "fra1", "sgp1", "ams3"), ("US", "DE", "SG", "NL")),
    "azure": (0.02, ("eastus", "westeurope"), ("US", "NL")),
    "alibaba": (0.02, ("cn-hangzhou", "ap-southeast-1"), ("CN", "SG")),
    "oracle": (0.01, ("us-ashburn-1",), ("US",)),
    "vultr": (0.01, ("ewr", "ams", "nrt"), ("US", "NL", "JP")),
}
# Data-centre operators that rent servers rather than run a cloud platform.
_HOSTING = frozenset({"hetzner", "ovh", "contabo", "digitalocean", "vultr"})
_LAYERS: tuple[tuple[Layer, float], ...] = (("execution", 0.70), ("consensus", 0.25), ("unknown", 0.05))
# client name -> relative weight among the dialed nodes
_CLIENTS: dict[str, float] = {
    "geth": 0.45,
    "nethermind": 0.22,
    "erigon": 0.1,
    "besu": 0.09,
    "reth": 0.12,
    "nimbus": 0.02,
}
_TAIL_COUNTRIES = ("US", "DE", "GB", "FR", "NL", "CA", "JP", "KR", "SG", "AU", "BR", "RU", "UA", "PL", "CH", "SE", "IN")


def _cloud_attribution(rng: random.Random, provider: str) -> Attribution:
    _, regions, countries = _CLOUDS[provider]
    return Attribution(
        provider=provider,
        region=rng.choice(regions),
        country=rng.choice(countries),
        asn=10_000 + sorted(_CLOUDS).index(provider),
        source="synthetic",
        data_date="2026-11-01",
        category=_category(provider),
    )


def _category(provider: str) -> HostingCategory:
    return "hosting" if provider in _HOSTING else "cloud"


def _tail_attribution(rng: random.Random, tail_size: int) -> Attribution | None:
    if rng.random() < 0.02:
        return None  # a few records nobody could attribute
    index = min(int(rng.paretovariate(1.2)) - 1, tail_size - 1)  # heavy-tailed: a few big ISPs, many small ones
    return Attribution(
        provider=f"other:ISP {index}",
        country=_TAIL_COUNTRIES[index % len(_TAIL_COUNTRIES)],
        asn=100_000 + index,
        as_name=f"ISP {index}",
        source="synthetic",
        data_date="2026-11-01",
        category="isp",
    )


def _network(rng: random.Random, reachable: bool) -> NetworkVerdict:
    if not reachable:
        return "unknown"
    roll = rng.random()
    return "mainnet" if roll < 0.8 else ("other" if roll < 0.95 else "unknown")


def _client_infos() -> list[ClientInfo]:
    return [ClientInfo(raw=f"{name.capitalize()}/v1.0.0/linux-amd64", name=name) for name in _CLIENTS]


def synthetic_snapshot(nodes: int, seed: int = 1, started_at: float = 1_790_000_000.0) -> Snapshot:
    """``nodes`` attributed node records; about 1.3 node ids per IP; deterministic for a given seed."""
    rng = random.Random(seed)
    providers = list(_CLOUDS)
    weights = [_CLOUDS[p][0] for p in providers]
    cloud_mass = sum(weights)
    tail_size = max(50, nodes // 20)
    # Clients come from their own generator so that adding them left every other draw as it was.
    client_rng = random.Random(seed * 1_000_003 + 7)
    clients, client_weights = _client_infos(), list(_CLIENTS.values())
    # Layers too: from a generator of their own, one draw per new IP.
    layer_rng = random.Random(seed * 1_000_003 + 11)
    layer_names, layer_weights = [name for name, _ in _LAYERS], [w for _, w in _LAYERS]
    layers: dict[str, Layer] = {}
    records = []
    ip_pool: list[tuple[str, Attribution | None]] = []
    for i in range(nodes):
        if ip_pool and rng.random() < 0.25:
            ip, attribution = rng.choice(ip_pool)  # another node id behind an address already seen
        else:
            if rng.random() < cloud_mass:
                attribution = _cloud_attribution(rng, rng.choices(providers, weights)[0])
            else:
                attribution = _tail_attribution(rng, tail_size)
            ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
            ip_pool.append((ip, attribution))
            layers[ip] = layer_rng.choices(layer_names, layer_weights)[0]
        reachable = rng.random() < 0.7
        records.append(
            NodeRecord(
                node_id=rng.randbytes(32).hex(),
                pubkey=rng.randbytes(64).hex(),
                ip=ip,
                udp_port=30303,
                tcp_port=30303,
                first_seen=started_at,
                last_seen=started_at + 60,
                answered_ping=reachable,
                bonded=reachable,
                answered_findnode=reachable,
                network=_network(rng, reachable),
                client=client_rng.choices(clients, client_weights)[0]
                if reachable and client_rng.random() < 0.65
                else None,
                attribution=attribution,
                layer=layers[ip],
            )
        )
    meta = CrawlMeta(
        id=str(uuid.UUID(int=rng.getrandbits(128))),
        network="synthetic",
        started_at=started_at,
        ended_at=started_at + 600,
        tool_version=__version__,
        datasets={"synthetic": "2026-11-01"},
        counters={"discovered": nodes, "packets_sent_ping": nodes, "packets_recv_pong": nodes * 7 // 10},
        simulated=True,
    )
    return Snapshot(meta=meta, nodes=tuple(records))
