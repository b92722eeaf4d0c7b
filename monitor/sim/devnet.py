"""A local discv4 network on loopback, for trying the tool offline and for tests and benchmarks.

Every node is our own :class:`Discv4Service` bound to its own address in 127.10.0.0/16 (Linux routes all of
127/8 to the loopback interface with no set-up). Tables are filled as a long-running Kademlia node's would
be: for each log-distance, up to k=16 of the nodes at that distance. That makes the network connected and
gives a ground truth (every node and its table) to measure a crawl against. Nodes send only to 127.0.0.0/8.

A share of the nodes advertises another chain's fork id or no ``eth`` entry at all, so that the crawler's
mainnet / other / unknown verdicts are exercised. Latency and loss can be injected on the nodes' sends, and single
nodes can be told to misbehave (no ENR, no FINDNODE answers, no PING-back, dying, renewing their record): see
:class:`NodeBehaviour`.
"""

from __future__ import annotations

import asyncio
import bisect
import ipaddress
import random
import resource
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from monitor.discovery.enode import Enode
from monitor.discovery.enr import ENR
from monitor.discovery.forkid import MAINNET, ChainConfig, fork_id
from monitor.discovery.network import estimate_mainnet_block
from monitor.discovery.v4.protocol import BUCKET_SIZE
from monitor.discovery.v4.service import Discv4Service, ServiceConfig
from monitor.discovery.v4.wire import NodeEntry
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import Address, DatagramHandler, Sender, UDPTransport
from monitor.sim.behaviour import NodeBehaviour, ScriptedNode
from monitor.sim.faults import Faults, FaultyNode

__all__ = [
    "DevnetSpec",
    "DevnetNode",
    "Devnet",
    "node_address",
    "build_tables",
    "neighbors_server",
    "raise_fd_limit",
    "run_devnet",
    "NodeBehaviour",
]

LOOPBACK = NetRestrict.parse("127.0.0.0/8")
MIN_DISTANCE = 239  # geth keeps 17 buckets; everything closer than 2^239 shares the last one

# An unrelated chain (a made-up genesis, no forks): its fork id never matches mainnet's.
OTHER_CHAIN = ChainConfig(name="devnet-other", genesis_hash=bytes(31) + b"\x01", block_forks=())


@dataclass(frozen=True)
class DevnetSpec:
    nodes: int = 100
    seed: int = 1
    first_ip: str = "127.10.0.1"
    port: int = 30303
    other_share: float = 0.10  # nodes advertising another chain's fork id
    no_eth_share: float = 0.05  # nodes whose ENR has no eth entry
    latency: float = 0.0  # seconds added to every datagram a node sends
    loss: float = 0.0  # probability that a node's datagram is dropped


def node_address(first_ip: str, index: int) -> str:
    """The index-th node's address in the /16 of ``first_ip``.

    Consecutive nodes go to different /24s (third octet = index mod 254), as a real network spreads over many
    networks; .0 and .255 are never used.
    """
    base = ipaddress.IPv4Network(f"{first_ip}/16", strict=False)
    if index >= 254 * 254:
        raise ValueError("a devnet holds at most 64,516 nodes")
    addr = base.network_address + (index % 254 + 1) * 256 + index // 254 + 1
    if addr not in ipaddress.IPv4Network("127.0.0.0/8"):
        raise ValueError(f"devnet address {addr} is outside 127.0.0.0/8")
    return str(addr)


