"""discv5 sessions and the handshake, without I/O (devp2p discv5-theory.md "Sessions").

:class:`SessionLayer` turns messages into datagrams (``send``) and datagrams into messages (``receive``); the caller
moves the bytes and passes the clock (``now``). Both directions of the handshake run here:

* We initiate: with no session for (node id, address) we send an ordinary packet with random content; the peer's
  WHOAREYOU names that packet's nonce, and we answer with a handshake packet carrying the pending request under fresh
  keys. A request is re-sent at most once after a handshake: a WHOAREYOU answering a handshake packet is dropped.
  While one handshake is in flight, further messages to that peer wait and are sent once the peer's first reply
  decrypts: peers (geth among them) keep one challenge per peer, so a second random packet would void the first.
  A timed-out request voids nothing: a random packet stays answerable until ``handshake_timeout``, our handshake's
  keys (and those of one it replaced) until the session expires, so a late answer still decrypts; a peer whose
  handshake is in flight is not challenged. Re-handshaking a loaded peer only adds load (measured: 2,000 devnet
  nodes at concurrency 256 answered 20 % of PINGs when a timeout voided the handshake).
* They initiate: a packet we cannot decrypt is answered by WHOAREYOU (rate-limited per source IP and globally,
  since the sender's id is unauthenticated); their handshake packet is checked against that stored challenge.

Sessions live in an LRU cache keyed by (node id, address) with a maximum age. Nothing here raises on bad input:
every drop is counted in ``stats``.
"""

from __future__ import annotations

import secrets
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias, TypeVar

from monitor.discovery.enr import ENR
from monitor.discovery.v5.crypto import derive_keys, ecdh, id_sign, id_verify
from monitor.discovery.v5.messages import Message, encode_message
from monitor.discovery.v5.wire import (
    Handshake,
    Ordinary,
    WhoAreYou,
    decode_packet,
    encode_packet,
    open_message,
    seal,
)
from monitor.errors import DecodeError, SignatureError
from monitor.p2p.keys import NodeID, PrivateKey, PublicKey, compress_pubkey
from monitor.p2p.udp import Address

__all__ = ["Contact", "SessionConfig", "Output", "Datagram", "SessionLayer"]

Datagram: TypeAlias = tuple[bytes, Address]
_Key: TypeAlias = tuple[NodeID, Address]
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Contact:
    """Whom a message goes to: the public key is needed for the handshake's key agreement."""

    node_id: NodeID
    pubkey: PublicKey
    addr: Address


@dataclass(frozen=True)
class SessionConfig:
    max_sessions: int = 8192
    session_ttl: float = 1800.0  # re-handshake now and then, as the spec asks
    handshake_timeout: float = 1.0  # the spec's suggested handshake timeout; later sends start a new one
    request_ttl: float = 5.0  # how long a sent packet's nonce can still be answered by WHOAREYOU
    challenge_ttl: float = 2.0  # how long a WHOAREYOU we sent waits for the handshake
    max_pending: int = 16384  # sent nonces and stored challenges, each
    max_records: int = 8192  # records learned from handshakes
    whoareyou_ip_burst: float = 8.0  # per source IP: token bucket size ...
    whoareyou_ip_rate: float = 8.0  # ... and refill per second
    whoareyou_burst: float = 500.0  # all peers together
    whoareyou_rate: float = 500.0
    max_ip_buckets: int = 8192


@dataclass
class Output:
    """What one datagram produced: datagrams to send and, when it carried one, the decrypted message."""

    datagrams: list[Datagram] = field(default_factory=list)
    node_id: NodeID | None = None
    message: Message | None = None
    record: ENR | None = None  # the sender's record, when its handshake carried one


@dataclass
class _Session:
    write_key: bytes
    read_key: bytes
    created: float
    confirmed: bool  # the peer proved it holds the keys: one of its messages decrypted
    counter: int = 0
    previous_read: bytes | None = None  # read key of the unconfirmed handshake this one replaced: late answers


@dataclass
class _Sent:
    contact: Contact
    message: Message
    sent_at: float
    handshake: bool  # sent in a handshake packet: a WHOAREYOU for it is not answered again


@dataclass
class _Challenge:
    whoareyou: WhoAreYou
    record: ENR | None  # the record we knew when we challenged
    sent_at: float


