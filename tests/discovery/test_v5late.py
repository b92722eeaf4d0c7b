"""discv5 handshakes under load, session layer only (injected clock, in-memory pipe): late answers after a timeout
still decrypt and complete the session, and a peer in mid-handshake is not challenged again."""

from __future__ import annotations

import ipaddress
import random
from collections import deque

from monitor.discovery.enr import ENR
from monitor.discovery.v5.messages import Message, Ping, Pong
from monitor.discovery.v5.session import Contact, SessionConfig, SessionLayer
from monitor.discovery.v5.wire import Ordinary, WhoAreYou, decode_packet, encode_packet, seal
from monitor.p2p.keys import NodeID, PrivateKey
from monitor.p2p.udp import Address

A_ADDR: Address = ("127.69.0.1", 20001)
B_ADDR: Address = ("127.69.0.2", 20002)
CONFIG = SessionConfig()


def _layer(seed: str, addr: Address) -> SessionLayer:
    key = PrivateKey.from_seed(seed.encode())
    enr = ENR.create(key, 1, ip=ipaddress.IPv4Address(addr[0]), udp=addr[1])
    return SessionLayer(key, enr, CONFIG, rng=random.Random(seed).randbytes)


def _pong(request_id: bytes) -> Pong:
    return Pong(request_id, 1, ipaddress.IPv4Address(A_ADDR[0]), A_ADDR[1])


class Net:
    """A (crawler) and B (a peer); datagrams wait in ``queue`` until ``pump``; ``held`` ones until released."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.layers = {A_ADDR: _layer("a", A_ADDR), B_ADDR: _layer("b", B_ADDR)}
        self.queue: deque[tuple[Address, Address, bytes]] = deque()
        self.received: list[tuple[Address, Message]] = []
        self.hold_from_b = False
        self.held: list[tuple[Address, Address, bytes]] = []
        self.whoareyous_to_b = 0

    @property
    def a(self) -> SessionLayer:
        return self.layers[A_ADDR]

    @property
    def b(self) -> SessionLayer:
        return self.layers[B_ADDR]

    def contact(self, addr: Address) -> Contact:
        layer = self.layers[addr]
        return Contact(layer.node_id, layer.key.pubkey, addr)

    def send(self, src: Address, dst: Address, message: Message) -> int:
        out = self.layers[src].send(self.contact(dst), message, self.now)
        self.queue.extend((src, to, data) for data, to in out)
        return len(out)

    def release(self) -> None:
        self.queue.extend(self.held)
        self.held.clear()

    def pump(self) -> None:
        while self.queue:
            src, dst, data = self.queue.popleft()
            if src == B_ADDR and self.hold_from_b:
                self.held.append((src, dst, data))
                continue
            if dst == B_ADDR and isinstance(decode_packet(data, self.b.node_id), WhoAreYou):
                self.whoareyous_to_b += 1
            out = self.layers[dst].receive(data, src, self.now)
            if out.message is not None:
                self.received.append((dst, out.message))
            self.queue.extend((dst, to, d) for d, to in out.datagrams)

    def handshake_then_hold_answers(self) -> None:
        """A pings B; the handshake completes at B, whose PONG is held back: A's request will time out."""
        self.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
        self.pump()
        assert self.received == [(B_ADDR, Ping(b"\x01", 1))]
        self.hold_from_b = True
        self.send(B_ADDR, A_ADDR, _pong(b"\x01"))
        self.pump()


def test_a_late_answer_after_a_timeout_decrypts_and_confirms_the_session() -> None:
    net = Net()
    net.handshake_then_hold_answers()
    net.now += 0.6  # the requester gave up on its first attempt
    net.hold_from_b = False
    net.release()
    net.pump()
    assert (A_ADDR, _pong(b"\x01")) in net.received  # the late PONG was read, not challenged
    assert net.whoareyous_to_b == 0 and net.a.stats["whoareyou:sent"] == 0
    assert net.b.stats["handshake:accepted"] == 1  # and B was not made to build a second handshake
    assert net.send(A_ADDR, B_ADDR, Ping(b"\x02", 1)) == 1  # the session is confirmed: plain packets from now on
    net.pump()
    assert net.received[-1] == (B_ADDR, Ping(b"\x02", 1))


def test_a_retry_under_the_unfinished_handshake_is_answered_too() -> None:
    net = Net()
    net.handshake_then_hold_answers()
    net.now += 0.6
    net.hold_from_b = False
    assert net.send(A_ADDR, B_ADDR, Ping(b"\x02", 1)) == 1  # sent at once under the kept keys, no new handshake
    net.pump()
    net.send(B_ADDR, A_ADDR, _pong(b"\x02"))
    net.release()
    net.pump()
    assert {m for dst, m in net.received if dst == A_ADDR} == {_pong(b"\x01"), _pong(b"\x02")}
    assert net.whoareyous_to_b == 0 and net.b.stats["handshake:accepted"] == 1