def build_tables(ids: Sequence[bytes], rng: random.Random) -> list[list[int]]:
    """For each node, up to k nodes per log-distance bucket (239..256), picked at random: a settled table.

    Nodes at distance d from x share x's bits above bit d-1 and differ at bit d-1, so on the sorted ids each
    bucket is one contiguous range, found by bisection: O(n log n) rather than comparing every pair.
    """
    ints = [int.from_bytes(i, "big") for i in ids]
    order = sorted(range(len(ints)), key=ints.__getitem__)
    values = [ints[i] for i in order]

    def members(prefix: int, shift: int) -> list[int]:
        lo = bisect.bisect_left(values, prefix << shift)
        hi = bisect.bisect_left(values, (prefix + 1) << shift)
        return order[lo:hi]

    tables: list[list[int]] = []
    for me, x in enumerate(ints):
        table: list[int] = []
        for distance in range(256, MIN_DISTANCE, -1):
            bucket = members((x >> (distance - 1)) ^ 1, distance - 1)
            table.extend(bucket if len(bucket) <= BUCKET_SIZE else rng.sample(bucket, BUCKET_SIZE))
        closest = [j for j in members(x >> MIN_DISTANCE, MIN_DISTANCE) if j != me]
        table.extend(closest if len(closest) <= BUCKET_SIZE else rng.sample(closest, BUCKET_SIZE))
        tables.append(sorted(table))
    return tables


class ImpairedSender:
    """Adds latency and loss to a node's outgoing datagrams (for benchmarks)."""

    def __init__(self, inner: Sender, latency: float, loss: float, rng: random.Random) -> None:
        self.inner, self.latency, self.loss, self.rng = inner, latency, loss, rng
        self.dropped = 0

    def send(self, data: bytes, addr: Address) -> None:
        if self.loss and self.rng.random() < self.loss:
            self.dropped += 1
            return
        if self.latency:
            asyncio.get_running_loop().call_later(self.latency, self._send_quietly, data, addr)
        else:
            self.inner.send(data, addr)

    def _send_quietly(self, data: bytes, addr: Address) -> None:
        try:
            self.inner.send(data, addr)
        except Exception:  # the socket may have closed meanwhile; a delayed datagram is simply lost
            self.dropped += 1


@dataclass
class DevnetNode:
    index: int
    key: PrivateKey
    ip: str
    port: int
    enr: ENR
    network: str  # what this node advertises: "mainnet", "other" or "unknown" (no eth entry)
    table: list[int] = field(default_factory=list)
    behaviour: NodeBehaviour = field(default_factory=NodeBehaviour)
    service: Discv4Service | None = None
    transport: UDPTransport | None = None
    script: ScriptedNode | None = None

    def renewed(self, record: ENR) -> None:
        """The node's record changed while running (``NodeBehaviour.renew_enr``)."""
        self.enr = record

    @property
    def enode(self) -> Enode:
        return Enode(self.key.pubkey, ipaddress.IPv4Address(self.ip), self.port, self.port)


def neighbors_server(entries: list[NodeEntry], ids: list[int]) -> Any:
    """A discv4 table's NEIGHBORS answer: the k entries closest (XOR) to the target."""

    def neighbors_of(target: bytes) -> Sequence[NodeEntry]:
        t = int.from_bytes(target, "big")
        order = sorted(range(len(ids)), key=lambda j: ids[j] ^ t)
        return [entries[j] for j in order[:BUCKET_SIZE]]

    return neighbors_of


