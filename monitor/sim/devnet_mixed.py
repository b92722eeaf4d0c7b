"""A local network where discv4 and discv5 nodes live side by side, some nodes running both with one key.

What a real crawl meets: execution clients on discv4 (and, like geth, often on discv5 too, with the same key and so
the same node id), consensus clients on discv5 only. Each node has its own loopback address (``node_address``) and
one of three roles:

* ``discv4`` only: an execution client; its record has an ``eth`` entry (mainnet's fork id, another chain's, or
  none: layer unknown);
* ``discv5`` only: a consensus client; its record has an ``eth2`` entry (mainnet's digest in force, computed by
  :mod:`monitor.discovery.forkdigest`, or another network's);
* both, with ONE key and ONE record: discv4 on ``port`` (the enode's UDP and TCP port), discv5 on ``port + 1`` (the
  record's ``udp``). Port + 1 rather than one shared socket because our services own one socket each (as the
  crawler's do, see :mod:`monitor.crawl.protocols`); the record names the discv5 port because discv5 peers dial
  what the record says, while discv4 peers dial the enode endpoint. A share of these nodes models an execution
  client running discv5 as well (``eth`` and ``eth2`` entries: the ``eth`` entry decides, layer execution), the rest
  a consensus client that also answers discv4 (``eth2`` only: layer consensus).

Each protocol's tables are built over the nodes that run it (``build_tables``: a settled Kademlia table), so each
protocol's graph is connected on its own. :meth:`MixedDevnet.ground_truth` says per node which protocols it runs,
its endpoints, and the network and layer a crawl should report.
"""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from monitor.discovery.enode import Enode
from monitor.discovery.enr import ENR, FieldValue
from monitor.discovery.enr_entries import FAR_FUTURE_EPOCH, ENRForkID
from monitor.discovery.forkdigest import MAINNET as CONSENSUS_MAINNET
from monitor.discovery.forkdigest import ConsensusConfig, compute_fork_data_root
from monitor.discovery.forkid import MAINNET, ForkId, fork_id
from monitor.discovery.network import estimate_mainnet_block
from monitor.discovery.v4.service import Discv4Service
from monitor.discovery.v4.service import ServiceConfig as Service4Config
from monitor.discovery.v4.wire import NodeEntry
from monitor.discovery.v5.service import Discv5Service
from monitor.discovery.v5.service import ServiceConfig as Service5Config
from monitor.p2p.keys import PrivateKey
from monitor.p2p.udp import Sender, UDPTransport
from monitor.sim.devnet import (
    LOOPBACK,
    OTHER_CHAIN,
    ImpairedSender,
    build_tables,
    neighbors_server,
    node_address,
    raise_fd_limit,
)
from monitor.sim.devnet_v5 import table_server

__all__ = ["MixedSpec", "MixedNode", "MixedDevnet", "run_mixed_devnet", "current_eth2", "OTHER_ETH2", "ROLES"]

ROLES = {"v4": ("discv4",), "v5": ("discv5",), "both": ("discv4", "discv5")}

# Another network's eth2 entry: Fulu's version over an all-zero genesis validators root, a digest mainnet never had.
OTHER_ETH2 = ENRForkID(compute_fork_data_root(bytes.fromhex("06000000"), bytes(32))[:4], bytes(4), FAR_FUTURE_EPOCH)


def current_eth2(now: float, config: ConsensusConfig = CONSENSUS_MAINNET) -> ENRForkID:
    """The ``eth2`` entry an up-to-date node publishes at ``now``: the digest in force and the next scheduled fork."""
    points = config.digest_points()
    epoch = config.epoch_at(now)
    current = [p for p in points if p.epoch <= epoch][-1]
    upcoming = [p for p in points if p.epoch > epoch]
    if upcoming:
        return ENRForkID(current.digest, upcoming[0].version, upcoming[0].epoch)
    return ENRForkID(current.digest, current.version, FAR_FUTURE_EPOCH)


