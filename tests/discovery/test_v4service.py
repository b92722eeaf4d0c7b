"""discv4 protocol behaviour over an in-memory pipe with an injected clock (no sockets)."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from memnet import Clock, MemNet, make_service, peer_of

from monitor.discovery.enr import ENR
from monitor.discovery.v4 import wire
from monitor.discovery.v4.service import Discv4Service, ServiceConfig
from monitor.discovery.v4.wire import NodeEntry
from monitor.errors import RequestTimeout
from monitor.p2p.keys import PrivateKey

pytestmark = pytest.mark.timeout(20)

A = ("127.0.0.1", 30301)
B = ("127.0.0.2", 30302)
C = ("127.0.0.3", 30303)


def _entries(n: int, seed: str = "n") -> list[NodeEntry]:
    keys = [PrivateKey.from_seed(f"{seed}{i}".encode()) for i in range(n)]
    return [NodeEntry(ipaddress.IPv4Address(f"127.0.9.{i + 1}"), 30303, 30303, k.pubkey) for i, k in enumerate(keys)]


def _server(
    net: MemNet, clock: Clock, table: list[NodeEntry], addr: tuple[str, int] = B, seed: str = "server", seq: int = 5
) -> Discv4Service:
    key = PrivateKey.from_seed(seed.encode())
    record = ENR.create(key, seq, ip=ipaddress.IPv4Address(addr[0]), udp=addr[1], tcp=addr[1])
    return make_service(net, seed, addr, clock, ServiceConfig(), enr=record, neighbors_of=lambda _t: table)


async def test_ping_pong_carries_enr_seq_and_bonds_both_ways() -> None:
    net, clock = MemNet(), Clock()
    client, server = make_service(net, "client", A, clock), _server(net, clock, [])
    pong = await client.bond(peer_of(server))
    assert pong.enr_seq == 5
    assert client.bonds.is_bonded(server.own_id)  # we got its PONG
    assert client.bonds.pinged_us(server.own_id)  # it pinged us back, as geth does
    await asyncio.sleep(0.01)
    assert server.bonds.is_bonded(client.own_id)  # our PONG to its ping-back bonded us on its side


async def test_findnode_from_unbonded_peer_is_not_answered() -> None:
    net, clock = MemNet(), Clock()
    client, server = make_service(net, "client", A, clock), _server(net, clock, _entries(3))
    with pytest.raises(RequestTimeout):
        await client.findnode(peer_of(server), bytes(64))
    assert server.stats["drop:findnode_unbonded"] == 1
    assert server.stats["sent:neighbors"] == 0


async def test_findnode_collects_12_plus_4_neighbors() -> None:
    net, clock = MemNet(), Clock()
    table = _entries(20)
    client, server = make_service(net, "client", A, clock), _server(net, clock, table)
    await client.bond(peer_of(server))
    await asyncio.sleep(0.01)
    reply = await client.findnode(peer_of(server), bytes(64))
    assert server.stats["sent:neighbors"] == 2  # 12 + 4 within 1,280 bytes each
    assert reply.packets == 2 and reply.complete
    assert [n.pubkey for n in reply.nodes] == [e.pubkey for e in table[:16]]


async def test_short_neighbors_answer_completes_without_waiting_for_timeout() -> None:
    net, clock = MemNet(), Clock()
    client = make_service(net, "client", A, clock, ServiceConfig(timeout=5.0, retries=0, bond_wait=0.05))
    server = _server(net, clock, _entries(3))
    await client.bond(peer_of(server))
    await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await client.findnode(peer_of(server), bytes(64))
    assert len(reply.nodes) == 3 and reply.complete
    assert loop.time() - started < 1.0


async def test_lost_second_neighbors_packet_gives_partial_incomplete_answer() -> None:
    net, clock = MemNet(), Clock()
    client, server = make_service(net, "client", A, clock), _server(net, clock, _entries(20))
    await client.bond(peer_of(server))
    await asyncio.sleep(0.01)
    sent_neighbors = []

    def drop_second(src: tuple[str, int], dst: tuple[str, int], data: bytes) -> bool:
        if data[97] == 4:
            sent_neighbors.append(data)
            return len(sent_neighbors) == 2
        return False

    net.drop = drop_second
    reply = await client.findnode(peer_of(server), bytes(64))
    assert len(reply.nodes) == 12 and not reply.complete


async def test_enr_replies_are_matched_by_peer_and_hash() -> None:
    """Two ENRREQUESTs in the same second share a hash; each reply must go to the request for its own peer."""
    net, clock = MemNet(), Clock()
    client = make_service(net, "client", A, clock)
    s1, s2 = _server(net, clock, [], B), _server(net, clock, [], C, seed="server-two", seq=9)  # a different node
    await asyncio.gather(client.bond(peer_of(s1)), client.bond(peer_of(s2)))
    await asyncio.sleep(0.01)
    r1, r2 = await asyncio.gather(client.request_enr(peer_of(s1)), client.request_enr(peer_of(s2)))
    assert (r1.seq, r1.node_id) == (5, s1.own_id)
    assert (r2.seq, r2.node_id) == (9, s2.own_id)


async def test_updated_enr_is_announced_in_pong_and_served() -> None:
    net, clock = MemNet(), Clock()
    client, server = make_service(net, "client", A, clock), _server(net, clock, [])
    await client.bond(peer_of(server))
    newer = ENR.create(server.key, 6, ip=ipaddress.IPv4Address(B[0]), udp=B[1], tcp=B[1])
    server.update_enr(newer)
    assert (await client.ping(peer_of(server))).enr_seq == 6
    assert await client.request_enr(peer_of(server)) == newer
    with pytest.raises(ValueError, match="another node"):
        server.update_enr(ENR.create(PrivateKey.from_seed(b"someone-else"), 7))


async def test_expired_and_malformed_packets_are_counted_and_dropped() -> None:
    net, clock = MemNet(), Clock()
    server = _server(net, clock, [])
    stale, _ = wire.encode(wire.ENRRequest(int(clock.now) - 1), PrivateKey.from_seed(b"x"))
    server.datagram_received(stale, A)
    server.datagram_received(b"\x00" * 50, A)
    server.datagram_received(b"\x01" * 200, A)
    assert server.stats["err:expired"] == 1
    assert server.stats["err:decode"] + server.stats["err:signature"] == 2
    assert server.stats["sent:enrresponse"] == 0


async def test_unsolicited_reply_is_counted_not_matched() -> None:
    net, clock = MemNet(), Clock()
    client = make_service(net, "client", A, clock)
    pong, _ = wire.encode(
        wire.Pong(wire.Endpoint(None, 0, 0), bytes(32), int(clock.now) + 20), PrivateKey.from_seed(b"stranger")
    )
    client.datagram_received(pong, B)
    assert client.stats["err:unsolicited"] == 1
    assert not client.bonds.is_bonded(PrivateKey.from_seed(b"stranger").node_id)


async def test_timeouts_are_retried_then_reported() -> None:
    net, clock = MemNet(), Clock()
    cfg = ServiceConfig(timeout=0.05, retries=2, bond_wait=0.01)
    client = make_service(net, "client", A, clock, cfg)
    silent = make_service(net, "silent", B, clock)
    net.drop = lambda _s, dst, _d: dst == B
    with pytest.raises(RequestTimeout):
        await client.ping(peer_of(silent))
    assert client.stats["sent:ping"] == 3 and client.stats["timeout:ping"] == 3


async def test_bond_expires_with_the_clock() -> None:
    net, clock = MemNet(), Clock()
    client, server = make_service(net, "client", A, clock), _server(net, clock, _entries(2))
    await client.bond(peer_of(server))
    await asyncio.sleep(0.01)
    assert (await client.findnode(peer_of(server), bytes(64))).nodes
    clock.now += 25 * 3600  # past geth's 24 h bond lifetime
    with pytest.raises(RequestTimeout):
        await client.findnode(peer_of(server), bytes(64))
    assert server.stats["drop:findnode_unbonded"] == 1


async def test_netrestrict_refuses_sends_outside_range() -> None:
    net, clock = MemNet(), Clock()
    client = make_service(net, "client", A, clock)
    sender = net.endpoint(A, client, netrestrict="127.0.0.0/8")
    client.attach(sender, A)
    public = peer_of(_server(net, clock, [], ("203.0.113.5", 30303)))
    from monitor.errors import NetrestrictError

    with pytest.raises(NetrestrictError):
        await client.ping(public)
    assert sender.refused == 1
    assert all(dst[0].startswith("127.") for _src, dst, _d in net.log)


async def test_a_cancel_arriving_with_the_pong_is_not_swallowed() -> None:
    """The crawl's deadline cancels a PING whose PONG arrives in the same loop turn: the PING must end cancelled
    (Python 3.11's wait_for returned the PONG instead, and the crawl waited for ever on that worker)."""
    net, clock = MemNet(), Clock()
    client, server = make_service(net, "client", A, clock), _server(net, clock, [])
    request = asyncio.create_task(client.ping(peer_of(server)))

    class CancelOnAnswer:
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            client.datagram_received(data, addr)
            request.cancel()

    net.handlers[A] = CancelOnAnswer()
    with pytest.raises(asyncio.CancelledError):
        await request
