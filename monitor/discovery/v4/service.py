"""A discv4 endpoint: answers peers and offers async requests (ping, bond, findnode, request_enr).

Both the crawler and the devnet's nodes are instances of this class; they differ only in whether they have a
routing table to serve (``neighbors_of``) and an ENR to hand out. The socket is injected (a ``Sender``), the
clock too, so the whole thing runs over an in-memory pipe in tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field

from monitor.discovery.enr import ENR
from monitor.discovery.v4.peer import FindNodeResult, Peer, ServiceConfig
from monitor.discovery.v4.protocol import (
    BondState,
    ENRMatcher,
    Matcher,
    NeighborsMatcher,
    PendingReplies,
    PongMatcher,
    expiration_from,
    split_neighbors,
)
from monitor.discovery.v4.wire import (
    PACKET_TYPES,
    Decoded,
    Endpoint,
    ENRRequest,
    ENRResponse,
    FindNode,
    Neighbors,
    NodeEntry,
    Packet,
    Ping,
    Pong,
    check_expiration,
    decode,
    encode,
)
from monitor.errors import DecodeError, ExpiredError, MonitorError, NetworkError, RequestTimeout, SignatureError
from monitor.p2p.keys import NodeID, PrivateKey, keccak256, node_id
from monitor.p2p.pacing import Pacer
from monitor.p2p.ratelimit import SourceLimiter
from monitor.p2p.rtt import RttTable
from monitor.p2p.udp import Address, Sender

log = logging.getLogger(__name__)

__all__ = ["Peer", "ServiceConfig", "FindNodeResult", "Discv4Service"]


@dataclass
class _Waiting:
    future: asyncio.Future[bool]  # True: answered (maybe partly); False: timed out
    timer: asyncio.TimerHandle | None = None  # the NEIGHBORS follow-up window
    deadline: asyncio.TimerHandle | None = None


def _expire(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)


@dataclass
class Discv4Service:
    key: PrivateKey
    tcp_port: int = 0
    config: ServiceConfig = field(default_factory=ServiceConfig)
    now: Callable[[], float] = time.time
    enr: ENR | None = None
    neighbors_of: Callable[[bytes], Sequence[NodeEntry]] | None = None  # target node id -> closest known nodes
    stats: Counter[str] = field(default_factory=Counter)
    sender: Sender | None = None
    # Told of every signed PING (the crawler learns of fresh ENRs). The source address is not proven yet: see
    # verify_then(), which a caller uses before it trusts the address (a PING's source can be spoofed, issue 16).
    on_ping: Callable[[Peer], None] | None = None
    local_address: Address = ("127.0.0.1", 0)  # what we put in PING's "from"; set by attach()
    pacer: Pacer | None = None  # global send-rate limit on requests (replies are never held back)

    def attach(self, sender: Sender, local_address: Address) -> None:
        self.sender = sender
        self.local_address = local_address

    def update_enr(self, record: ENR) -> None:
        """Serve ``record`` from now on; its seq goes into our PINGs and PONGs, so peers learn to fetch it again."""
        if record.node_id != self.key.node_id:
            raise ValueError("the record belongs to another node")
        self.enr = record
        self._enr_rlp = record.to_rlp()

    def __post_init__(self) -> None:
        self._pending = PendingReplies()
        self._waiting: dict[Matcher, _Waiting] = {}
        self._pinged_by: dict[NodeID, asyncio.Event] = {}
        self.bonds = BondState(self.now)
        self._enr_rlp = self.enr.to_rlp() if self.enr is not None else b""
        self._tasks: set[asyncio.Future[object]] = set()
        self.own_id = self.key.node_id
        self.pong_seq: dict[NodeID, int] = {}  # ENR seq each peer announced in its latest PONG to us
        self._limiter = SourceLimiter(self.config.rate_limit, self.now)
        self._verifying: set[NodeID] = set()
        self._verified: dict[NodeID, Address] = {}  # node -> the address its PING was proven from
        floor = self.config.min_timeout
        self.rtt = RttTable(min(floor, self.config.timeout), self.config.timeout) if floor is not None else None
        # Requests sent before the peer pinged us, to send again right after our PONG to its PING: a peer that
        # demands a bond (geth) dropped them, one that does not has answered them and costs nothing more.
        self._resend: dict[NodeID, list[tuple[bytes, Address, _Waiting, str]]] = {}

    # -- sending ------------------------------------------------------------------------------------------------

    def _send(self, packet: Packet, addr: Address) -> bytes:
        if self.sender is None:
            raise NetworkError("service has no transport attached")
        data, digest = encode(packet, self.key)
        self.sender.send(data, addr)  # may raise NetrestrictError: counted by the transport
        self.stats[f"sent:{PACKET_TYPES[packet.TYPE]}"] += 1
        return digest

    def _reply(self, packet: Packet, addr: Address) -> None:
        try:
            self._send(packet, addr)
        except MonitorError:
            self.stats["err:reply"] += 1

    # -- receiving ----------------------------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: Address) -> None:
        try:
            decoded = decode(data)
        except SignatureError:
            self.stats["err:signature"] += 1
            return
        except DecodeError:
            self.stats["err:decode"] += 1
            return
        packet = decoded.packet
        self.stats[f"recv:{PACKET_TYPES[packet.TYPE]}"] += 1
        try:
            check_expiration(packet, self.now())
        except ExpiredError:
            self.stats["err:expired"] += 1
            return
        peer = node_id(decoded.pubkey)
        if isinstance(packet, Ping | FindNode | ENRRequest) and not self._limiter.allow(addr[0], addr[1]):
            self.stats["drop:ratelimited"] += 1
            return
        if isinstance(packet, Ping):
            self._on_ping(decoded, packet, peer, addr)
        elif isinstance(packet, FindNode):
            self._on_findnode(packet, peer, addr)
        elif isinstance(packet, ENRRequest):
            self._on_enrrequest(decoded, peer, addr)
        else:
            self._on_reply(decoded, packet, peer)

    def _on_ping(self, decoded: Decoded, ping: Ping, peer: NodeID, addr: Address) -> None:
        recipient = Endpoint(ipaddress.ip_address(addr[0]), addr[1], ping.sender.tcp)
        enr_seq = self.enr.seq if self.enr is not None else None
        self._reply(Pong(recipient, decoded.hash, expiration_from(self.now()), enr_seq), addr)
        self.bonds.ping_received(peer)
        if self.on_ping is not None:
            self.on_ping(Peer(decoded.pubkey, addr[0], addr[1], ping.sender.tcp, ping.enr_seq))
        event = self._pinged_by.get(peer)
        if event is not None:
            event.set()
        for data, to, waiting, kind in self._resend.pop(peer, ()):
            if not waiting.future.done() and self.sender is not None:
                self.sender.send(data, to)
                self.stats[f"resent_after_ping:{kind}"] += 1
        if self.config.ping_back and not self.bonds.is_bonded(peer):
            remote = Peer(decoded.pubkey, addr[0], addr[1], ping.sender.tcp)
            self._spawn(self.ping(remote))

    def _on_findnode(self, packet: FindNode, peer: NodeID, addr: Address) -> None:
        if self.neighbors_of is None:
            self.stats["drop:findnode_unserved"] += 1
            return
        if self.config.require_bond and not self.bonds.is_bonded(peer):
            self.stats["drop:findnode_unbonded"] += 1
            return
        nodes = self.neighbors_of(keccak256(packet.target))
        for reply in split_neighbors(nodes, expiration_from(self.now())):
            self._reply(reply, addr)

    def _on_enrrequest(self, decoded: Decoded, peer: NodeID, addr: Address) -> None:
        if self.enr is None:
            self.stats["drop:enrrequest_no_enr"] += 1
            return
        if self.config.require_bond and not self.bonds.is_bonded(peer):
            self.stats["drop:enrrequest_unbonded"] += 1
            return
        self._reply(ENRResponse(decoded.hash, self._enr_rlp), addr)

    def _on_reply(self, decoded: Decoded, packet: Packet, peer: NodeID) -> None:
        expected, done = self._pending.dispatch(peer, packet, decoded.hash)
        if not expected:
            self.stats["err:unsolicited"] += 1
            if self.pacer is not None:
                self.pacer.note_late()  # mostly answers to requests that timed out: a congestion signal
            return
        if isinstance(packet, Pong):
            self.bonds.pong_received(peer)
            if packet.enr_seq is not None:
                self.pong_seq[peer] = packet.enr_seq
        for matcher in done:
            self._finish(matcher)
        if not done and isinstance(packet, Neighbors):
            self._arm_followup(peer)

    def _finish(self, matcher: Matcher) -> None:
        waiting = self._waiting.get(matcher)
        if waiting is not None and not waiting.future.done():
            waiting.future.set_result(True)

    def _arm_followup(self, peer: NodeID) -> None:
        """A full NEIGHBORS packet arrived: give the rest a short window, not the whole timeout."""
        loop = asyncio.get_running_loop()
        for matcher in self._pending.of_peer(peer):  # this peer's requests only, not every one in flight
            waiting = self._waiting.get(matcher)
            if waiting is not None and isinstance(matcher, NeighborsMatcher) and matcher.packets:
                if waiting.timer is not None:
                    waiting.timer.cancel()
                wait = self.config.followup_wait
                if self.rtt is not None:
                    wait = min(wait, self.rtt.timeout(peer))
                waiting.timer = loop.call_later(wait, self._finish, matcher)

    # -- requests -----------------------------------------------------------------------------------------------

    async def _request(
        self,
        peer: Peer,
        build: Callable[[], Packet],
        make: Callable[[bytes], Matcher],
        retries: int | None = None,
        resend_on_ping: bool = False,
    ) -> Matcher:
        """Send, wait, retry. A plain timer resolves the wait (no wait_for/shield task per request: a hot path)."""
        loop = asyncio.get_running_loop()
        kind = ""
        attempts = 1 + (self.config.retries if retries is None else retries)
        earlier: tuple[bytes, ...] = ()  # hashes of timed-out attempts: their late answer is still an answer
        sent_at: dict[bytes, float] = {}  # attempt hash -> when it left: a late answer is still a round trip
        for attempt in range(attempts):
            if self.pacer is not None:
                await self.pacer.acquire()
            packet = build()
            kind = PACKET_TYPES[packet.TYPE]
            data, digest = encode(packet, self.key)
            matcher = make(digest)
            if isinstance(matcher, PongMatcher | ENRMatcher):
                matcher.earlier, earlier = earlier, (*earlier, digest)
            waiting = _Waiting(loop.create_future())
            self._waiting[matcher] = waiting
            self._pending.add(matcher)
            resend = (data, peer.addr, waiting, kind) if resend_on_ping and not self.bonds.pinged_us(peer.id) else None
            try:
                if self.sender is None:
                    raise NetworkError("service has no transport attached")
                self.sender.send(data, peer.addr)
                self.stats[f"sent:{kind}"] += 1
                if resend is not None:
                    self._resend.setdefault(peer.id, []).append(resend)
                sent_at.setdefault(digest, loop.time())  # a same-second retry repeats the hash: keep the first
                timeout = self.rtt.timeout(peer.id, attempt) if self.rtt is not None else self.config.timeout
                waiting.deadline = loop.call_later(timeout, _expire, waiting.future)
                if await waiting.future:
                    self._sample(peer, matcher, sent_at, loop.time())
                    return matcher
                if isinstance(matcher, NeighborsMatcher) and matcher.packets:
                    return matcher  # a partial answer is still an answer
                self.stats[f"timeout:{kind}"] += 1
            finally:
                for timer in (waiting.timer, waiting.deadline):
                    if timer is not None:
                        timer.cancel()
                self._pending.remove(matcher)
                del self._waiting[matcher]
                if resend is not None:
                    self._drop_resend(peer.id, resend)
        raise RequestTimeout(f"{kind} to {peer.ip}:{peer.udp} unanswered after {attempts} attempts")

    def _sample(self, peer: Peer, matcher: Matcher, sent_at: dict[bytes, float], now: float) -> None:
        """A round-trip sample from a PONG or ENRRESPONSE. The answer names the request's hash, so an answer to an
        earlier, timed-out attempt is timed from that attempt (Karn's ambiguity does not arise): the slow answers a
        timeout cut off are exactly the samples the network-wide estimate must not lose. NEIGHBORS name no request."""
        reply = matcher.reply if isinstance(matcher, PongMatcher | ENRMatcher) else None
        if self.rtt is None or reply is None:
            return
        # Two attempts in the same second share a hash; the first send time is kept, which can only overestimate.
        started = sent_at.get(reply.ping_hash if isinstance(reply, Pong) else reply.request_hash)
        if started is not None:
            self.rtt.observe(peer.id, now - started)

    def _drop_resend(self, peer: NodeID, entry: tuple[bytes, Address, _Waiting, str]) -> None:
        queued = self._resend.get(peer)
        if queued is not None and entry in queued:
            queued.remove(entry)
            if not queued:
                del self._resend[peer]

    def _endpoint(self) -> Endpoint:
        # Our real address goes in "from": @ethereumjs/devp2p pings back to it rather than to the UDP source.
        ip, port = self.local_address
        return Endpoint(ipaddress.ip_address(ip), port, self.tcp_port)

    async def ping(self, peer: Peer) -> Pong:
        def build() -> Packet:
            to = Endpoint(ipaddress.ip_address(peer.ip), peer.udp, peer.tcp)
            seq = self.enr.seq if self.enr is not None else None
            return Ping(4, self._endpoint(), to, expiration_from(self.now()), seq)

        matcher = await self._request(peer, build, lambda h: PongMatcher(peer.id, "pong", ping_hash=h))
        assert isinstance(matcher, PongMatcher) and matcher.reply is not None
        return matcher.reply

    async def bond(self, peer: Peer) -> Pong:
        """PING, then (with ``bond_wait``) give the peer a moment to PING us back: geth only serves FINDNODE after
        that round trip. The crawler does not wait: its first requests are sent again when the PING comes."""
        event = self._pinged_by.setdefault(peer.id, asyncio.Event())
        try:
            pong = await self.ping(peer)
            if not self.bonds.pinged_us(peer.id) and self.config.bond_wait > 0:
                try:
                    async with asyncio.timeout(self.config.bond_wait):
                        await event.wait()
                except TimeoutError:
                    self.stats["bond:no_ping_back"] += 1
            return pong
        finally:
            self._pinged_by.pop(peer.id, None)

    async def findnode(self, peer: Peer, target: bytes, resend_on_ping: bool = False) -> FindNodeResult:
        def build() -> Packet:
            return FindNode(target, expiration_from(self.now()))

        make = lambda _h: NeighborsMatcher(peer.id, "neighbors")  # noqa: E731
        matcher = await self._request(peer, build, make, resend_on_ping=resend_on_ping)
        assert isinstance(matcher, NeighborsMatcher)
        return FindNodeResult(matcher.nodes, matcher.complete, matcher.packets)

    async def request_enr(self, peer: Peer, retries: int | None = None, resend_on_ping: bool = False) -> ENR:
        def build() -> Packet:
            return ENRRequest(expiration_from(self.now()))

        make = lambda h: ENRMatcher(peer.id, "enr", request_hash=h)  # noqa: E731
        matcher = await self._request(peer, build, make, retries, resend_on_ping)
        assert isinstance(matcher, ENRMatcher) and matcher.reply is not None
        record = ENR.from_rlp(matcher.reply.record)
        if record.node_id != peer.id:
            raise DecodeError("ENR response signed by a different node")
        return record

    def verify_then(self, peer: Peer, then: Callable[[], None]) -> None:
        """PING ``peer`` at its address and call ``then`` once it answers: proof that the node is there.

        Only the node at that address sees our PING's hash, which its PONG must echo; a spoofed PING never gets
        that far. Counted as ``ping:verified`` / ``ping:unverified``; one check at a time per node, and none again
        for a node already verified at that address (``then`` at once, counted as ``ping:known``): it PINGs us
        again when it bonds with us, or to announce a newer record.
        """
        if self._verified.get(peer.id) == peer.addr:
            self.stats["ping:known"] += 1
            then()
            return
        if peer.id in self._verifying:
            return
        self._verifying.add(peer.id)

        async def check() -> None:
            try:
                await self.ping(peer)
            except MonitorError:
                self.stats["ping:unverified"] += 1
                return
            finally:
                self._verifying.discard(peer.id)
            self.stats["ping:verified"] += 1
            self._verified[peer.id] = peer.addr
            then()

        self._spawn(check())

    # -- housekeeping -------------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[object, None, object]) -> None:
        """Fire and forget (PING-back): the task is kept referenced and its failure is expected, not reported."""
        task = asyncio.ensure_future(coro)  # the coroutine itself, so cancelling before it starts still closes it
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Future[object]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, MonitorError):
            self.stats["err:ping_back"] += 1  # the peer did not answer our PING-back: expected, counted
        elif exc is not None:
            log.error("background task failed", exc_info=exc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