@dataclass(frozen=True)
class MixedSpec:
    nodes: int = 100
    seed: int = 1
    first_ip: str = "127.12.0.1"
    port: int = 30303  # discv4's; discv5 listens on port + 1
    v4_only: float = 0.4  # share of nodes running discv4 only
    v5_only: float = 0.3  # share running discv5 only; the rest run both
    dual_execution: float = 0.5  # share of the dual nodes modelling execution clients (eth entry)
    other_share: float = 0.10  # nodes advertising another network (fork id or digest)
    no_eth_share: float = 0.05  # discv4-only nodes whose record has no eth entry (layer unknown)
    latency: float = 0.0  # seconds added to every datagram a node sends
    loss: float = 0.0  # probability that a node's datagram is dropped

    @classmethod
    def for_discovery(cls, discovery: str, **kwargs: Any) -> MixedSpec:
        """``v4``: every node discv4 only; ``v5``: every node discv5 only; ``both``: the default mix."""
        shares = {"v4": (1.0, 0.0), "v5": (0.0, 1.0)}.get(discovery)
        if shares is not None:
            kwargs = {**kwargs, "v4_only": shares[0], "v5_only": shares[1]}
        return cls(**kwargs)


@dataclass
class MixedNode:
    index: int
    key: PrivateKey
    ip: str
    port: int  # discv4 UDP and TCP; discv5 UDP is port + 1
    protocols: tuple[str, ...]
    enr: ENR
    network: str  # what the deciding entry says: "mainnet", "other" or "unknown"
    layer: str  # "execution", "consensus" or "unknown"
    table_v4: list[int] = field(default_factory=list)  # node indices
    table_v5: list[int] = field(default_factory=list)
    services: list[Any] = field(default_factory=list)
    transports: list[UDPTransport] = field(default_factory=list)

    @property
    def port_v5(self) -> int:
        return self.port + 1

    @property
    def enode(self) -> Enode:
        return Enode(self.key.pubkey, ipaddress.IPv4Address(self.ip), self.port, self.port)


@dataclass(frozen=True)
class _Entries:
    eth_mainnet: ForkId
    eth_other: ForkId
    eth2_mainnet: ENRForkID


