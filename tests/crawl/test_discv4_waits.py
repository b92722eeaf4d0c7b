"""The discv4 crawler waits only where the peer needs it: no fixed bond wait, requests re-sent after a bonding
peer's PING, one more PING when that PING was lost, adaptive timeouts, a global send rate (in-memory pipe)."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from memnet import Clock, MemNet, make_service, peer_of

from monitor.crawl.discv4 import Discv4Driver
from monitor.discovery.enr import ENR
from monitor.discovery.v4.service import Discv4Service, ServiceConfig
from monitor.discovery.v4.wire import NodeEntry
from monitor.errors import RequestTimeout
from monitor.p2p.keys import NodeID, PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.pacing import Pacer
from monitor.p2p.rtt import MIN_SAMPLES

pytestmark = pytest.mark.timeout(30)

CRAWLER = ("127.60.0.1", 28001)
PEER = ("127.60.0.2", 28002)
LOOPBACK = NetRestrict.parse("127.0.0.0/8")
PING, FINDNODE, ENRREQUEST = 1, 3, 5


def _table(n: int) -> list[NodeEntry]:
    keys = [PrivateKey.from_seed(f"entry{i}".encode()) for i in range(n)]
    return [NodeEntry(ipaddress.IPv4Address(f"127.61.0.{i + 1}"), 30303, 30303, k.pubkey) for i, k in enumerate(keys)]


def _peer(net: MemNet, clock: Clock, config: ServiceConfig, table: list[NodeEntry], enr: bool = True) -> Discv4Service:
    key = PrivateKey.from_seed(b"peer")
    record = ENR.create(key, 3, ip=ipaddress.IPv4Address(PEER[0]), udp=PEER[1], tcp=PEER[1]) if enr else None
    return make_service(net, "peer", PEER, clock, config, enr=record, neighbors_of=lambda _t: table)


def _crawler(net: MemNet, clock: Clock, timeout: float = 5.0, min_timeout: float | None = 0.05) -> Discv4Driver:
    """A crawler whose timeouts have adapted to a fast network (the first peers of a crawl wait the full timeout)."""
    config = ServiceConfig(timeout=timeout, retries=1, min_timeout=min_timeout)
    service = make_service(net, "crawler", CRAWLER, clock, config)
    if service.rtt is not None:
        for i in range(MIN_SAMPLES):
            service.rtt.observe(NodeID(i.to_bytes(32, "big")), 0.001)
    return Discv4Driver(service, LOOPBACK, clock=clock)


def _sent(net: MemNet, src: tuple[str, int], kind: int) -> int:
    return sum(1 for s, _d, data in net.log if s == src and data[97] == kind)


async def test_peer_that_never_pings_back_costs_no_bond_wait() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(ping_back=False, require_bond=False), _table(5))
    crawler = _crawler(net, clock)
    loop = asyncio.get_running_loop()
    started = loop.time()
    visit = await crawler.visit(peer_of(peer))
    assert loop.time() - started < 0.3  # the old crawler waited 0.5 s here for a PING that never comes
    assert visit.answered_ping and not visit.pinged_us
    assert visit.returned == 5 and visit.enr is not None
    assert crawler.service.stats["resent_after_ping:findnode"] == 0
    assert _sent(net, CRAWLER, FINDNODE) == 2  # two short answers settle the walk; nothing sent twice


async def test_bonding_peer_gets_first_requests_again_right_after_its_ping() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(), _table(5))  # geth's rule: answers only after our PONG
    crawler = _crawler(net, clock)
    visit = await crawler.visit(peer_of(peer))
    assert visit.answered_ping and visit.pinged_us
    assert peer.stats["drop:findnode_unbonded"] == 1  # sent right after the PONG: before the peer's bond
    assert crawler.service.stats["resent_after_ping:findnode"] == 1
    # The ENRREQUEST is sent again too if it left before the peer's PING arrived; never more than that.
    assert _sent(net, CRAWLER, ENRREQUEST) == 1 + crawler.service.stats["resent_after_ping:enrrequest"]
    assert visit.returned == 5 and visit.enr is not None and visit.enr.seq == 3
    assert crawler.errors["findnode_timeout"] == 0


async def test_lost_ping_from_bonding_peer_is_recovered_with_one_more_ping() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(), _table(5))
    dropped: list[bytes] = []

    def drop_first_ping(src: tuple[str, int], _dst: tuple[str, int], data: bytes) -> bool:
        if src == PEER and data[97] == PING and not dropped:
            dropped.append(data)
            return True
        return False

    net.drop = drop_first_ping
    crawler = _crawler(net, clock)
    visit = await crawler.visit(peer_of(peer))
    assert dropped and crawler.errors["findnode_rebond"] == 1
    assert visit.returned == 5 and visit.enr is not None
    assert _sent(net, CRAWLER, PING) == 2


async def test_peer_without_enr_seq_gets_one_enr_request_and_no_second_chance() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(ping_back=False, require_bond=False), _table(3), enr=False)
    crawler = _crawler(net, clock)
    visit = await crawler.visit(peer_of(peer))
    assert visit.pong_enr_seq is None and visit.enr is None and visit.enr_error == "timeout"
    assert _sent(net, CRAWLER, ENRREQUEST) == 1  # the old crawler sent four


async def test_timeouts_follow_the_measured_round_trip() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(ping_back=False, require_bond=False), [])
    peer.neighbors_of = None  # a peer that answers PING but never FINDNODE
    crawler = _crawler(net, clock, timeout=5.0, min_timeout=0.05)
    service = crawler.service
    await service.ping(peer_of(peer))
    assert service.rtt is not None and service.rtt.timeout(peer.own_id) == pytest.approx(0.05)  # floor: ~0 RTT
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RequestTimeout):
        await service.findnode(peer_of(peer), bytes(64))
    assert loop.time() - started < 1.0  # 0.05 + 0.1 (doubled retry), not 2 x 5 s


async def test_fixed_timeouts_when_adaptation_is_off() -> None:
    net, clock = MemNet(), Clock()
    crawler = _crawler(net, clock, timeout=0.3, min_timeout=None)
    assert crawler.service.rtt is None
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RequestTimeout):
        await crawler.service.ping(peer_of(make_service(MemNet(), "nobody", ("127.60.0.9", 1), clock)))
    assert loop.time() - started >= 0.59  # two attempts of 0.3 s each


async def test_send_rate_limit_spaces_requests() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(ping_back=False, require_bond=False), [])
    crawler = _crawler(net, clock)
    crawler.service.pacer = Pacer(rate=100.0, burst=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(crawler.service.ping(peer_of(peer)) for _ in range(6)))
    assert loop.time() - started >= 0.045  # 5 of the 6 waited 10 ms each for a token
    assert crawler.service.pacer.waited == 5


async def test_late_pong_to_a_timed_out_attempt_still_answers_the_retry() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(ping_back=False, require_bond=False), [])
    crawler = _crawler(net, clock, timeout=0.1, min_timeout=None)
    held: list[bytes] = []
    loop = asyncio.get_running_loop()

    def delay_pongs(src: tuple[str, int], dst: tuple[str, int], data: bytes) -> bool:
        if src == PEER and data[97] == 2:
            if not held:  # the first PONG arrives 0.15 s late: during the retry; the retry's own is lost
                held.append(data)
                loop.call_later(0.15, net.handlers[dst].datagram_received, data, src)
            return True
        return False

    net.drop = delay_pongs
    pong = await crawler.service.ping(peer_of(peer))
    assert pong.enr_seq == 3 and held
    assert crawler.service.stats["timeout:ping"] == 1


async def test_late_answer_is_timed_from_its_own_attempt() -> None:
    net, clock = MemNet(), Clock()
    peer = _peer(net, clock, ServiceConfig(ping_back=False, require_bond=False), [])
    crawler = _crawler(net, clock, timeout=1.0, min_timeout=0.05)  # unknown peers: 0.05 s, then 0.1 s
    loop = asyncio.get_running_loop()
    held: list[bytes] = []

    def delay_first_pong(src: tuple[str, int], dst: tuple[str, int], data: bytes) -> bool:
        if src == PEER and data[97] == 2:
            if not held:
                held.append(data)
                loop.call_later(0.1, net.handlers[dst].datagram_received, data, src)
            return True
        return False

    net.drop = delay_first_pong
    await crawler.service.ping(peer_of(peer))
    rtt = crawler.service.rtt
    assert rtt is not None
    assert rtt.timeout(peer.own_id) >= 0.25  # ~3 x the 0.1 s the late answer took, not the 0.05 s of a stranger
