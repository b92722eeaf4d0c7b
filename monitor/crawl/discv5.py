"""The discv5 crawler driver: PING each node, fetch its record when newer, walk its table by log distance.

Per node: PING (with retries; the first request also runs the handshake) for the ENR seq the node announces ->
FINDNODE at distance 0 for the record itself, when that seq is newer than the record we learned the node from
(or we have none) -> FINDNODE at log distances 256, 255, ... ``distances_per_request`` at a time (one by default).

Stop rules (the discv4 driver's, adapted to a protocol that asks by distance rather than by target):

* ``empty_limit`` consecutive requested distances that came back empty in complete answers: bucket ``256 - i``
  of a table over N nodes holds about N / 2^(i+1) of them, so past two empty buckets in a row the deeper ones are
  almost surely empty too. Distances in an answer that lost a NODES message count neither way.
* ``stale_limit`` consecutive answers adding no node new to this visit (peers that ignore the distances asked);
* ``timeout_limit`` consecutive timeouts: the peer went away;
* at most ``max_findnode`` requests.

Counters match the discv4 driver's: ``filtered`` (reason -> distinct nodes not contacted, decided by
``monitor.p2p.netpolicy.admissible`` before any node is queued) and ``errors`` (failure kind -> visits).
Results are protocol types (:class:`Visit`); the crawl layer maps them to snapshot records.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from monitor.crawl.driverbase import DriverBase, Miss, TimeoutRun, VisitBase
from monitor.discovery.enr import ENR
from monitor.discovery.v5.service import BUCKET_SIZE, Discv5Service, FindNodeResult, Peer
from monitor.errors import DecodeError, MonitorError, RequestTimeout
from monitor.p2p.keys import NodeID, PublicKey, log_distance

__all__ = ["WalkConfig", "Visit", "Discv5Driver"]


@dataclass(frozen=True)
class WalkConfig:
    # One distance a request: peers cap an answer at 16 records over all the distances asked, so asking for two
    # full buckets at once returns one of them. More per request saves round trips where buckets are sparse.
    distances_per_request: int = 1
    empty_limit: int = 2
    stale_limit: int = 2
    timeout_limit: int = 2
    max_findnode: int = 24  # buckets down to 233: a network of ~2^23 nodes
    fetch_enr: bool = True


@dataclass
class Visit(VisitBase[Peer]):
    """What one visit of a node produced."""

    enr_fetched: bool = False  # ``enr`` came from the node itself (FINDNODE distance 0) during this visit
    deepest_distance: int | None = None  # the smallest log distance asked

    @property
    def node_id(self) -> NodeID:
        return self.peer.id

    @property
    def pubkey(self) -> PublicKey:
        return self.peer.pubkey

    @property
    def ip(self) -> str:
        return self.peer.ip

    @property
    def udp(self) -> int:
        return self.peer.udp

    @property
    def enr_seq(self) -> int | None:
        return self.enr.seq if self.enr is not None else self.pong_enr_seq


class Discv5Driver(DriverBase[Discv5Service, Peer, Visit, WalkConfig]):
    """Implements the engine's Driver protocol for discv5."""

    def default_walk(self) -> WalkConfig:
        return WalkConfig()

    # Driver protocol -----------------------------------------------------------------------------------------

    def result_version(self, result: Visit) -> int:
        return result.enr_seq or 0

    def pinged(self, peer: Peer) -> Peer | None:
        """A node pinged us: a task if admissible and announcing a seq newer than any we know (engine revisits)."""
        return self.ping_task(peer, self.known_seq.get(peer.id, -1), self.service.own_id)

    async def visit(self, task: Peer) -> Visit:
        visit = Visit(peer=task, started=self.clock(), enr=task.enr)
        try:
            await self._visit(visit)
        finally:
            visit.ended = self.clock()
            visit.settle()
        return visit

    # The walk --------------------------------------------------------------------------------------------------

    def admit(self, record: ENR, node: NodeID | None = None, referrer: bytes = b"") -> Peer | None:
        """Turn a listed record into a task, or count why not (each node once). One Peer object per node."""
        node = record.node_id if node is None else node
        known = self._peers.get(node)
        if known is not None and (known.enr_seq or 0) >= record.seq:
            return known
        if node == self.service.own_id:
            return None
        peer = self._endpoint(record)
        ip = ipaddress.ip_address(peer.ip) if peer.ip else None
        reason = self.refusal(ip, peer.udp)
        if reason is not None:
            self.refuse(node, reason)
            return None
        if known is None and not self.vouching.admit(node, peer.ip, referrer):
            return None  # held until a second peer lists it
        self._peers[node] = peer
        return peer

    def _endpoint(self, record: ENR) -> Peer:
        """The record's IPv4 endpoint when we speak IPv4 and it has one, else its IPv6 one if any."""
        if record.ip6 is not None and (record.ip is None or 4 not in self.ip_versions):
            return Peer.from_enr(record, ipv6=True)
        return Peer.from_enr(record)

    async def _visit(self, visit: Visit) -> None:
        peer = visit.peer
        seq = await self.contact(visit, peer, self.service.ping(peer))
        if seq is None:
            return
        visit.pong_enr_seq = seq
        self._learn_seq(peer.id, seq)
        if self.walk.fetch_enr and (visit.enr is None or seq > visit.enr.seq):
            await self._fetch_enr(visit)
        await self._walk_table(visit)

    def _learn_seq(self, node: NodeID, seq: int | None) -> None:
        if seq is not None and seq > self.known_seq.get(node, -1):
            self.known_seq[node] = seq

    async def _fetch_enr(self, visit: Visit) -> None:
        try:
            record = await self.service.request_enr(visit.peer)
        except RequestTimeout:
            visit.enr_error = "timeout"
        except DecodeError as err:
            visit.enr_error = f"invalid: {err}"
        except MonitorError as err:
            visit.enr_error = type(err).__name__
        else:
            visit.enr, visit.enr_fetched = record, True
            self._learn_seq(visit.peer.id, record.seq)
            return
        self.errors[f"enr_{visit.enr_error.split(':')[0]}"] += 1

    async def _walk_table(self, visit: Visit) -> None:
        empty = stale = 0
        timeouts = TimeoutRun(self.walk.timeout_limit)
        distance = 256
        for _ in range(self.walk.max_findnode):
            if distance < 1:
                return
            batch = list(range(distance, max(distance - self.walk.distances_per_request, 0), -1))
            distance -= len(batch)
            visit.findnode_sent += 1
            visit.deepest_distance = batch[-1]
            reply = await self.ask(self.service.findnode(visit.peer, batch), timeouts)
            if reply is Miss.STOP:
                return
            if reply is Miss.TIMEOUT:
                continue
            visit.findnode_answered += 1
            new = self._take(visit, reply)
            present = {log_distance(node, visit.peer.id) for node in reply.records}
            if len(reply.records) >= BUCKET_SIZE and len(batch) > 1:
                # The 16-record cap spans the whole request: distances below the deepest one returned may have
                # been cut. Resume there (re-asking it, unless it was the first) and judge no distance empty.
                deepest = min(present)
                distance = deepest if deepest < batch[0] else deepest - 1
            elif reply.complete:
                for d in batch:
                    empty = 0 if d in present else empty + 1
            stale = stale + 1 if new == 0 else 0
            if empty >= self.walk.empty_limit or stale >= self.walk.stale_limit:
                return

    def _take(self, visit: Visit, reply: FindNodeResult) -> int:
        new = 0
        for node, record in reply.records.items():
            if node in visit.seen:
                continue
            visit.seen.add(node)
            new += 1
            peer = self.admit(record, node, visit.peer.id)
            if peer is not None:
                visit.neighbors[peer.id] = peer
        return new
