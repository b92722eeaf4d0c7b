"""A discv5 endpoint: answers peers and offers async requests (ping, request_enr, findnode, talkreq).

Like the discv4 service, both the crawler and the devnet's nodes are instances of this class: they differ only in
whether they serve a table (``nodes_at``). The socket is injected (a ``Sender``), so is the clock, so the whole
thing runs over an in-memory pipe in tests. Replies are matched by (node id, request id): the node id is
authenticated by the session, and request ids are 8 random bytes. NODES answers are collected until ``total``
messages arrived; when the timeout strikes first, what did arrive is returned with ``complete=False``.

Load: a request's attempts share one call, so an answer to a timed-out attempt (the session layer keeps the
handshake for it) still completes the retry. Timeouts follow each peer's measured round trips (``RttTable``; the
first request's sample includes the handshake, as every first contact does) and requests pass the global ``Pacer``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from monitor.discovery.enr import ENR
from monitor.discovery.v5.messages import (
    MESSAGE_NAMES,
    FindNode,
    Message,
    Nodes,
    Ping,
    Pong,
    TalkReq,
    TalkResp,
    encode_message,
)
from monitor.discovery.v5.session import Contact, Datagram, SessionConfig, SessionLayer
from monitor.discovery.v5.wire import MAX_PACKET_SIZE
from monitor.errors import DecodeError, MonitorError, NetworkError, RequestTimeout
from monitor.p2p.keys import NodeID, PrivateKey, PublicKey, log_distance, node_id
from monitor.p2p.pacing import Pacer
from monitor.p2p.ratelimit import RateLimit, SourceLimiter
from monitor.p2p.rtt import RttTable
from monitor.p2p.udp import Address, Sender

__all__ = ["Peer", "ServiceConfig", "FindNodeResult", "Discv5Service", "BUCKET_SIZE"]

BUCKET_SIZE = 16  # the spec's recommended FINDNODE result limit
# An ordinary packet around a NODES message: masking-iv 16 + static header 23 + src-id 32 + GCM tag 16.
_PACKET_OVERHEAD = 16 + 23 + 32 + 16


@dataclass(frozen=True, slots=True)
class Peer:
    """A node to talk to. Slotted and with its id computed once: a crawl holds one per distinct node."""

    pubkey: PublicKey
    ip: str
    udp: int
    enr: ENR | None = field(default=None, compare=False, repr=False)  # the record we learned the node from
    enr_seq: int | None = field(default=None, compare=False)  # newest seq known: the record's, or one announced
    id: NodeID = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", node_id(self.pubkey))
        if self.enr_seq is None and self.enr is not None:
            object.__setattr__(self, "enr_seq", self.enr.seq)

    @property
    def addr(self) -> Address:
        return (self.ip, self.udp)

    @property
    def contact(self) -> Contact:
        return Contact(self.id, self.pubkey, self.addr)

    @classmethod
    def from_enr(cls, record: ENR, ipv6: bool = False) -> Peer:
        """The record's IPv4 endpoint (or IPv6 with ``ipv6``); empty ip / port 0 when the record has none."""
        ip, udp = (record.ip6, record.udp6) if ipv6 else (record.ip, record.udp)
        return cls(record.pubkey, str(ip) if ip is not None else "", udp or 0, record)


@dataclass(frozen=True)
class FindNodeResult:
    records: dict[NodeID, ENR]  # verified, deduplicated, and at one of the requested distances
    complete: bool  # all ``total`` NODES messages arrived
    packets: int
    invalid: int = 0  # records that failed to verify or sat at a distance we did not ask for