def _garbage_from(node: NodeID, dst: SessionLayer, nonce: bytes) -> bytes:
    """An ordinary packet from ``node`` under keys ``dst`` does not hold (say, a session the peer lost)."""
    return encode_packet(seal(Ordinary(node, nonce, b"\x05" * 16), b"\x06" * 16, b"\x01\xc2\x01\x01"), dst.node_id)


def test_a_peer_in_mid_handshake_is_not_challenged_until_the_handshake_could_no_longer_complete() -> None:
    net = Net()
    net.handshake_then_hold_answers()
    out = net.a.receive(_garbage_from(net.b.node_id, net.a, b"\x01" * 12), B_ADDR, net.now + 0.6)
    assert out.datagrams == [] and net.a.stats["session:undecryptable_in_handshake"] == 1
    late = net.now + CONFIG.request_ttl + 0.1  # the handshake's answer can no longer come: challenge as usual
    out = net.a.receive(_garbage_from(net.b.node_id, net.a, b"\x02" * 12), B_ADDR, late)
    assert len(out.datagrams) == 1 and net.a.stats["whoareyou:sent"] == 1


def test_a_random_packet_unanswered_yet_is_not_challenged_either() -> None:
    net = Net()
    net.hold_from_b = True
    net.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))  # A's random packet is out, B's WHOAREYOU is held
    net.pump()
    out = net.a.receive(_garbage_from(net.b.node_id, net.a, b"\x01" * 12), B_ADDR, net.now + 0.1)
    assert out.datagrams == [] and net.a.stats["whoareyou:sent"] == 0


def test_answers_under_a_replaced_handshake_still_decrypt() -> None:
    """B restarts (loses its sessions) after answering A's first handshake; A's retry draws a second handshake. The
    first PONG, sent under the first handshake's keys and delayed, is still read."""
    net = Net()
    net.handshake_then_hold_answers()
    net.hold_from_b = False
    first_pong = net.held.pop()
    net.layers[B_ADDR] = _layer("b", B_ADDR)  # same key, no sessions
    net.now += 0.6
    net.send(A_ADDR, B_ADDR, Ping(b"\x02", 1))  # under the old keys: B cannot read it and challenges
    net.pump()
    assert net.a.stats["session:handshake_sent"] == 2 and (B_ADDR, Ping(b"\x02", 1)) in net.received
    net.queue.append(first_pong)
    net.pump()
    assert (A_ADDR, _pong(b"\x01")) in net.received and net.a.stats["whoareyou:sent"] == 0


def test_a_retry_waits_for_a_late_whoareyou_and_follows_the_handshake() -> None:
    net = Net()
    net.hold_from_b = True
    net.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    net.pump()
    net.now += 0.6  # the first attempt timed out; a second random packet now would void B's challenge
    assert net.send(A_ADDR, B_ADDR, Ping(b"\x02", 1)) == 0
    net.hold_from_b = False
    net.release()
    net.pump()
    net.send(B_ADDR, A_ADDR, _pong(b"\x01"))
    net.pump()
    assert [m for dst, m in net.received if dst == B_ADDR] == [Ping(b"\x01", 1), Ping(b"\x02", 1)]
    assert net.a.stats["session:random_sent"] == 1 and net.b.stats["whoareyou:sent"] == 1


def test_a_whoareyou_for_a_superseded_random_packet_is_not_answered() -> None:
    """The random packet's answer was lost and the handshake timeout passed: the next send starts over. The peer
    holds one challenge per peer (the second), so answering the first WHOAREYOU would produce a handshake it rejects."""
    net = Net()
    net.hold_from_b = True
    net.send(A_ADDR, B_ADDR, Ping(b"\x01", 1))
    net.pump()
    first_whoareyou = net.held.pop()
    net.now += CONFIG.handshake_timeout
    assert net.send(A_ADDR, B_ADDR, Ping(b"\x02", 1)) == 1  # a new random packet
    net.hold_from_b = False
    net.pump()
    net.release()
    net.pump()
    assert net.a.stats["session:handshake_sent"] == 1
    out = net.a.receive(first_whoareyou[2], B_ADDR, net.now)
    assert out.datagrams == [] and net.a.stats["whoareyou:unsolicited"] == 1
    assert net.received == [(B_ADDR, Ping(b"\x02", 1))]
    assert net.b.stats["handshake:bad_signature"] == 0