@dataclass
class _Bucket:
    tokens: float
    updated: float

    def take(self, now: float, rate: float, burst: float) -> bool:
        self.tokens = min(burst, self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def _bounded_put(cache: OrderedDict[K, V], key: K, value: V, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)


class SessionLayer:
    def __init__(
        self,
        key: PrivateKey,
        enr: ENR,
        config: SessionConfig = SessionConfig(),
        *,
        rng: Callable[[int], bytes] = secrets.token_bytes,
        known_record: Callable[[NodeID], ENR | None] = lambda _id: None,
        stats: Counter[str] | None = None,
    ) -> None:
        self.key = key
        self.enr = enr  # ours: sent in handshakes when the peer's copy is older
        self.config = config
        self.rng = rng
        self.known_record = known_record  # records we hold from elsewhere (our table), for WHOAREYOU's enr-seq
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.node_id = key.node_id
        self._sessions: OrderedDict[_Key, _Session] = OrderedDict()
        self._sent: OrderedDict[bytes, _Sent] = OrderedDict()
        self._handshaking: dict[_Key, float] = {}
        self._random: dict[_Key, bytes] = {}  # nonce of the random packet that started the handshake in flight
        self._queued: dict[_Key, list[tuple[Contact, Message]]] = {}
        self._challenges: OrderedDict[_Key, _Challenge] = OrderedDict()
        self._records: OrderedDict[NodeID, ENR] = OrderedDict()
        self._ip_buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._global_bucket = _Bucket(config.whoareyou_burst, 0.0)

    # -- sending ------------------------------------------------------------------------------------------------

    def send(self, contact: Contact, message: Message, now: float) -> list[Datagram]:
        """Datagrams carrying ``message`` now: one, or none while a handshake with the peer is in flight."""
        key = (contact.node_id, contact.addr)
        session = self._session(key, now)
        if session is not None:
            return [self._ordinary(contact, session, message, now)]
        started = self._handshaking.get(key)
        if started is not None and now - started < self.config.handshake_timeout:
            self._queued.setdefault(key, []).append((contact, message))
            self.stats["session:queued"] += 1
            return []
        # Start a handshake. What waited on an earlier, timed-out attempt is dropped (its requester retries), and so
        # is the earlier random packet: the peer keeps one challenge per peer, so answering its WHOAREYOU would fail.
        self._queued.pop(key, None)
        self._sent.pop(self._random.pop(key, b""), None)
        self._handshaking[key] = now
        nonce = self.rng(12)
        self._random[key] = nonce
        packet = Ordinary(self.node_id, nonce, self.rng(16), self.rng(20))  # random content: "who are you?"
        self._remember(nonce, _Sent(contact, message, now, handshake=False))
        self.stats["session:random_sent"] += 1
        return [(encode_packet(packet, contact.node_id), contact.addr)]

    def reply(self, node: NodeID, addr: Address, message: Message, now: float) -> list[Datagram]:
        """Answer a request over the session it came by; nothing if that session is gone (the peer will retry)."""
        session = self._session((node, addr), now)
        if session is None:
            self.stats["session:reply_without_session"] += 1
            return []
        record = self._records.get(node)
        contact = Contact(node, record.pubkey if record is not None else PublicKey(b""), addr)
        return [self._ordinary(contact, session, message, now)]

    def _ordinary(self, contact: Contact, session: _Session, message: Message, now: float) -> Datagram:
        # Nonce = 32-bit message counter || 64 random bits, as the spec recommends: never reused under one key.
        nonce = (session.counter & 0xFFFFFFFF).to_bytes(4, "big") + self.rng(8)
        session.counter += 1
        packet = seal(Ordinary(self.node_id, nonce, self.rng(16)), session.write_key, encode_message(message))
        if message.REQUEST:  # a WHOAREYOU is only ever valid as the answer to a request
            self._remember(nonce, _Sent(contact, message, now, handshake=False))
        return encode_packet(packet, contact.node_id), contact.addr

    def _remember(self, nonce: bytes, sent: _Sent) -> None:
        horizon = sent.sent_at - self.config.request_ttl
        while self._sent and next(iter(self._sent.values())).sent_at < horizon:
            self._sent.popitem(last=False)
        _bounded_put(self._sent, nonce, sent, self.config.max_pending)

    # -- receiving ----------------------------------------------------------------------------------------------

    def receive(self, data: bytes, addr: Address, now: float) -> Output:
        try:
            packet = decode_packet(data, self.node_id)
        except DecodeError:
            self.stats["err:packet"] += 1
            return Output()
        if isinstance(packet, WhoAreYou):
            return self._on_whoareyou(packet, addr, now)
        if isinstance(packet, Handshake):
            return self._on_handshake(packet, addr, now)
        return self._on_ordinary(packet, addr, now)

    def _on_ordinary(self, packet: Ordinary, addr: Address, now: float) -> Output:
        node = NodeID(packet.src_id)
        key = (node, addr)
        session = self._session(key, now)
        if session is not None:
            try:
                message = self._open(packet, session)
            except SignatureError:
                self.stats["session:undecryptable"] += 1  # the peer lost or replaced the session: challenge it
            except DecodeError:
                self.stats["err:message"] += 1  # authentic but malformed: no reason to re-handshake
                return Output()
            else:
                out = Output(node_id=node, message=message)
                if not session.confirmed:
                    session.confirmed = True
                    out.datagrams = self._flush(key, session, now)
                return out
        if self._in_flight(key, session, now):  # a WHOAREYOU would void it and cost the peer a second handshake
            self.stats["session:undecryptable_in_handshake"] += 1
            return Output()
        return Output(datagrams=self._challenge(node, addr, packet.nonce, now))

    @staticmethod
    def _open(packet: Ordinary, session: _Session) -> Message:
        try:
            return open_message(packet, session.read_key)
        except SignatureError:
            if session.previous_read is None:
                raise
            return open_message(packet, session.previous_read)  # a late answer under the replaced handshake

    def _in_flight(self, key: _Key, session: _Session | None, now: float) -> bool:
        """We started a handshake with the peer recently enough that its answer may still come."""
        started = self._handshaking.get(key)
        if started is not None and now - started < self.config.request_ttl:
            return True
        return session is not None and not session.confirmed and now - session.created < self.config.request_ttl

    def _challenge(self, node: NodeID, addr: Address, nonce: bytes, now: float) -> list[Datagram]:
        if not self._allow_whoareyou(addr[0], now):
            self.stats["whoareyou:rate_limited"] += 1
            return []
        record = self._records.get(node) or self.known_record(node)
        whoareyou = WhoAreYou(nonce, self.rng(16), record.seq if record is not None else 0, self.rng(16))
        _bounded_put(self._challenges, (node, addr), _Challenge(whoareyou, record, now), self.config.max_pending)
        self.stats["whoareyou:sent"] += 1
        return [(encode_packet(whoareyou, node), addr)]

    def _allow_whoareyou(self, ip: str, now: float) -> bool:
        cfg = self.config
        bucket = self._ip_buckets.get(ip)
        if bucket is None:
            bucket = _Bucket(cfg.whoareyou_ip_burst, now)
        _bounded_put(self._ip_buckets, ip, bucket, cfg.max_ip_buckets)
        if not bucket.take(now, cfg.whoareyou_ip_rate, cfg.whoareyou_ip_burst):
            return False
        return self._global_bucket.take(now, cfg.whoareyou_rate, cfg.whoareyou_burst)

    def _on_whoareyou(self, packet: WhoAreYou, addr: Address, now: float) -> Output:
        sent = self._sent.get(packet.nonce)
        if sent is None or now - sent.sent_at > self.config.request_ttl:
            self.stats["whoareyou:unsolicited"] += 1
            return Output()
        if sent.contact.addr != addr:
            self.stats["whoareyou:wrong_address"] += 1
            return Output()
        del self._sent[packet.nonce]
        contact = sent.contact
        key = (contact.node_id, addr)
        if self._random.get(key) == packet.nonce:
            del self._random[key]
        if sent.handshake:
            # The peer rejected our handshake: forget the keys and do not loop; the requester may retry.
            self.stats["whoareyou:after_handshake"] += 1
            self._sessions.pop(key, None)
            self._handshaking.pop(key, None)
            return Output()
        try:
            datagram, nonce, session = self._handshake(contact, packet, sent.message, now)
        except DecodeError:
            self.stats["err:handshake_build"] += 1  # the contact's public key is not a valid point
            return Output()
        replaced = self._sessions.get(key)
        if replaced is not None and not replaced.confirmed:
            session.previous_read = replaced.read_key
        _bounded_put(self._sessions, key, session, self.config.max_sessions)
        self._handshaking[key] = now
        self._remember(nonce, _Sent(contact, sent.message, now, handshake=True))
        self.stats["session:handshake_sent"] += 1
        return Output(datagrams=[datagram])

    def _handshake(
        self, contact: Contact, whoareyou: WhoAreYou, message: Message, now: float
    ) -> tuple[Datagram, bytes, _Session]:
        ephemeral = self._ephemeral_key()
        eph_pubkey = compress_pubkey(ephemeral.pubkey)
        challenge = whoareyou.challenge_data
        keys = derive_keys(ecdh(contact.pubkey, ephemeral.secret), self.node_id, contact.node_id, challenge)
        signature = id_sign(self.key, challenge, eph_pubkey, contact.node_id)
        record = self.enr.to_rlp() if whoareyou.enr_seq < self.enr.seq else None
        nonce = self.rng(12)
        unsealed = Handshake(self.node_id, nonce, self.rng(16), signature, eph_pubkey, record)
        packet = seal(unsealed, keys.initiator_key, encode_message(message))
        session = _Session(keys.initiator_key, keys.recipient_key, now, confirmed=False)
        return (encode_packet(packet, contact.node_id), contact.addr), nonce, session

    def _ephemeral_key(self) -> PrivateKey:
        while True:
            try:
                return PrivateKey(self.rng(32))
            except ValueError:  # zero or above the curve order: vanishingly rare, draw again
                continue

    def _on_handshake(self, packet: Handshake, addr: Address, now: float) -> Output:
        node = NodeID(packet.src_id)
        key = (node, addr)
        challenge = self._challenges.pop(key, None)  # one attempt per challenge
        if challenge is None or now - challenge.sent_at > self.config.challenge_ttl:
            self.stats["handshake:unsolicited"] += 1
            return Output()
        try:
            record = self._handshake_record(node, packet, challenge)
            data = challenge.whoareyou.challenge_data
            id_verify(record.pubkey, packet.id_signature, data, packet.eph_pubkey, self.node_id)
            keys = derive_keys(ecdh(packet.eph_pubkey, self.key.secret), node, self.node_id, data)
            message = open_message(packet, keys.initiator_key)
        except DecodeError as err:
            self.stats["handshake:" + ("bad_signature" if isinstance(err, SignatureError) else "invalid")] += 1
            return Output()
        session = _Session(keys.recipient_key, keys.initiator_key, now, confirmed=True)
        _bounded_put(self._sessions, key, session, self.config.max_sessions)
        _bounded_put(self._records, node, record, self.config.max_records)
        self.stats["handshake:accepted"] += 1
        out = Output(node_id=node, message=message, record=record if packet.record is not None else None)
        out.datagrams = self._flush(key, session, now)
        return out

    def _handshake_record(self, node: NodeID, packet: Handshake, challenge: _Challenge) -> ENR:
        """The record that authenticates the initiator: the one it sent, else the one we challenged with."""
        known = challenge.record
        if packet.record is not None:
            sent = ENR.from_rlp(packet.record)
            if sent.node_id != node:
                raise DecodeError("handshake record belongs to another node")
            if known is None or sent.seq >= known.seq:
                return sent
        if known is None:
            raise DecodeError("handshake without a record from an unknown node")
        return known

    def _flush(self, key: _Key, session: _Session, now: float) -> list[Datagram]:
        """The session is confirmed: send what waited for it."""
        self._handshaking.pop(key, None)
        waiting = self._queued.pop(key, [])
        return [self._ordinary(contact, session, message, now) for contact, message in waiting]

    # -- cache --------------------------------------------------------------------------------------------------

    def _session(self, key: _Key, now: float) -> _Session | None:
        session = self._sessions.get(key)
        if session is None:
            return None
        if now - session.created > self.config.session_ttl:
            del self._sessions[key]
            self.stats["session:expired"] += 1
            return None
        self._sessions.move_to_end(key)
        return session

    def has_session(self, node: NodeID, addr: Address, now: float) -> bool:
        return self._session((node, addr), now) is not None

    def record_of(self, node: NodeID) -> ENR | None:
        """A record the node sent us in a handshake."""
        return self._records.get(node)

    def __len__(self) -> int:
        return len(self._sessions)