class MixedDevnet:
    def __init__(self, spec: MixedSpec, now: float | None = None) -> None:
        if spec.v4_only < 0 or spec.v5_only < 0 or spec.v4_only + spec.v5_only > 1:
            raise ValueError("v4_only and v5_only are shares that add up to at most 1")
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.nodes = self._make_nodes(time.time() if now is None else now)

    def _role(self) -> str:
        draw = self.rng.random()
        return "v4" if draw < self.spec.v4_only else "v5" if draw < self.spec.v4_only + self.spec.v5_only else "both"

    def _make_node(self, i: int, entries: _Entries) -> MixedNode:
        spec, rng = self.spec, self.rng
        key = PrivateKey.from_seed(f"devnet-mixed/{spec.seed}/{i}".encode())
        ip = node_address(spec.first_ip, i)
        protocols = ROLES[self._role()]
        other = rng.random() < spec.other_share
        network, layer = ("other" if other else "mainnet"), "consensus"
        eth: ForkId | None = None
        extra: dict[str | bytes, FieldValue] = {}
        if "discv5" in protocols:
            extra["eth2"] = OTHER_ETH2 if other else entries.eth2_mainnet
        if protocols == ("discv4",) or (len(protocols) == 2 and rng.random() < spec.dual_execution):
            layer, eth = "execution", entries.eth_other if other else entries.eth_mainnet
            if protocols == ("discv4",) and not other and rng.random() < spec.no_eth_share / (1 - spec.other_share):
                network, layer, eth = "unknown", "unknown", None
        udp = spec.port + 1 if "discv5" in protocols else spec.port
        tcp = spec.port if "discv4" in protocols else None
        enr = ENR.create(key, 1, ip=ipaddress.IPv4Address(ip), udp=udp, tcp=tcp, eth=eth, extra=extra)
        return MixedNode(i, key, ip, spec.port, protocols, enr, network, layer)

    def _make_nodes(self, now: float) -> list[MixedNode]:
        entries = _Entries(
            eth_mainnet=fork_id(MAINNET, estimate_mainnet_block(now), int(now)),
            eth_other=fork_id(OTHER_CHAIN, 0, int(now)),
            eth2_mainnet=current_eth2(now),
        )
        nodes = [self._make_node(i, entries) for i in range(self.spec.nodes)]
        for name, attr in (("discv4", "table_v4"), ("discv5", "table_v5")):
            members = [n for n in nodes if name in n.protocols]
            tables = build_tables([n.key.node_id for n in members], self.rng)
            for node, table in zip(members, tables, strict=True):
                setattr(node, attr, [members[j].index for j in table])
        return nodes

    def running(self, protocol: str) -> list[MixedNode]:
        return [n for n in self.nodes if protocol in n.protocols]

    @property
    def bootnodes(self) -> list[Enode]:
        return [n.enode for n in self.running("discv4")[:3]]

    @property
    def bootnodes_v5(self) -> list[ENR]:
        return [n.enr for n in self.running("discv5")[:3]]

    def bootnode_lines(self) -> list[str]:
        """What ``bootnodes.txt`` holds: ``enode://`` URLs for discv4, ``enr:`` records for discv5."""
        return [str(e) for e in self.bootnodes] + [r.to_text() for r in self.bootnodes_v5]

    def _sender(self, transport: UDPTransport, node: MixedNode, salt: int) -> Sender:
        if not (self.spec.latency or self.spec.loss):
            return transport
        return ImpairedSender(transport, self.spec.latency, self.spec.loss, random.Random(node.index * 2 + salt))

    async def _start_v4(self, node: MixedNode) -> None:
        peers = [self.nodes[j] for j in node.table_v4]
        entries = [NodeEntry(ipaddress.IPv4Address(p.ip), p.port, p.port, p.key.pubkey) for p in peers]
        ids = [int.from_bytes(p.key.node_id, "big") for p in peers]
        service = Discv4Service(
            node.key, node.port, Service4Config(), enr=node.enr, neighbors_of=neighbors_server(entries, ids)
        )
        node.services.append(service)
        transport = await UDPTransport.open(service, node.ip, node.port, LOOPBACK, service.stats)
        node.transports.append(transport)
        service.attach(self._sender(transport, node, 0), (node.ip, node.port))

    async def _start_v5(self, node: MixedNode) -> None:
        serve = table_server(node.key.node_id, [self.nodes[j].enr for j in node.table_v5])
        service = Discv5Service(node.key, node.enr, Service5Config(), nodes_at=serve)
        node.services.append(service)
        transport = await UDPTransport.open(service, node.ip, node.port_v5, LOOPBACK, service.stats)
        node.transports.append(transport)
        service.attach(self._sender(transport, node, 1), (node.ip, node.port_v5))

    async def start(self) -> None:
        raise_fd_limit(2 * len(self.nodes) + 64)
        for node in self.nodes:
            if "discv4" in node.protocols:
                await self._start_v4(node)
            if "discv5" in node.protocols:
                await self._start_v5(node)

    async def stop(self) -> None:
        for node in self.nodes:
            for service in node.services:
                await service.close()
            for transport in node.transports:
                transport.close()

    def ground_truth(self) -> dict[str, Any]:
        return {
            "spec": self.spec.__dict__,
            "kind": "mixed",
            "bootnodes": self.bootnode_lines(),
            "nodes": [self._truth(n) for n in self.nodes],
        }

    def _truth(self, n: MixedNode) -> dict[str, Any]:
        def ids(table: Sequence[int]) -> list[str]:
            return [self.nodes[j].key.node_id.hex() for j in table]

        v4, v5 = "discv4" in n.protocols, "discv5" in n.protocols
        return {
            "index": n.index,
            "id": n.key.node_id.hex(),
            "pubkey": n.key.pubkey.hex(),
            "ip": n.ip,
            "protocols": list(n.protocols),
            "udp": n.port if v4 else None,
            "udp_v5": n.port_v5 if v5 else None,
            "tcp": n.port if v4 else None,
            "enode": str(n.enode) if v4 else None,
            "enr": n.enr.to_text(),
            "network": n.network,
            "layer": n.layer,
            "table_v4": ids(n.table_v4),
            "table_v5": ids(n.table_v5),
        }


@asynccontextmanager
async def run_mixed_devnet(spec: MixedSpec) -> AsyncIterator[MixedDevnet]:
    net = MixedDevnet(spec)
    try:
        await net.start()
        yield net
    finally:
        await net.stop()
