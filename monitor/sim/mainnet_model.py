"""The population of the mainnet-like simulation (monitor/sim/mainnet.py): who exists, how each node behaves,
where it listens, how far away it is, when it leaves or joins, and every routing table. Pure: no sockets.

The mix is stated in :class:`MainnetSpec` (defaults below) and recorded in the ground truth:

* table entries: ``dead_share`` (40 %) of all node ids listed in tables never answer anything (stale entries);
* live nodes: ``nat_share`` are behind NAT: listed by others (they crawled the DHT themselves) but silent; the
  reachable rest is geth-strict (bond first, serve ENR), or ``no_ping_back_share`` answer anyone but never PING
  back (like @ethereumjs/devp2p 10.x, but with an ENR), or ``no_enr_share`` are pre-EIP-868 (bond first, no record);
* ``other_chain_share`` of live nodes advertise another chain's fork id; ``shared_ip_share`` share one IP (2-4 node
  ids a host, on consecutive ports);
* round trips: log-normal, median ``rtt_median`` (100 ms), sigma 0.6 (p90 ~215 ms, p99 ~400 ms), clipped to
  [10 ms, 400 ms]; ``loss`` (1 %) of the datagrams in each direction are dropped, so ~2 % of exchanges fail;
* churn: ``leave_share`` of reachable nodes go silent and ``join_share`` of live nodes first appear (answer, and show
  up in tables) at a uniform time within ``churn_window`` seconds after the crawler's first packet.
"""

from __future__ import annotations

import bisect
import ipaddress
import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.discovery.enr import ENR
from monitor.discovery.forkid import MAINNET, fork_id
from monitor.discovery.network import estimate_mainnet_block
from monitor.p2p.keys import PrivateKey
from monitor.sim.devnet import OTHER_CHAIN

__all__ = ["MainnetSpec", "SimNode", "Population", "KINDS", "REACHABLE"]

KINDS = ("geth", "no_ping_back", "no_enr", "nat", "dead")
REACHABLE = frozenset({"geth", "no_ping_back", "no_enr"})
BUCKET_SIZE = 16
MIN_DISTANCE = 239  # geth's 17 buckets: everything closer than 2^239 shares the last one


@dataclass(frozen=True)
class MainnetSpec:
    live: int = 20_000
    dead_share: float = 0.40
    nat_share: float = 0.10
    no_ping_back_share: float = 0.10
    no_enr_share: float = 0.10
    other_chain_share: float = 0.30
    shared_ip_share: float = 0.10
    rtt_median: float = 0.100
    rtt_sigma: float = 0.6
    rtt_min: float = 0.010
    rtt_max: float = 0.400
    loss: float = 0.01
    leave_share: float = 0.03
    join_share: float = 0.03
    churn_window: tuple[float, float] = (5.0, 60.0)
    seed: int = 1
    network: str = "127.60.0.0/14"
    ports: int = 4  # node ids on one IP listen on port, port+1, ...
    port: int = 28001

    @property
    def dead(self) -> int:
        return round(self.live * self.dead_share / (1 - self.dead_share))


@dataclass
class SimNode:
    index: int
    key: PrivateKey
    ip: str
    port: int
    kind: str
    network: str  # "mainnet" or "other" (live nodes); "none" for dead entries
    rtt: float
    join_at: float | None = None  # seconds after the crawler's first packet
    leave_at: float | None = None
    enr: ENR | None = None
    buckets: dict[int, list[int]] = field(default_factory=dict)  # reachable nodes: distance -> node indexes
    id_int: int = 0
    listed_by: int = 0

    @property
    def reachable(self) -> bool:
        return self.kind in REACHABLE

    def present(self, t: float) -> bool:
        """Answering at ``t`` seconds after the crawler's first packet?"""
        if not self.reachable or (self.join_at is not None and t < self.join_at):
            return False
        return self.leave_at is None or t < self.leave_at

    def truth(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.key.node_id.hex(),
            "ip": self.ip,
            "udp": self.port,
            "kind": self.kind,
            "network": self.network,
            "rtt": round(self.rtt, 4),
            "reachable": self.reachable,
            "serves_enr": self.enr is not None,
            "join_at": self.join_at,
            "leave_at": self.leave_at,
            "listed_by": self.listed_by,
        }


