"""Network faults for devnet nodes (issue 16's fault-injection suite): loss, jitter, duplicates, replays, NEIGHBORS
floods and a skewed clock, per node, on top of the behaviours in :mod:`monitor.sim.behaviour`.

A :class:`FaultyNode` sits between a node's socket and its service (or its ScriptedNode), both ways, like a bad
link and a bad implementation would: what it drops never reaches the service, what it delays or repeats leaves
later or twice. A skewed clock is not played here: it is the service's own ``now`` (see ``Faults.clock``), so the
node writes and checks expirations with it, as a host with a wrong clock does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from monitor.discovery.v4.protocol import expiration_from
from monitor.discovery.v4.wire import HEAD_SIZE, MAX_NEIGHBORS, FindNode, Neighbors, NodeEntry, encode
from monitor.p2p.keys import PrivateKey
from monitor.p2p.udp import Address, DatagramHandler, Sender

__all__ = ["Faults", "FaultyNode"]


@dataclass(frozen=True)
class Faults:
    loss: float = 0.0  # each datagram, received or sent, is lost with this probability
    jitter: float = 0.0  # each datagram sent waits a uniform [0, jitter] s (so they also arrive out of order)
    duplicate: bool = False  # every datagram sent goes out twice: each request is answered twice
    replay_after: float | None = None  # each datagram sent is sent once more this many seconds later
    flood_neighbors: int = 0  # each FINDNODE first gets this many NEIGHBORS packets of made-up nodes, then the answer
    clock_skew: float = 0.0  # seconds the node's clock is off (+: ahead)

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss < 1.0 or self.jitter < 0 or self.flood_neighbors < 0:
            raise ValueError("loss must be in [0, 1), jitter and flood_neighbors at least 0")

    def clock(self, base: Callable[[], float] = time.time) -> Callable[[], float]:
        skew = self.clock_skew
        return base if not skew else (lambda: base() + skew)


class FaultyNode:
    """DatagramHandler (socket side) and Sender (service side) of a node with ``faults``; counts in ``stats``."""

    FLOOD_POOL = 240  # made-up nodes a flooder lists, over and over (fresh keys cost ~0.1 ms each)

    def __init__(
        self,
        inner: DatagramHandler,
        faults: Faults,
        key: PrivateKey,
        rng: random.Random,
        stats: Counter[str],
        home: str = "127.10.0.1",  # the node's address: made-up nodes go to its /16, at .255 (no devnet node's)
    ) -> None:
        self.inner = inner
        self.home = home
        self.faults = faults
        self.key = key
        self.rng = rng
        self.stats = stats
        self.sender: Sender | None = None  # the socket side; set before the node starts
        self._timers: set[asyncio.TimerHandle] = set()
        self._pool: list[NodeEntry] = []
        self.closed = False

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.closed:
            return
        if self.faults.loss and self.rng.random() < self.faults.loss:
            self.stats["faults:lost_in"] += 1
            return
        if self.faults.flood_neighbors and len(data) > HEAD_SIZE and data[HEAD_SIZE] == FindNode.TYPE:
            self._flood(addr)  # before the real answer: the first k made-up nodes are taken as the answer
        self.inner.datagram_received(data, addr)

    def send(self, data: bytes, addr: Address) -> None:
        if self.closed or self.sender is None:
            return
        if self.faults.loss and self.rng.random() < self.faults.loss:
            self.stats["faults:lost_out"] += 1
            return
        for _ in range(2 if self.faults.duplicate else 1):
            self._later(self.rng.uniform(0.0, self.faults.jitter) if self.faults.jitter else 0.0, data, addr)
        if self.faults.replay_after is not None:
            self._later(self.faults.replay_after, data, addr)
            self.stats["faults:replayed"] += 1

    def _later(self, delay: float, data: bytes, addr: Address) -> None:
        if delay <= 0.0:
            self._send_now(data, addr, None)
            return
        loop = asyncio.get_running_loop()
        holder: list[asyncio.TimerHandle] = []
        timer = loop.call_later(delay, lambda: self._send_now(data, addr, holder[0]))
        holder.append(timer)
        self._timers.add(timer)

    def _send_now(self, data: bytes, addr: Address, timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            self._timers.discard(timer)
        if self.closed or self.sender is None:
            return
        try:
            self.sender.send(data, addr)
        except Exception:  # the socket may have closed meanwhile: a late datagram is simply lost
            self.stats["faults:late_unsent"] += 1

    def _flood(self, addr: Address) -> None:
        if not self._pool:
            net = ipaddress.IPv4Network(f"{self.home}/16", strict=False).network_address
            self._pool = [  # nothing listens at x.y.i.255: each one a dead end for whoever crawls it
                NodeEntry(net + i * 256 + 255, 30303, 30303,
                          PrivateKey.from_seed(self.key.secret + i.to_bytes(4, "big")).pubkey)
                for i in range(self.FLOOD_POOL)
            ]  # fmt: skip
        exp = expiration_from(self.faults.clock()())
        for _ in range(self.faults.flood_neighbors):
            nodes = tuple(self.rng.sample(self._pool, MAX_NEIGHBORS))
            self.send(encode(Neighbors(nodes, exp), self.key)[0], addr)
            self.stats["faults:flood_neighbors"] += 1

    def close(self) -> None:
        self.closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