@dataclass(frozen=True)
class ServiceConfig:
    timeout: float = 1.0  # per request attempt, handshake included (the spec suggests 0.5 s + 1 s for it)
    min_timeout: float | None = None  # adaptive timeouts between this and ``timeout`` (None: fixed)
    retries: int = 1  # extra attempts after a timeout
    max_total: int = 16  # NODES messages we wait for per request; the spec lets us cap `total`
    max_nodes: int = BUCKET_SIZE  # records we serve per FINDNODE
    record_cache: int = 32768  # verified records kept by their bytes: a crawl sees each one listed by many peers
    rate_limit: RateLimit = field(default_factory=RateLimit)  # on PING / FINDNODE / TALKREQ, per source


@dataclass(eq=False)
class _Call:
    peer: Peer
    kind: str
    future: asyncio.Future[None]
    reply: Message | None = None
    total: int = 0
    packets: int = 0
    raw: list[bytes] = field(default_factory=list)
    answered_by: bytes | None = None  # the request id of the attempt whose answer came first

    def feed(self, message: Message, max_total: int) -> bool:
        """Take a reply; True once the call is complete."""
        if self.answered_by is None:
            self.answered_by = message.request_id
        if isinstance(message, Nodes):
            if message.request_id != self.answered_by:
                return False  # another attempt's answer: its packets would not add up to one ``total``
            self.total = max(1, min(message.total, max_total))
            self.packets += 1
            self.raw.extend(message.records)
            return self.packets >= self.total
        self.reply = message
        return True