class Devnet:
    """The nodes of ``spec``; ``behaviours`` maps a node index to how that node misbehaves (default: not at all)."""

    def __init__(
        self,
        spec: DevnetSpec,
        behaviours: Mapping[int, NodeBehaviour] | None = None,
        faults: Mapping[int, Faults] | None = None,  # node index -> network faults (monitor/sim/faults.py)
    ) -> None:
        self.spec = spec
        self.faults = dict(faults or {})
        self._faulty: list[FaultyNode] = []
        self.rng = random.Random(spec.seed)
        self.nodes = self._make_nodes()
        for index, behaviour in (behaviours or {}).items():
            if not 0 <= index < len(self.nodes):
                raise ValueError(f"no devnet node {index} (the devnet has {len(self.nodes)})")
            self.nodes[index].behaviour = behaviour

    def _make_nodes(self) -> list[DevnetNode]:
        spec, now = self.spec, time.time()
        mainnet = fork_id(MAINNET, estimate_mainnet_block(now), int(now))
        other = fork_id(OTHER_CHAIN, 0, int(now))
        nodes = []
        for i in range(spec.nodes):
            key = PrivateKey.from_seed(f"devnet/{spec.seed}/{i}".encode())
            ip = node_address(spec.first_ip, i)
            draw = self.rng.random()
            network, eth = (
                ("other", other) if draw < spec.other_share
                else ("unknown", None) if draw < spec.other_share + spec.no_eth_share
                else ("mainnet", mainnet)
            )  # fmt: skip
            enr = ENR.create(key, 1, ip=ipaddress.IPv4Address(ip), udp=spec.port, tcp=spec.port, eth=eth)
            nodes.append(DevnetNode(i, key, ip, spec.port, enr, network))
        for node, table in zip(nodes, build_tables([n.key.node_id for n in nodes], self.rng), strict=True):
            node.table = table
        return nodes

    @property
    def bootnodes(self) -> list[Enode]:
        return [n.enode for n in self.nodes[:3]]

    def bootnode_lines(self) -> list[str]:
        """What ``bootnodes.txt`` holds: one ``enode://`` URL a line."""
        return [str(e) for e in self.bootnodes]

    async def start(self) -> None:
        raise_fd_limit(len(self.nodes) + 64)
        for node in self.nodes:
            await self._start_node(node)

    async def _start_node(self, node: DevnetNode) -> None:
        entries = [
            NodeEntry(ipaddress.IPv4Address(self.nodes[j].ip), self.nodes[j].port, self.nodes[j].port,
                      self.nodes[j].key.pubkey)
            for j in node.table
        ]  # fmt: skip
        ids = [int.from_bytes(self.nodes[j].key.node_id, "big") for j in node.table]
        behaviour = node.behaviour
        faults = self.faults.get(node.index)
        service = Discv4Service(
            node.key,
            node.port,
            ServiceConfig(ping_back=behaviour.ping_back),
            now=faults.clock() if faults is not None else time.time,  # a skewed clock writes and checks expirations
            enr=node.enr if behaviour.serve_enr else None,
            neighbors_of=neighbors_server(entries, ids) if behaviour.answer_findnode else None,
        )
        script = ScriptedNode(service, behaviour, node.renewed) if behaviour.scripted else None
        handler: DatagramHandler = script if script is not None else service
        faulty = None
        if faults is not None:
            faulty = FaultyNode(handler, faults, node.key, random.Random(node.index), service.stats, node.ip)
            handler = faulty
            self._faulty.append(faulty)
        transport = await UDPTransport.open(handler, node.ip, node.port, LOOPBACK, service.stats)
        sender: Sender = transport
        if self.spec.latency or self.spec.loss:
            sender = ImpairedSender(transport, self.spec.latency, self.spec.loss, random.Random(node.index))
        if faulty is not None:
            faulty.sender, sender = sender, faulty
        if script is not None:
            script.sender, sender = sender, script
        service.attach(sender, (node.ip, node.port))
        node.service, node.transport, node.script = service, transport, script

    async def stop(self) -> None:
        for faulty in self._faulty:
            faulty.close()
        for node in self.nodes:
            if node.script is not None:
                await node.script.close()
            if node.service is not None:
                await node.service.close()
            if node.transport is not None:
                node.transport.close()

    def ground_truth(self) -> dict[str, Any]:
        return {
            "spec": self.spec.__dict__,
            "bootnodes": [str(e) for e in self.bootnodes],
            "nodes": [
                {
                    "index": n.index,
                    "id": n.key.node_id.hex(),
                    "pubkey": n.key.pubkey.hex(),
                    "ip": n.ip,
                    "udp": n.port,
                    "tcp": n.port,
                    "enode": str(n.enode),
                    "enr": n.enr.to_text(),
                    "network": n.network,
                    "table": [self.nodes[j].key.node_id.hex() for j in n.table],
                }
                for n in self.nodes
            ],
        }


def raise_fd_limit(wanted: int) -> None:
    """Raise the soft open-files limit to ``wanted`` (capped by the hard limit): one socket per devnet node."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@asynccontextmanager
async def run_devnet(
    spec: DevnetSpec, behaviours: Mapping[int, NodeBehaviour] | None = None, faults: Mapping[int, Faults] | None = None
) -> AsyncIterator[Devnet]:
    net = Devnet(spec, behaviours, faults)
    await net.start()
    try:
        yield net
    finally:
        await net.stop()
