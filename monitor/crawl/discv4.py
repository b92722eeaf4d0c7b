"""The discv4 crawler: bond with each node, fetch its ENR, and walk its routing table bucket by bucket.

Per node: PING (with retries) -> ENRREQUEST alongside FINDNODEs at log-distances 256, 255, ... 239 (geth's 17
buckets), the first ones sent right after the PONG. Nothing waits for the peer's own PING: a peer that demands a bond
(geth serves FINDNODE and ENRREQUEST only to peers that answered its PING) drops those first requests and PINGs us,
and the service sends them again right after its PONG; a peer that does not demand one has answered them already.
If the bond failed (that PING or our PONG lost), the first FINDNODE times out: one more PING makes the peer ask
again. Request timeouts follow each peer's measured round trip (monitor/p2p/rtt.py). The ENR is asked once
more after the walk only if the peer announced a record (an ENR seq in its PONG) and the first request went
unanswered: then loss is plausible; a peer without a seq gets one request without retry, in parallel with the walk,
so it costs nothing on the critical path.

The walk stops early when the table is exhausted: an answer with fewer than k=16 nodes means the peer's whole table
has been returned; ``stale_limit`` consecutive answers that add no node new to the whole crawl mean the rest of
the table is most likely known already (every node sits in the tables of its ~16 closest peers per bucket depth, so
late in a crawl reading each table to the end mostly re-reads known nodes: 20,000 simulated nodes, 14.5 FINDNODEs
a node with novelty counted per visit); ``timeout_limit`` consecutive timeouts mean the peer went away.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from monitor.crawl.driverbase import DriverBase, Miss, TimeoutRun, VisitBase
from monitor.crawl.targets import target_for
from monitor.discovery.v4.protocol import BUCKET_SIZE
from monitor.discovery.v4.service import Discv4Service, FindNodeResult, Peer
from monitor.discovery.v4.wire import NodeEntry
from monitor.errors import DecodeError, MonitorError, RequestTimeout
from monitor.p2p.keys import NodeID

__all__ = ["WalkConfig", "Visit", "Discv4Driver"]

# geth keeps 17 buckets (256 .. 240, and 239 for everything closer). With 16-bit target preimages, the targets
# for 240 and 239 are one and the same (see monitor/crawl/targets.py), and its answer covers both buckets.
DISTANCES = tuple(range(256, 239, -1))


@dataclass(frozen=True)
class WalkConfig:
    stale_limit: int = 2
    timeout_limit: int = 2
    max_findnode: int = len(DISTANCES)
    fetch_enr: bool = True


@dataclass
class Visit(VisitBase[Peer]):
    """What one visit of a node produced."""

    pinged_us: bool = False
    silent_after_pong: bool = False  # answered PING, then no FINDNODE or ENR answer: left mid-crawl (or serves none)


class Discv4Driver(DriverBase[Discv4Service, Peer, Visit, WalkConfig]):
    """Implements the engine's Driver protocol for discv4."""

    def default_walk(self) -> WalkConfig:
        return WalkConfig()

    # Driver protocol -----------------------------------------------------------------------------------------

    def result_version(self, result: Visit) -> int:
        if result.enr is not None:
            return result.enr.seq
        return result.pong_enr_seq or 0

    def pinged(self, peer: Peer) -> Peer | None:
        """A node pinged us: a task if it announces an ENR seq newer than we know (not the usual ping-back
        during our own visit)."""
        known = max(self.known_seq.get(peer.id, -1), self.service.pong_seq.get(peer.id, -1))
        return self.ping_task(peer, known, self.service.own_id)

    async def visit(self, task: Peer) -> Visit:
        visit = Visit(peer=task, started=self.clock())
        try:
            await self._visit(visit)
        finally:
            visit.ended = self.clock()
            visit.settle()
        return visit

    # The walk --------------------------------------------------------------------------------------------------

    def admit(self, entry: NodeEntry, referrer: bytes = b"") -> Peer | None:
        """Turn a NEIGHBORS entry into a task, or count why not (each node once).

        Every visit lists nodes that others listed too; the same endpoint maps to one shared Peer object, so a
        crawl holds one per distinct node, not one per mention (2,000 nodes: ~250k mentions).
        """
        known = self._peers.get(entry.pubkey)
        if known is not None and known.ip == (str(entry.ip) if entry.ip else "") and known.udp == entry.udp:
            return known
        peer = Peer.from_entry(entry)
        if peer.id == self.service.own_id:
            return None  # peers list the crawler itself once it pinged them: never a node of the network
        reason = self.refusal(entry.ip, entry.udp)
        if reason is not None:
            self.refuse(peer.id, reason)
            return None
        if known is None and not self.vouching.admit(entry.pubkey, peer.ip, referrer):
            return None  # held until a second peer lists it
        self._peers[entry.pubkey] = peer
        return peer

    async def _visit(self, visit: Visit) -> None:
        peer = visit.peer
        pong = await self.contact(visit, peer, self.service.bond(peer))
        if pong is None:
            return
        visit.pong_enr_seq = pong.enr_seq
        self._learn_seq(peer.id, pong.enr_seq)
        visit.pinged_us = self.service.bonds.pinged_us(peer.id)
        retries = 0 if pong.enr_seq is None else None  # no seq announced: likely no record to serve
        enr_task = asyncio.create_task(self._fetch_enr(visit, retries)) if self.walk.fetch_enr else None
        await self._walk_table(visit)
        visit.pinged_us = self.service.bonds.pinged_us(peer.id)  # a bonding peer's PING comes during the walk
        if enr_task is not None:
            await enr_task
            if visit.enr_error == "timeout" and pong.enr_seq is not None:
                await self._fetch_enr(visit)  # loss is plausible: a second chance once the walk's burst is over
        visit.silent_after_pong = visit.findnode_answered == 0 and visit.enr is None

    def _learn_seq(self, node: NodeID, seq: int | None) -> None:
        if seq is not None and seq > self.known_seq.get(node, -1):
            self.known_seq[node] = seq

    async def _fetch_enr(self, visit: Visit, retries: int | None = None) -> None:
        visit.enr_error = None
        try:
            visit.enr = await self.service.request_enr(visit.peer, retries, resend_on_ping=True)
            self._learn_seq(visit.peer.id, visit.enr.seq)
        except RequestTimeout:
            visit.enr_error = "timeout"
        except DecodeError as err:
            visit.enr_error = f"invalid: {err}"
        except MonitorError as err:
            visit.enr_error = type(err).__name__
        if visit.enr_error is not None:
            self.errors[f"enr_{visit.enr_error.split(':')[0]}"] += 1

    async def _findnode(self, visit: Visit, target: bytes, first: bool) -> FindNodeResult:
        """The first FINDNODE is sent again after the peer's PING. If it still goes unanswered, the bond may have
        failed either way (the peer's PING or our PONG to it was lost): one more PING of ours makes a bond-demanding
        peer PING again (geth pings back every unbonded peer that pings it), and the FINDNODE is retried once."""
        peer = visit.peer
        try:
            return await self.service.findnode(peer, target, resend_on_ping=first)
        except RequestTimeout:
            if not first:
                raise
        self.errors["findnode_rebond"] += 1
        await self.service.ping(peer)
        visit.pinged_us = self.service.bonds.pinged_us(peer.id)
        return await self.service.findnode(peer, target, resend_on_ping=True)

    async def _walk_table(self, visit: Visit) -> None:
        stale = short = 0
        timeouts = TimeoutRun(self.walk.timeout_limit)
        longest = 0  # most nodes any one answer carried: a table never shrinks during our walk
        for distance in DISTANCES[: self.walk.max_findnode]:
            visit.findnode_sent += 1
            first = visit.findnode_sent == 1
            reply = await self.ask(self._findnode(visit, target_for(visit.peer.id, distance), first), timeouts)
            if reply is Miss.STOP:
                return
            if reply is Miss.TIMEOUT:
                continue
            visit.findnode_answered += 1
            new = 0
            for entry in reply.nodes:
                if entry.pubkey in visit.seen:
                    continue
                known = entry.pubkey in self._peers  # listed before, by this peer or any other
                peer = self.admit(entry, visit.peer.id)
                visit.seen.add(peer.pubkey if peer is not None else entry.pubkey)  # the shared bytes: less memory
                if peer is not None:
                    visit.neighbors[peer.id] = peer
                    new += not known
            if reply.complete and len(reply.nodes) < BUCKET_SIZE and longest < BUCKET_SIZE:
                # A short answer means the whole table was returned, unless packet loss made it short: the first
                # NEIGHBORS packet of two may be lost. One confirming short answer settles it.
                short += 1
                if short >= 2:
                    return
            longest = max(longest, len(reply.nodes))
            stale = stale + 1 if new == 0 else 0
            if stale >= self.walk.stale_limit:
                return