@dataclass
class Discv5Service:
    key: PrivateKey
    enr: ENR | None = None  # our record; None: a record without endpoint (what a crawler should announce)
    config: ServiceConfig = field(default_factory=ServiceConfig)
    session_config: SessionConfig = field(default_factory=SessionConfig)
    now: Callable[[], float] = time.time
    nodes_at: Callable[[Sequence[int]], Sequence[ENR]] | None = None  # log distances -> records we serve
    known_record: Callable[[NodeID], ENR | None] | None = None  # records we hold (to skip them in handshakes)
    stats: Counter[str] = field(default_factory=Counter)
    rng: Callable[[int], bytes] = secrets.token_bytes
    sender: Sender | None = None
    on_ping: Callable[[Peer], None] | None = None  # a PING from a node whose key we know; enr_seq as announced
    local_address: Address = ("127.0.0.1", 0)
    pacer: Pacer | None = None  # global send-rate limit on requests (replies are never held back)

    def __post_init__(self) -> None:
        if self.enr is None:
            self.enr = ENR.create(self.key, 1)
        known = self.known_record or (lambda _id: None)
        self.sessions = SessionLayer(
            self.key, self.enr, self.session_config, rng=self.rng, known_record=known, stats=self.stats
        )
        self.own_id = self.key.node_id
        self._calls: dict[tuple[NodeID, bytes], _Call] = {}
        self._verified: OrderedDict[bytes, tuple[NodeID, ENR]] = OrderedDict()
        self._encoded: OrderedDict[ENR, bytes] = OrderedDict()
        self._limiter = SourceLimiter(self.config.rate_limit, self.now)
        floor, ceiling = self.config.min_timeout, self.config.timeout
        self.rtt = RttTable(min(floor, ceiling), ceiling) if floor is not None else None

    def attach(self, sender: Sender, local_address: Address) -> None:
        self.sender = sender
        self.local_address = local_address

    # -- I/O ----------------------------------------------------------------------------------------------------

    def _send_all(self, datagrams: list[Datagram]) -> None:
        if self.sender is None:
            raise NetworkError("service has no transport attached")
        for data, addr in datagrams:
            self.sender.send(data, addr)  # may raise NetrestrictError: counted by the transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        out = self.sessions.receive(data, addr, self.now())  # never raises: malformed input is counted there
        try:
            self._send_all(out.datagrams)
        except MonitorError:
            self.stats["err:send"] += 1
        if out.message is None or out.node_id is None:
            return
        message, node = out.message, out.node_id
        self.stats[f"recv:{MESSAGE_NAMES[message.TYPE]}"] += 1
        # A PING here came inside a session, whose handshake proved the address (the challenge went there), so it
        # needs no PING of our own to verify it; requests are rate-limited per source like discv4's.
        if isinstance(message, Ping | FindNode | TalkReq) and not self._limiter.allow(addr[0], addr[1]):
            self.stats["drop:ratelimited"] += 1
            return
        if isinstance(message, Ping):
            self._reply(node, addr, Pong(message.request_id, self._seq, ipaddress.ip_address(addr[0]), addr[1]))
            self._tell_ping(node, addr, message.enr_seq)
        elif isinstance(message, FindNode):
            self._on_findnode(node, addr, message)
        elif isinstance(message, TalkReq):
            self._reply(node, addr, TalkResp(message.request_id, b""))  # no TALK protocol spoken here
        else:
            self._on_response(node, message)

    def _reply(self, node: NodeID, addr: Address, message: Message) -> None:
        try:
            self._send_all(self.sessions.reply(node, addr, message, self.now()))
            self.stats[f"sent:{MESSAGE_NAMES[message.TYPE]}"] += 1
        except MonitorError:
            self.stats["err:reply"] += 1

    @property
    def _seq(self) -> int:
        assert self.enr is not None
        return self.enr.seq

    def _tell_ping(self, node: NodeID, addr: Address, seq: int) -> None:
        if self.on_ping is None:
            return
        record = self.sessions.record_of(node) or (self.known_record(node) if self.known_record else None)
        if record is not None:
            self.on_ping(Peer(record.pubkey, addr[0], addr[1], record, seq))

    # -- serving ------------------------------------------------------------------------------------------------

    def _on_findnode(self, node: NodeID, addr: Address, request: FindNode) -> None:
        records: list[ENR] = []
        if 0 in request.distances and self.enr is not None:
            records.append(self.enr)
        wanted = [d for d in request.distances if d != 0]
        if wanted and self.nodes_at is not None:
            records.extend(self.nodes_at(wanted))
        encoded = [self._encode(r) for r in records[: self.config.max_nodes]]
        for message in split_nodes(request.request_id, encoded):
            self._reply(node, addr, message)

    def _encode(self, record: ENR) -> bytes:
        raw = self._encoded.get(record)
        if raw is None:
            raw = self._encoded[record] = record.to_rlp()
            if len(self._encoded) > self.config.record_cache:
                self._encoded.popitem(last=False)
        return raw

    def _verify(self, raw: bytes) -> tuple[NodeID, ENR]:
        """Verify a listed record once: the same bytes arrive from many peers (DecodeError when invalid)."""
        hit = self._verified.get(raw)
        if hit is None:
            record = ENR.from_rlp(raw)
            hit = self._verified[raw] = (record.node_id, record)
            if len(self._verified) > self.config.record_cache:
                self._verified.popitem(last=False)
        return hit

    # -- requests -----------------------------------------------------------------------------------------------

    def _on_response(self, node: NodeID, message: Message) -> None:
        call = self._calls.get((node, message.request_id))
        if call is None or (call.kind == "nodes") != isinstance(message, Nodes):
            self.stats["err:unsolicited"] += 1
            if self.pacer is not None:
                self.pacer.note_late()  # mostly answers to requests given up on: a congestion signal
            return
        if call.feed(message, self.config.max_total) and not call.future.done():
            call.future.set_result(None)

    async def _request(self, peer: Peer, kind: str, build: Callable[[bytes], Message]) -> _Call:
        """Send, wait, retry. Every attempt's request id stays registered until the call ends: the answer to an
        attempt that timed out (often one whose handshake was slow) completes the call as well."""
        loop = asyncio.get_running_loop()
        call = _Call(peer, kind, loop.create_future())
        sent_at: dict[bytes, float] = {}
        try:
            for attempt in range(1 + self.config.retries):
                if self.pacer is not None:
                    await self.pacer.acquire()
                request_id = self.rng(8)
                message = build(request_id)
                self._calls[(peer.id, request_id)] = call
                sent_at[request_id] = loop.time()
                self._send_all(self.sessions.send(peer.contact, message, self.now()))
                self.stats[f"sent:{MESSAGE_NAMES[message.TYPE]}"] += 1
                wait = self.rtt.timeout(peer.id, attempt) if self.rtt is not None else self.config.timeout
                try:
                    # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that arrives as
                    # the answer does, and a crawl's deadline would then wait forever on the cancelled worker.
                    async with asyncio.timeout(wait):
                        await asyncio.shield(call.future)
                except TimeoutError:
                    if call.packets:
                        return call  # a partial NODES answer is still an answer
                    self.stats[f"timeout:{MESSAGE_NAMES[message.TYPE]}"] += 1
                    continue
                self._sample(peer, call, sent_at, loop.time())
                return call
        finally:
            for request_id in sent_at:
                self._calls.pop((peer.id, request_id), None)
        raise RequestTimeout(f"{kind} from {peer.ip}:{peer.udp} unanswered after {1 + self.config.retries} attempts")

    def _sample(self, peer: Peer, call: _Call, sent_at: dict[bytes, float], now: float) -> None:
        """A round trip, timed from the attempt the answer names (its request id): no retry ambiguity."""
        started = sent_at.get(call.answered_by) if call.answered_by is not None else None
        if self.rtt is not None and started is not None:
            self.rtt.observe(peer.id, now - started)

    async def ping(self, peer: Peer) -> int:
        """PING the peer; return the ENR sequence number its PONG announced."""
        call = await self._request(peer, "pong", lambda rid: Ping(rid, self._seq))
        if not isinstance(call.reply, Pong):
            raise DecodeError(f"PING answered by {type(call.reply).__name__}")
        return call.reply.enr_seq

    async def findnode(self, peer: Peer, distances: Sequence[int]) -> FindNodeResult:
        call = await self._request(peer, "nodes", lambda rid: FindNode(rid, tuple(distances)))
        records: dict[NodeID, ENR] = {}
        invalid = 0
        for raw in call.raw:
            try:
                found, record = self._verify(raw)
            except DecodeError:
                invalid += 1
                continue
            if log_distance(found, peer.id) not in distances:
                invalid += 1  # the spec asks us to check: a peer may not pad answers with other nodes
                continue
            records.setdefault(found, record)
        if invalid:
            self.stats["err:nodes_record"] += invalid
        return FindNodeResult(records, call.packets >= call.total, call.packets, invalid)

    async def request_enr(self, peer: Peer) -> ENR:
        """FINDNODE at distance 0: the peer's current record."""
        result = await self.findnode(peer, [0])
        record = result.records.get(peer.id)
        if record is None:
            raise DecodeError("FINDNODE distance 0 returned no valid record of the node")
        return record

    async def talkreq(self, peer: Peer, protocol: bytes, request: bytes) -> bytes:
        call = await self._request(peer, "talkresp", lambda rid: TalkReq(rid, protocol, request))
        if not isinstance(call.reply, TalkResp):
            raise DecodeError(f"TALKREQ answered by {type(call.reply).__name__}")
        return call.reply.response

    async def close(self) -> None:
        for call in self._calls.values():
            call.future.cancel()


def split_nodes(request_id: bytes, records: Sequence[bytes]) -> list[Nodes]:
    """Pack records greedily into NODES messages whose packets stay within 1,280 bytes (one when empty)."""
    groups: list[list[bytes]] = [[]]
    for record in records:
        candidate = [*groups[-1], record]
        size = _PACKET_OVERHEAD + len(encode_message(Nodes(request_id, 255, tuple(candidate))))
        if size > MAX_PACKET_SIZE and groups[-1]:
            groups.append([record])
        else:
            groups[-1] = candidate
    return [Nodes(request_id, len(groups), tuple(group)) for group in groups]
