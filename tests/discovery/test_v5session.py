"""discv5 session layer over an in-memory pipe with an injected clock: handshakes both ways, loss, expiry, limits."""

from __future__ import annotations

import ipaddress
import random
from collections import defaultdict, deque
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.discovery.enr import ENR
from monitor.discovery.v5.messages import FindNode, Message, Ping, Pong
from monitor.discovery.v5.session import Contact, SessionConfig, SessionLayer
from monitor.discovery.v5.wire import Handshake, Ordinary, WhoAreYou, decode_packet
from monitor.discovery.v5.wire import encode_packet as encode
from monitor.p2p.keys import NodeID, PrivateKey
from monitor.p2p.udp import Address

A_ADDR: Address = ("127.51.0.1", 21001)
B_ADDR: Address = ("127.51.0.2", 21002)


DEFAULT = SessionConfig()


def _layer(seed: str, addr: Address, config: SessionConfig = DEFAULT, **kw: object) -> SessionLayer:
    key = PrivateKey.from_seed(seed.encode())
    enr = ENR.create(key, 1, ip=ipaddress.IPv4Address(addr[0]), udp=addr[1])
    rng = random.Random(seed)
    return SessionLayer(key, enr, config, rng=rng.randbytes, **kw)  # type: ignore[arg-type]


def _contact(layer: SessionLayer, addr: Address) -> Contact:
    return Contact(layer.node_id, layer.key.pubkey, addr)


