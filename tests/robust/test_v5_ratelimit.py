"""discv5: requests inside an established session are rate-limited per source like discv4's (counted)."""

from __future__ import annotations

import asyncio
import ipaddress

from memnet import Clock, MemNet

from monitor.discovery.enr import ENR
from monitor.discovery.v5.service import Discv5Service, Peer, ServiceConfig
from monitor.errors import RequestTimeout
from monitor.p2p.keys import PrivateKey
from monitor.p2p.ratelimit import RateLimit

A, B = ("10.5.0.1", 9001), ("10.5.0.2", 9002)


def _service(net: MemNet, seed: str, addr: tuple[str, int], clock: Clock, limit: RateLimit) -> Discv5Service:
    key = PrivateKey.from_seed(seed.encode())
    record = ENR.create(key, 1, ip=ipaddress.IPv4Address(addr[0]), udp=addr[1])
    svc = Discv5Service(key, record, ServiceConfig(timeout=0.2, retries=0, rate_limit=limit), now=clock)
    svc.attach(net.endpoint(addr, svc), addr)
    return svc


async def test_ping_flood_inside_a_session_is_dropped_beyond_the_budget() -> None:
    net, clock = MemNet(), Clock()  # the clock stands still: no bucket refills during the test
    limit = RateLimit(per_address=5.0, burst_seconds=2.0)  # 10 requests, then nothing until it refills
    asker = _service(net, "asker", A, clock, RateLimit(enabled=False))
    server = _service(net, "server", B, clock, limit)
    assert server.enr is not None
    peer = Peer.from_enr(server.enr)
    answered = 0
    for _ in range(25):
        try:
            await asker.ping(peer)
            answered += 1
        except RequestTimeout:  # once the budget is spent
            pass
    await asyncio.sleep(0)
    assert answered == 10
    assert server.stats["drop:ratelimited"] == 15
    await asker.close()
    await server.close()