class Population:
    def __init__(self, spec: MainnetSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.nodes = self._make_nodes()
        self._fill_tables()

    def _kind(self, live_index: int) -> str:
        draw = self.rng.random()
        s = self.spec
        for kind, share in (("nat", s.nat_share), ("no_ping_back", s.no_ping_back_share), ("no_enr", s.no_enr_share)):
            if draw < share:
                return kind
            draw -= share
        return "geth"

    def _addresses(self, count: int) -> list[tuple[str, int]]:
        """Consecutive hosts of the network; a ``shared_ip_share`` of nodes join the previous host (2-4 per IP)."""
        net = ipaddress.IPv4Network(self.spec.network)
        out: list[tuple[str, int]] = []
        host, on_host = 1, 0
        for _ in range(count):
            if out and on_host < self.spec.ports and self.rng.random() < self.spec.shared_ip_share:
                on_host += 1
            else:
                host, on_host = host + 1 + (host % 256 == 254) * 2, 0  # skip .255 and .0
            if host >= net.num_addresses - 1:
                raise ValueError(f"{count} nodes do not fit in {net}")
            out.append((str(net.network_address + host), self.spec.port + on_host))
        return out

    def _rtt(self) -> float:
        s = self.spec
        return min(s.rtt_max, max(s.rtt_min, s.rtt_median * math.exp(self.rng.gauss(0.0, s.rtt_sigma))))

    def _make_nodes(self) -> list[SimNode]:
        s, now = self.spec, time.time()
        mainnet = fork_id(MAINNET, estimate_mainnet_block(now), int(now))
        other = fork_id(OTHER_CHAIN, 0, int(now))
        total = s.live + s.dead
        kinds = [self._kind(i) for i in range(s.live)] + ["dead"] * s.dead
        self.rng.shuffle(kinds)
        nodes = []
        for i, ((ip, port), kind) in enumerate(zip(self._addresses(total), kinds, strict=True)):
            key = PrivateKey.from_seed(f"mainnet-like/{s.seed}/{i}".encode())
            network = "none" if kind == "dead" else ("other" if self.rng.random() < s.other_chain_share else "mainnet")
            node = SimNode(i, key, ip, port, kind, network, self._rtt(), id_int=int.from_bytes(key.node_id, "big"))
            if kind in ("geth", "no_ping_back"):
                eth = other if network == "other" else mainnet
                node.enr = ENR.create(key, 1, ip=ipaddress.IPv4Address(ip), udp=port, tcp=port, eth=eth)
            nodes.append(node)
        lo, hi = s.churn_window
        reachable = [n for n in nodes if n.reachable]
        self.bootnodes = [n.index for n in reachable if n.kind == "geth" and n.network == "mainnet"][:3]
        churnable = [n for n in reachable if n.index not in self.bootnodes]
        for node in self.rng.sample(churnable, round(s.leave_share * len(reachable))):
            node.leave_at = self.rng.uniform(lo, hi)
        live = [n for n in nodes if n.kind != "dead" and n.leave_at is None and n.index not in self.bootnodes]
        for node in self.rng.sample(live, round(s.join_share * s.live)):
            node.join_at = self.rng.uniform(lo, hi)
        return nodes

    def _fill_tables(self) -> None:
        """Reachable nodes get a settled table: up to k random nodes (live or dead) per log-distance bucket."""
        ints = [n.id_int for n in self.nodes]
        order = sorted(range(len(ints)), key=ints.__getitem__)
        values = [ints[i] for i in order]

        def members(prefix: int, shift: int) -> list[int]:
            return order[
                bisect.bisect_left(values, prefix << shift) : bisect.bisect_left(values, (prefix + 1) << shift)
            ]

        for node in self.nodes:
            if not node.reachable:
                continue
            x = node.id_int
            for distance in range(256, MIN_DISTANCE, -1):
                bucket = members((x >> (distance - 1)) ^ 1, distance - 1)
                if bucket:
                    node.buckets[distance] = self._pick(bucket)
            closest = [j for j in members(x >> MIN_DISTANCE, MIN_DISTANCE) if j != node.index]
            if closest:
                node.buckets[MIN_DISTANCE] = self._pick(closest)
            for bucket in node.buckets.values():
                for j in bucket:
                    self.nodes[j].listed_by += 1

    def _pick(self, bucket: list[int]) -> list[int]:
        return bucket if len(bucket) <= BUCKET_SIZE else self.rng.sample(bucket, BUCKET_SIZE)

    def closest(self, node: SimNode, target: int, t: float) -> list[int]:
        """The k entries of ``node``'s table closest to ``target`` (XOR), hiding nodes that have not joined yet.

        Entries of bucket d are closer to a target at distance d than any other bucket's, deeper buckets come next,
        then the shallower ones: the answer is assembled bucket by bucket instead of sorting the whole table.
        """
        d = max(MIN_DISTANCE, (node.id_int ^ target).bit_length())
        buckets = node.buckets
        out: list[int] = []
        groups = [buckets.get(d, [])]
        groups.append([j for dd, b in buckets.items() if dd < d for j in b])
        groups.extend(buckets[dd] for dd in sorted(buckets) if dd > d)
        nodes = self.nodes
        for group in groups:
            ranked = sorted(group, key=lambda j: nodes[j].id_int ^ target) if len(group) > 1 else group
            for j in ranked:
                joined = nodes[j].join_at
                if joined is None or joined <= t:
                    out.append(j)
                    if len(out) == BUCKET_SIZE:
                        return out
        return out

    def truth(self) -> dict[str, Any]:
        return {
            "spec": asdict(self.spec),
            "bootnodes": self.bootnodes,
            "nodes": [n.truth() for n in self.nodes],
        }