class Pipe:
    """Delivers datagrams between layers in order, through an optional drop filter; records what was received."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.layers: dict[Address, SessionLayer] = {}
        self.queue: deque[tuple[Address, Address, bytes]] = deque()
        self.received: dict[Address, list[tuple[NodeID | None, Message]]] = defaultdict(list)
        self.drop: Callable[[Address, Address, bytes], bool] = lambda _s, _d, _b: False
        self.log: list[tuple[Address, Address, bytes]] = []

    def add(self, addr: Address, layer: SessionLayer) -> SessionLayer:
        self.layers[addr] = layer
        return layer

    def send(self, src: Address, dst: Address, message: Message) -> int:
        out = self.layers[src].send(_contact(self.layers[dst], dst), message, self.now)
        self.queue.extend((src, to, data) for data, to in out)
        return len(out)

    def pump(self) -> None:
        while self.queue:
            src, dst, data = self.queue.popleft()
            self.log.append((src, dst, data))
            if self.drop(src, dst, data):
                continue
            out = self.layers[dst].receive(data, src, self.now)
            if out.message is not None:
                self.received[dst].append((out.node_id, out.message))
            self.queue.extend((dst, to, d) for d, to in out.datagrams)


def _flag(data: bytes, dst: SessionLayer) -> int:
    return decode_packet(data, dst.node_id).FLAG


def _pair(config: SessionConfig = DEFAULT) -> tuple[Pipe, SessionLayer, SessionLayer]:
    pipe = Pipe()
    return pipe, pipe.add(A_ADDR, _layer("a", A_ADDR, config)), pipe.add(B_ADDR, _layer("b", B_ADDR, config))


def test_handshake_initiated_by_us_then_plain_messages_both_ways() -> None:
    pipe, a, b = _pair()
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    pipe.pump()
    assert [_flag(d, pipe.layers[dst]) for _s, dst, d in pipe.log] == [0, 1, 2]  # random, WHOAREYOU, handshake
    assert pipe.received[B_ADDR] == [(a.node_id, Ping(b"\x01", 1))]
    assert b.record_of(a.node_id) == a.enr  # B did not know A: the handshake carried A's record
    pipe.send(B_ADDR, A_ADDR, Pong(b"\x01", 1, ipaddress.IPv4Address(A_ADDR[0]), A_ADDR[1]))
    pipe.send(A_ADDR, B_ADDR, FindNode(b"\x02", (256,)))
    pipe.pump()
    assert pipe.received[A_ADDR] == [(b.node_id, Pong(b"\x01", 1, ipaddress.IPv4Address(A_ADDR[0]), A_ADDR[1]))]
    assert pipe.received[B_ADDR][-1] == (a.node_id, FindNode(b"\x02", (256,)))
    assert len(pipe.log) == 5  # no further handshake
    assert a.has_session(b.node_id, B_ADDR, pipe.now) and b.has_session(a.node_id, A_ADDR, pipe.now)


def test_handshake_initiated_by_them_is_challenged_and_accepted() -> None:
    pipe, a, b = _pair()
    pipe.send(B_ADDR, A_ADDR, Ping(b"\x09", 1))
    pipe.pump()
    assert a.stats["whoareyou:sent"] == 1 and a.stats["handshake:accepted"] == 1
    assert pipe.received[A_ADDR] == [(b.node_id, Ping(b"\x09", 1))]
    pipe.send(A_ADDR, B_ADDR, Pong(b"\x09", 1, ipaddress.IPv4Address(B_ADDR[0]), B_ADDR[1]))
    pipe.pump()
    assert [m for _n, m in pipe.received[B_ADDR]] == [Pong(b"\x09", 1, ipaddress.IPv4Address(B_ADDR[0]), B_ADDR[1])]


def test_known_record_lets_the_initiator_omit_its_record() -> None:
    pipe = Pipe()
    a = pipe.add(A_ADDR, _layer("a", A_ADDR))
    b = pipe.add(B_ADDR, _layer("b", B_ADDR, known_record=lambda n: a.enr if n == a.node_id else None))
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    pipe.pump()
    handshake = decode_packet(pipe.log[2][2], b.node_id)
    assert isinstance(handshake, Handshake) and handshake.record is None
    assert pipe.received[B_ADDR] == [(a.node_id, Ping(b"\x01", 1))]


def test_messages_sent_during_the_handshake_wait_and_follow_the_first_reply() -> None:
    pipe, _a, b = _pair()
    assert pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1)) == 1
    assert pipe.send(A_ADDR, B_ADDR, FindNode(b"\x02", (256,))) == 0  # queued: one handshake at a time
    pipe.pump()
    assert [m for _n, m in pipe.received[B_ADDR]] == [Ping(b"\x01", 1)]
    pipe.send(B_ADDR, A_ADDR, Pong(b"\x01", 1, ipaddress.IPv4Address(A_ADDR[0]), A_ADDR[1]))
    pipe.pump()  # the PONG confirms the session: the queued FINDNODE goes out under it
    assert [m for _n, m in pipe.received[B_ADDR]] == [Ping(b"\x01", 1), FindNode(b"\x02", (256,))]
    assert b.stats["whoareyou:sent"] == 1


def test_lost_whoareyou_a_retry_after_the_handshake_timeout_starts_over() -> None:
    pipe, a, b = _pair()
    pipe.drop = lambda _s, dst, _d: dst == A_ADDR  # everything B sends is lost
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    pipe.pump()
    assert b.stats["whoareyou:sent"] == 1 and not pipe.received[A_ADDR]
    pipe.now += 0.5
    assert pipe.send(A_ADDR, B_ADDR, Ping(b"\x02", 1)) == 0  # still within the handshake timeout: waits
    pipe.drop = lambda _s, _d, _b: False
    pipe.now += 0.6  # past it: the retry starts a new handshake
    assert pipe.send(A_ADDR, B_ADDR, Ping(b"\x03", 1)) == 1
    pipe.pump()
    assert pipe.received[B_ADDR] == [(a.node_id, Ping(b"\x03", 1))]
    assert b.stats["whoareyou:sent"] == 2


def test_a_whoareyou_answering_our_handshake_is_not_answered_again() -> None:
    pipe, a, b = _pair()
    pipe.drop = lambda _s, _d, data: _flag(data, b) == 2 if _d == B_ADDR else False
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    pipe.pump()
    handshake = decode_packet(pipe.log[2][2], b.node_id)
    assert isinstance(handshake, Handshake)
    refusal = encode(WhoAreYou(handshake.nonce, b"\x07" * 16, 0, b"\x08" * 16), a.node_id)
    out = a.receive(refusal, B_ADDR, pipe.now)
    assert out.datagrams == [] and a.stats["whoareyou:after_handshake"] == 1
    assert not a.has_session(b.node_id, B_ADDR, pipe.now)


def test_unsolicited_and_misdirected_whoareyou_are_dropped() -> None:
    pipe, a, _b = _pair()
    stray = encode(WhoAreYou(b"\x01" * 12, b"\x02" * 16, 0, b"\x03" * 16), a.node_id)
    assert a.receive(stray, B_ADDR, pipe.now).datagrams == []
    pipe.drop = lambda _s, dst, _d: dst == A_ADDR
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    pipe.pump()
    whoareyou = next(d for s, _dst, d in pipe.log if s == B_ADDR)
    assert a.receive(whoareyou, ("127.51.9.9", 21009), pipe.now).datagrams == []  # right nonce, wrong sender
    assert a.stats["whoareyou:unsolicited"] == 1 and a.stats["whoareyou:wrong_address"] == 1
    assert len(a.receive(whoareyou, B_ADDR, pipe.now).datagrams) == 1  # the real one still works


def test_handshake_answering_a_replaced_challenge_is_rejected() -> None:
    pipe, a, b = _pair()
    pipe.drop = lambda _s, dst, _d: dst == A_ADDR
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    pipe.pump()
    first = pipe.log[-1][2]
    b.receive(encode(Ordinary(a.node_id, b"\x05" * 12, b"\x06" * 16, b"\x00" * 20), b.node_id), A_ADDR, pipe.now)
    pipe.drop = lambda _s, _d, _b: False
    pipe.queue.extend((A_ADDR, B_ADDR, d) for d, _to in a.receive(first, B_ADDR, pipe.now).datagrams)
    pipe.pump()
    assert b.stats["handshake:bad_signature"] == 1 and not pipe.received[B_ADDR]


def test_sessions_expire_and_are_re_established() -> None:
    config = SessionConfig(session_ttl=60.0)
    pipe, a, b = _pair(config)
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    pipe.pump()
    pipe.now += 61
    assert not a.has_session(b.node_id, B_ADDR, pipe.now)
    pipe.send(A_ADDR, B_ADDR, Ping(b"\x02", 1))
    pipe.pump()
    assert pipe.received[B_ADDR][-1] == (a.node_id, Ping(b"\x02", 1))
    assert b.stats["whoareyou:sent"] == 2 and a.stats["session:expired"] == 1


def test_session_cache_is_bounded_lru() -> None:
    config = SessionConfig(max_sessions=2)
    pipe = Pipe()
    a = pipe.add(A_ADDR, _layer("a", A_ADDR, config))
    peers = [pipe.add((f"127.51.1.{i}", 21100 + i), _layer(f"p{i}", (f"127.51.1.{i}", 21100 + i))) for i in range(3)]
    for i in range(len(peers)):
        pipe.send(A_ADDR, (f"127.51.1.{i}", 21100 + i), Ping(bytes([i]), 1))
        pipe.pump()
    assert len(a) == 2
    assert not a.has_session(peers[0].node_id, ("127.51.1.0", 21100), pipe.now)
    assert a.has_session(peers[2].node_id, ("127.51.1.2", 21102), pipe.now)


def _random_packet(src: SessionLayer, dst: SessionLayer, i: int) -> bytes:
    return encode(Ordinary(src.node_id, i.to_bytes(12, "big"), b"\x06" * 16, b"\x00" * 20), dst.node_id)


def test_whoareyou_is_rate_limited_per_ip_and_refills() -> None:
    config = SessionConfig(whoareyou_ip_burst=3, whoareyou_ip_rate=1)
    b = _layer("b", B_ADDR, config)
    a = _layer("a", A_ADDR)
    sent = [len(b.receive(_random_packet(a, b, i), A_ADDR, 1000.0).datagrams) for i in range(10)]
    assert sent == [1, 1, 1] + [0] * 7 and b.stats["whoareyou:rate_limited"] == 7
    assert len(b.receive(_random_packet(a, b, 99), ("127.51.3.3", 21033), 1000.0).datagrams) == 1  # other IP
    assert len(b.receive(_random_packet(a, b, 11), A_ADDR, 1001.1).datagrams) == 1  # one token back after 1 s


def test_whoareyou_is_rate_limited_globally() -> None:
    config = SessionConfig(whoareyou_burst=5, whoareyou_rate=1)
    b = _layer("b", B_ADDR, config)
    a = _layer("a", A_ADDR)
    sent = [len(b.receive(_random_packet(a, b, i), (f"127.51.4.{i}", 21040), 1000.0).datagrams) for i in range(20)]
    assert sum(sent) == 5


def test_garbage_is_counted_never_raised() -> None:
    b = _layer("b", B_ADDR)
    rng = random.Random(5)
    for size in (0, 10, 63, 100, 1280, 2000):
        assert b.receive(rng.randbytes(size), A_ADDR, 1000.0).message is None
    assert b.stats["err:packet"] == 6


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=80),
    st.binary(max_size=40),
    st.one_of(st.none(), st.binary(min_size=1, max_size=300)),
    st.binary(max_size=120),
)
def test_forged_handshakes_against_a_live_challenge_are_counted_never_raised(
    signature: bytes, eph_pubkey: bytes, record: bytes | None, message: bytes
) -> None:
    a, b = _layer("a", A_ADDR), _layer("b", B_ADDR)
    assert len(b.receive(_random_packet(a, b, 1), A_ADDR, 1000.0).datagrams) == 1  # B now holds a challenge for A
    forged = Handshake(a.node_id, b"\x01" * 12, b"\x02" * 16, signature, eph_pubkey, record, message)
    out = b.receive(encode(forged, b.node_id), A_ADDR, 1000.0)
    assert out.message is None and out.datagrams == []
    assert b.stats["handshake:bad_signature"] + b.stats["handshake:invalid"] + b.stats["err:packet"] == 1
