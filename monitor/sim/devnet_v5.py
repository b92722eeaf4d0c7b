"""A local discv5 network on loopback: our own :class:`Discv5Service` nodes, for tests, benchmarks and demos.

The discv5 twin of :mod:`monitor.sim.devnet`: every node is bound to its own loopback address (spread over /24s
by the same ``node_address``), signs a record with its endpoint, and serves a settled Kademlia table built by the
same ``build_tables`` (up to k=16 nodes per log distance). FINDNODE is answered from that table by log distance,
which gives a ground truth to measure a crawl against. Nodes send only to 127.0.0.0/8; latency and loss can be
injected on their sends.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from monitor.discovery.enr import ENR
from monitor.discovery.v5.service import Discv5Service, ServiceConfig
from monitor.p2p.keys import PrivateKey, log_distance
from monitor.p2p.udp import Sender, UDPTransport
from monitor.sim.devnet import LOOPBACK, ImpairedSender, build_tables, node_address, raise_fd_limit

__all__ = ["DevnetV5Spec", "DevnetV5Node", "DevnetV5", "run_devnet_v5", "table_server"]


@dataclass(frozen=True)
class DevnetV5Spec:
    nodes: int = 100
    seed: int = 1
    first_ip: str = "127.11.0.1"
    port: int = 9000  # the consensus clients' usual discovery port
    latency: float = 0.0  # seconds added to every datagram a node sends
    loss: float = 0.0  # probability that a node's datagram is dropped


@dataclass
class DevnetV5Node:
    index: int
    key: PrivateKey
    ip: str
    port: int
    enr: ENR
    table: list[int] = field(default_factory=list)  # indices of the nodes it knows
    service: Discv5Service | None = None
    transport: UDPTransport | None = None


def table_server(own: bytes, records: Sequence[ENR]) -> Any:
    """A discv5 table's NODES answer: every record at the asked log distances from ``own``."""
    by_distance: dict[int, list[ENR]] = {}
    for record in records:
        by_distance.setdefault(log_distance(record.node_id, own), []).append(record)

    def nodes_at(distances: Sequence[int]) -> list[ENR]:
        return [r for d in distances for r in by_distance.get(d, ())]

    return nodes_at


class DevnetV5:
    def __init__(self, spec: DevnetV5Spec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.nodes = self._make_nodes()

    def _make_nodes(self) -> list[DevnetV5Node]:
        spec = self.spec
        nodes = []
        for i in range(spec.nodes):
            key = PrivateKey.from_seed(f"devnet-v5/{spec.seed}/{i}".encode())
            ip = node_address(spec.first_ip, i)
            enr = ENR.create(key, 1, ip=ipaddress.IPv4Address(ip), udp=spec.port)
            nodes.append(DevnetV5Node(i, key, ip, spec.port, enr))
        for node, table in zip(nodes, build_tables([n.key.node_id for n in nodes], self.rng), strict=True):
            node.table = table
        return nodes

    @property
    def bootnodes(self) -> list[ENR]:
        return [n.enr for n in self.nodes[:3]]

    async def start(self) -> None:
        raise_fd_limit(len(self.nodes) + 64)
        for node in self.nodes:
            serve = table_server(node.key.node_id, [self.nodes[j].enr for j in node.table])
            service = Discv5Service(node.key, node.enr, ServiceConfig(), nodes_at=serve)
            transport = await UDPTransport.open(service, node.ip, node.port, LOOPBACK, service.stats)
            sender: Sender = transport
            if self.spec.latency or self.spec.loss:
                sender = ImpairedSender(transport, self.spec.latency, self.spec.loss, random.Random(node.index))
            service.attach(sender, (node.ip, node.port))
            node.service, node.transport = service, transport

    async def stop(self) -> None:
        for node in self.nodes:
            if node.service is not None:
                await node.service.close()
            if node.transport is not None:
                node.transport.close()

    def ground_truth(self) -> dict[str, Any]:
        return {
            "spec": self.spec.__dict__,
            "bootnodes": [e.to_text() for e in self.bootnodes],
            "nodes": [
                {
                    "index": n.index,
                    "id": n.key.node_id.hex(),
                    "pubkey": n.key.pubkey.hex(),
                    "ip": n.ip,
                    "udp": n.port,
                    "enr": n.enr.to_text(),
                    "table": [self.nodes[j].key.node_id.hex() for j in n.table],
                }
                for n in self.nodes
            ],
        }


@asynccontextmanager
async def run_devnet_v5(spec: DevnetV5Spec) -> AsyncIterator[DevnetV5]:
    net = DevnetV5(spec)
    await net.start()
    try:
        yield net
    finally:
        await net.stop()
