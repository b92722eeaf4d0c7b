"""discv4 protocol state without I/O: reply matching, bonding, expiration, replies we owe.

Reply matching follows the spec's loose coupling: a PONG names the PING's hash, an ENRRESPONSE names the
ENRREQUEST's hash, but NEIGHBORS names nothing, so it is matched to the oldest FINDNODE pending for that peer.
Keys are always (peer node id, hash): two ENRREQUESTs sent in the same second carry the same expiration, are
signed deterministically (RFC 6979) and therefore share a hash, so the hash alone is ambiguous.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from monitor.discovery.v4.wire import (
    MAX_NEIGHBORS,
    Endpoint,
    ENRResponse,
    Neighbors,
    NodeEntry,
    Packet,
    Pong,
)
from monitor.p2p.keys import NodeID

__all__ = [
    "BUCKET_SIZE",
    "BOND_EXPIRATION",
    "PACKET_LIFETIME",
    "Matcher",
    "PongMatcher",
    "ENRMatcher",
    "NeighborsMatcher",
    "PendingReplies",
    "BondState",
    "expiration_from",
    "split_neighbors",
    "endpoint_of",
]

BUCKET_SIZE: Final = 16  # a FINDNODE is answered with at most this many nodes (Kademlia k)
BOND_EXPIRATION: Final = 24 * 3600.0  # geth keeps a bond (last PONG received) for a day
PACKET_LIFETIME: Final = 20.0  # seconds until an outgoing packet expires (geth uses 20 s)


def expiration_from(now: float, lifetime: float = PACKET_LIFETIME) -> int:
    return int(now + lifetime)


@dataclass(eq=False)
class Matcher:
    """A pending request waiting for its reply. ``feed`` returns (matched, done)."""

    peer: NodeID
    kind: str

    def feed(self, packet: Packet, packet_hash: bytes) -> tuple[bool, bool]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(eq=False)
class PongMatcher(Matcher):
    ping_hash: bytes = b""
    reply: Pong | None = None
    earlier: tuple[bytes, ...] = ()  # hashes of this request's earlier, timed-out attempts: a late answer counts

    def feed(self, packet: Packet, packet_hash: bytes) -> tuple[bool, bool]:
        if isinstance(packet, Pong) and (packet.ping_hash == self.ping_hash or packet.ping_hash in self.earlier):
            self.reply = packet
            return True, True
        return False, False


@dataclass(eq=False)
class ENRMatcher(Matcher):
    request_hash: bytes = b""
    reply: ENRResponse | None = None
    earlier: tuple[bytes, ...] = ()  # as PongMatcher.earlier

    def feed(self, packet: Packet, packet_hash: bytes) -> tuple[bool, bool]:
        if isinstance(packet, ENRResponse) and (
            packet.request_hash == self.request_hash or packet.request_hash in self.earlier
        ):
            self.reply = packet
            return True, True
        return False, False


@dataclass(eq=False)
class NeighborsMatcher(Matcher):
    """Collects NEIGHBORS until k nodes arrived or a packet is not full.

    Senders fill packets up to their size limit (12 for geth within 1,280 bytes, 16 for @ethereumjs/devp2p),
    so a packet carrying fewer than MAX_NEIGHBORS nodes is the last one; waiting for the timeout instead (as
    geth does) would cost every sparse bucket a full timeout.
    """

    nodes: list[NodeEntry] = field(default_factory=list)
    packets: int = 0
    complete: bool = False  # False when the answer ended by waiting: more packets may have been lost

    def feed(self, packet: Packet, packet_hash: bytes) -> tuple[bool, bool]:
        if not isinstance(packet, Neighbors):
            return False, False
        self.packets += 1
        self.nodes.extend(packet.nodes)
        self.complete = len(self.nodes) >= BUCKET_SIZE or len(packet.nodes) < MAX_NEIGHBORS
        return True, self.complete


class PendingReplies:
    """Registry of matchers per peer; the first matcher (oldest) that accepts a packet consumes it."""

    def __init__(self) -> None:
        self._by_peer: dict[NodeID, list[Matcher]] = {}

    def add(self, matcher: Matcher) -> None:
        self._by_peer.setdefault(matcher.peer, []).append(matcher)

    def remove(self, matcher: Matcher) -> None:
        pending = self._by_peer.get(matcher.peer)
        if pending and matcher in pending:
            pending.remove(matcher)
            if not pending:
                del self._by_peer[matcher.peer]

    def dispatch(self, peer: NodeID, packet: Packet, packet_hash: bytes) -> tuple[bool, list[Matcher]]:
        """Feed a reply; return (was it expected?, matchers now complete — already removed)."""
        for matcher in list(self._by_peer.get(peer, ())):
            matched, done = matcher.feed(packet, packet_hash)
            if matched:
                if done:
                    self.remove(matcher)
                    return True, [matcher]
                return True, []
        return False, []

    def of_peer(self, peer: NodeID) -> list[Matcher]:
        return self._by_peer.get(peer, [])

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_peer.values())


class BondState:
    """When did we last hear PONG from / PING by each peer (geth's bond rule, by node id)."""

    def __init__(self, now: Callable[[], float], expiration: float = BOND_EXPIRATION) -> None:
        self._now = now
        self._expiration = expiration
        self._pong_received: dict[NodeID, float] = {}
        self._ping_received: dict[NodeID, float] = {}

    def pong_received(self, peer: NodeID) -> None:
        self._pong_received[peer] = self._now()

    def ping_received(self, peer: NodeID) -> None:
        self._ping_received[peer] = self._now()

    def is_bonded(self, peer: NodeID) -> bool:
        """The peer proved its endpoint by answering our PING recently: it may ask FINDNODE / ENRREQUEST."""
        last = self._pong_received.get(peer)
        return last is not None and self._now() - last < self._expiration

    def pinged_us(self, peer: NodeID) -> bool:
        last = self._ping_received.get(peer)
        return last is not None and self._now() - last < self._expiration


def split_neighbors(nodes: Sequence[NodeEntry], expiration: int) -> Iterable[Neighbors]:
    """Answer a FINDNODE: at most k nodes, MAX_NEIGHBORS per packet so each stays within 1,280 bytes."""
    chosen = list(nodes[:BUCKET_SIZE])
    if not chosen:
        yield Neighbors((), expiration)
    for start in range(0, len(chosen), MAX_NEIGHBORS):
        yield Neighbors(tuple(chosen[start : start + MAX_NEIGHBORS]), expiration)


def endpoint_of(ip: str, port: int, tcp: int = 0) -> Endpoint:
    return Endpoint(ipaddress.ip_address(ip), port, tcp)
