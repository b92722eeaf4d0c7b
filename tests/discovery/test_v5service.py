"""discv5 service over the in-memory network: requests, serving, multi-packet NODES, timeouts, bad input."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

import pytest
from memnet import Clock, MemNet

from monitor.discovery.enr import ENR
from monitor.discovery.v5.messages import Nodes, encode_message
from monitor.discovery.v5.service import Discv5Service, Peer, ServiceConfig, split_nodes
from monitor.discovery.v5.wire import MAX_PACKET_SIZE, Ordinary, encode_packet, seal
from monitor.errors import RequestTimeout
from monitor.p2p.keys import PrivateKey, log_distance
from monitor.p2p.udp import Address

CRAWLER: Address = ("127.51.0.1", 21001)
SERVER: Address = ("127.51.0.2", 21002)
FAST = ServiceConfig(timeout=0.2, retries=1)


def _service(net: MemNet, seed: str, addr: Address, clock: Clock, **kw: object) -> Discv5Service:
    key = PrivateKey.from_seed(seed.encode())
    record = ENR.create(key, 3, ip=ipaddress.IPv4Address(addr[0]), udp=addr[1])
    svc = Discv5Service(key, record, FAST, now=clock, **kw)  # type: ignore[arg-type]
    svc.attach(net.endpoint(addr, svc), addr)
    return svc


def _peer(svc: Discv5Service) -> Peer:
    assert svc.enr is not None
    return Peer.from_enr(svc.enr)


def _records_at(center: bytes, distance: int, count: int, pad: int = 0) -> list[ENR]:
    out, i = [], 0
    while len(out) < count:
        key = PrivateKey.from_seed(f"n{distance}/{i}".encode())
        i += 1
        if log_distance(key.node_id, center) == distance:
            ip = ipaddress.IPv4Address(f"127.51.7.{len(out) + 1}")
            out.append(ENR.create(key, 1, ip=ip, udp=21700, extra={"pad": bytes(pad)} if pad else None))
    return out


@pytest.fixture
def pair() -> tuple[MemNet, Discv5Service, Discv5Service]:
    net, clock = MemNet(), Clock()
    server_key = PrivateKey.from_seed(b"server")
    table = {256: _records_at(server_key.node_id, 256, 16, pad=150), 255: _records_at(server_key.node_id, 255, 3)}

    def nodes_at(distances: Sequence[int]) -> list[ENR]:
        return [r for d in distances for r in table.get(d, [])]

    crawler = _service(net, "crawler", CRAWLER, clock)
    server = _service(net, "server", SERVER, clock, nodes_at=nodes_at)
    return net, crawler, server


async def test_ping_returns_the_peers_seq_and_reuses_the_session(
    pair: tuple[MemNet, Discv5Service, Discv5Service],
) -> None:
    net, crawler, server = pair
    assert await crawler.ping(_peer(server)) == 3
    assert server.stats["handshake:accepted"] == 1 and server.stats["recv:ping"] == 1
    sent = len(net.log)
    assert await crawler.ping(_peer(server)) == 3
    assert len(net.log) == sent + 2  # one PING, one PONG: no second handshake


async def test_request_enr_is_findnode_distance_zero(pair: tuple[MemNet, Discv5Service, Discv5Service]) -> None:
    _net, crawler, server = pair
    assert await crawler.request_enr(_peer(server)) == server.enr


async def test_findnode_collects_every_nodes_message(pair: tuple[MemNet, Discv5Service, Discv5Service]) -> None:
    net, crawler, server = pair
    result = await crawler.findnode(_peer(server), [256, 255])
    assert result.complete and result.packets > 1 and result.invalid == 0
    assert len(result.records) == 16  # served up to the limit, nearest bucket first
    assert all(log_distance(node, server.own_id) == 256 for node in result.records)
    assert all(len(data) <= MAX_PACKET_SIZE for _s, _d, data in net.log)
    only_255 = await crawler.findnode(_peer(server), [255])
    assert len(only_255.records) == 3 and only_255.packets == 1


async def test_a_lost_nodes_message_gives_a_partial_answer(pair: tuple[MemNet, Discv5Service, Discv5Service]) -> None:
    net, crawler, server = pair
    await crawler.ping(_peer(server))
    replies = 0

    def drop_second_reply(src: Address, _dst: Address, _data: bytes) -> bool:
        nonlocal replies
        replies += src == SERVER
        return src == SERVER and replies == 2

    net.drop = drop_second_reply
    result = await crawler.findnode(_peer(server), [256])
    assert not result.complete and result.packets > 0 and len(result.records) < 16


async def test_records_at_unrequested_distances_are_dropped_and_counted() -> None:
    net, clock = MemNet(), Clock()
    crawler = _service(net, "crawler", CRAWLER, clock)
    liar = _service(
        net, "liar", SERVER, clock, nodes_at=lambda _d: _records_at(PrivateKey.from_seed(b"liar").node_id, 250, 2)
    )
    result = await crawler.findnode(_peer(liar), [256])
    assert result.records == {} and result.invalid == 2 and crawler.stats["err:nodes_record"] == 2


async def test_talkreq_is_answered_with_an_empty_talkresp(pair: tuple[MemNet, Discv5Service, Discv5Service]) -> None:
    _net, crawler, server = pair
    assert await crawler.talkreq(_peer(server), b"portal", b"hello") == b""
    assert server.stats["recv:talkreq"] == 1


async def test_timeouts_retry_then_raise(pair: tuple[MemNet, Discv5Service, Discv5Service]) -> None:
    net, crawler, server = pair
    first = [True]
    clock = crawler.now
    assert isinstance(clock, Clock)

    def drop_first(src: Address, _dst: Address, _data: bytes) -> bool:
        if src == CRAWLER and first[0]:
            first[0] = False
            clock.now += crawler.session_config.handshake_timeout  # by the retry, the lost handshake is given up
            return True
        return False

    net.drop = drop_first
    assert await crawler.ping(_peer(server)) == 3  # the retry got through
    assert crawler.stats["timeout:ping"] == 1
    net.drop = lambda _s, _d, _b: True
    with pytest.raises(RequestTimeout):
        await crawler.ping(_peer(server))
    assert crawler.stats["timeout:ping"] == 3


async def test_malformed_and_unsolicited_datagrams_are_counted_not_raised(
    pair: tuple[MemNet, Discv5Service, Discv5Service],
) -> None:
    _net, crawler, server = pair
    for junk in (b"", b"\x00" * 80, bytes(range(256)) * 4):
        server.datagram_received(junk, CRAWLER)
    assert server.stats["err:packet"] == 3
    await crawler.ping(_peer(server))
    # a reply to nothing we asked, sealed under the session the ping set up and sent over the server's transport
    stray = server.sessions.reply(crawler.own_id, CRAWLER, Nodes(b"\x99" * 8, 1, ()), server.now())
    assert len(stray) == 1 and server.sender is not None
    for data, to in stray:
        server.sender.send(data, to)
    await asyncio.sleep(0.01)
    assert crawler.stats["err:unsolicited"] == 1


async def test_ping_from_a_known_node_is_reported(pair: tuple[MemNet, Discv5Service, Discv5Service]) -> None:
    _net, crawler, server = pair
    seen: list[Peer] = []
    server.on_ping = seen.append
    await crawler.ping(_peer(server))
    assert [(p.id, p.addr, p.enr_seq) for p in seen] == [(crawler.own_id, CRAWLER, 3)]


def test_split_nodes_keeps_every_packet_within_the_limit() -> None:
    records = [r.to_rlp() for r in _records_at(bytes(32), 256, 16, pad=150)]
    messages = split_nodes(b"\x01" * 8, records)
    assert len(messages) > 1 and sum(len(m.records) for m in messages) == 16
    assert all(m.total == len(messages) for m in messages)
    assert split_nodes(b"\x01", []) == [Nodes(b"\x01", 1, ())]
    for message in messages:
        packet = seal(Ordinary(bytes(32), bytes(12), bytes(16)), bytes(16), encode_message(message))
        assert len(encode_packet(packet, bytes(32))) <= MAX_PACKET_SIZE


async def test_a_cancel_arriving_with_the_answer_is_not_swallowed(
    pair: tuple[MemNet, Discv5Service, Discv5Service],
) -> None:
    """The crawl's deadline cancels a request whose answer arrives in the same loop turn: the request must end
    cancelled (Python 3.11's wait_for returned the answer instead, and the crawl waited for ever)."""
    net, crawler, server = pair
    await crawler.ping(_peer(server))  # a session, so the next answer is one datagram
    request = asyncio.create_task(crawler.ping(_peer(server)))

    class CancelOnAnswer:
        def datagram_received(self, data: bytes, addr: Address) -> None:
            crawler.datagram_received(data, addr)
            request.cancel()

    net.handlers[CRAWLER] = CancelOnAnswer()
    with pytest.raises(asyncio.CancelledError):
        await request
