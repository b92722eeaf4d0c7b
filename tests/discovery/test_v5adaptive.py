"""discv5 service under load, over the in-memory network: a late answer completes the request it belongs to,
timeouts follow measured round trips, requests pass the pacer; the crawl's discv5 part wires both."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from memnet import Clock, MemNet

from monitor.crawl import discv5
from monitor.crawl.protocols import Timing, open_discv5
from monitor.discovery.enr import ENR
from monitor.discovery.v5.service import Discv5Service, Peer, ServiceConfig
from monitor.errors import RequestTimeout
from monitor.p2p.keys import NodeID, PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.pacing import Pacer
from monitor.p2p.rtt import MIN_SAMPLES
from monitor.p2p.udp import Address

CRAWLER: Address = ("127.69.1.1", 20101)
SERVER: Address = ("127.69.1.2", 20102)
DEAD: Address = ("127.69.1.3", 20103)


def _service(net: MemNet, seed: str, addr: Address, config: ServiceConfig, **kw: object) -> Discv5Service:
    key = PrivateKey.from_seed(seed.encode())
    record = ENR.create(key, 3, ip=ipaddress.IPv4Address(addr[0]), udp=addr[1])
    svc = Discv5Service(key, record, config, now=Clock(), **kw)  # type: ignore[arg-type]
    svc.attach(net.endpoint(addr, svc), addr)
    return svc


def _peer(svc: Discv5Service) -> Peer:
    assert svc.enr is not None
    return Peer.from_enr(svc.enr)


async def test_a_late_pong_to_a_timed_out_attempt_completes_the_request_without_a_new_handshake() -> None:
    net = MemNet()
    crawler = _service(net, "crawler", CRAWLER, ServiceConfig(timeout=0.2, retries=1))
    server = _service(net, "server", SERVER, ServiceConfig())
    sent = {CRAWLER: 0, SERVER: 0}
    loop = asyncio.get_running_loop()

    def delay_the_pong_lose_the_retry(src: Address, dst: Address, data: bytes) -> bool:
        sent[src] += 1
        if src == SERVER and sent[src] == 2:  # WHOAREYOU, then the PONG: it arrives after the first timeout
            loop.call_later(0.3, crawler.datagram_received, data, src)
            return True
        return src == CRAWLER and sent[src] >= 3  # random packet, handshake, then the retry: lost

    net.drop = delay_the_pong_lose_the_retry
    assert await crawler.ping(_peer(server)) == 3
    assert crawler.stats["timeout:ping"] == 1
    assert crawler.stats["whoareyou:sent"] == 0 and server.stats["handshake:accepted"] == 1
    assert crawler.sessions.has_session(server.own_id, SERVER, crawler.now())


def _warm(service: Discv5Service, rtt: float) -> None:
    """As if the crawl had already timed many first answers at ``rtt``."""
    assert service.rtt is not None
    for i in range(MIN_SAMPLES):
        service.rtt.observe(NodeID((50_000 + i).to_bytes(32, "big")), rtt)


async def test_a_dead_peer_costs_the_learned_timeout_not_the_configured_one() -> None:
    net = MemNet()
    crawler = _service(net, "crawler", CRAWLER, ServiceConfig(timeout=2.0, retries=1, min_timeout=0.05))
    _warm(crawler, 0.001)  # the network answers within a millisecond: wait the floor, 0.05 s, then 0.1 s
    dead = Peer(PrivateKey.from_seed(b"dead").pubkey, *DEAD)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RequestTimeout):
        await crawler.ping(dead)
    assert loop.time() - started < 1.0  # fixed timeouts: 2 x 2.0 s
    assert crawler.stats["timeout:ping"] == 2


async def test_answers_are_timed_per_peer_and_fixed_timeouts_measure_nothing() -> None:
    net = MemNet()
    adaptive = _service(net, "crawler", CRAWLER, ServiceConfig(timeout=1.0, min_timeout=0.05))
    fixed = _service(net, "crawler2", DEAD, ServiceConfig(timeout=1.0))
    server = _service(net, "server", SERVER, ServiceConfig())
    await adaptive.ping(_peer(server))
    await fixed.ping(_peer(server))
    assert adaptive.rtt is not None and len(adaptive.rtt) == 1
    assert adaptive.rtt.timeout(server.own_id) <= 1.0
    assert fixed.rtt is None


async def test_requests_wait_for_the_pacer() -> None:
    net = MemNet()
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    pacer = Pacer(rate=10.0, burst=1.0, clock=lambda: 0.0, sleep=sleep)  # one token, and time stands still
    crawler = _service(net, "crawler", CRAWLER, ServiceConfig(timeout=1.0), pacer=pacer)
    server = _service(net, "server", SERVER, ServiceConfig())
    await crawler.ping(_peer(server))
    await crawler.ping(_peer(server))
    assert pacer.waited == 1 and slept == [pytest.approx(0.1)]


async def test_the_crawls_discv5_part_paces_and_adapts() -> None:
    timing = Timing(concurrency=4, duration=1.0, timeout=0.5, retries=1, min_timeout=0.1, send_rate=100.0)
    key = PrivateKey.from_seed(b"part")
    part = await open_discv5(
        key, [], "127.69.1.9", 20109, NetRestrict.parse("127.69.0.0/16"), timing, discv5.WalkConfig()
    )
    try:
        assert part.pacer is not None and part.service.pacer is part.pacer
        assert part.service.rtt is not None and part.service.rtt.ceiling == 0.5
    finally:
        await part.close()
