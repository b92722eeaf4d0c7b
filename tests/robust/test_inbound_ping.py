"""Issue 16, defects 2 and 7: a PING never makes a node record before its sender answered our own PING from the
address it claimed, and unsolicited packets are rate-limited per source (both counted)."""

from __future__ import annotations

import asyncio
import ipaddress
import time

from memnet import Clock, MemNet, make_service

from monitor.crawl.discv4 import WalkConfig
from monitor.crawl.protocols import Timing, open_discv4
from monitor.discovery.enode import Enode
from monitor.discovery.v4.protocol import expiration_from
from monitor.discovery.v4.service import Peer, ServiceConfig
from monitor.discovery.v4.wire import Endpoint, Ping, decode, encode
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict


def _ping_bytes(key: PrivateKey, src: tuple[str, int], dst: tuple[str, int], now: float, seq: int) -> bytes:
    ping = Ping(
        4,
        Endpoint(ipaddress.ip_address(src[0]), src[1], src[1]),
        Endpoint(ipaddress.ip_address(dst[0]), dst[1], 0),
        expiration_from(now),
        seq,
    )
    return encode(ping, key)[0]


async def test_spoofed_ping_never_becomes_a_node_but_a_real_one_does() -> None:
    net, clock = MemNet(), Clock()
    crawler = make_service(net, "crawler", ("10.0.0.1", 30303), clock, ServiceConfig(timeout=0.1, retries=0))
    honest = make_service(net, "honest", ("10.0.0.2", 30303), clock)
    submitted: list[Peer] = []
    crawler.on_ping = lambda peer: crawler.verify_then(peer, lambda: submitted.append(peer))
    # The reproduction: a PING with an enr-seq, signed by a fresh key, from an address where nobody answers.
    rogue = PrivateKey.from_seed(b"rogue")
    here = crawler.local_address
    net.deliver(("10.9.9.9", 1234), here, _ping_bytes(rogue, ("10.9.9.9", 1234), here, clock.now, 7))
    net.deliver(honest.local_address, here, _ping_bytes(honest.key, honest.local_address, here, clock.now, 3))
    await asyncio.sleep(0.3)
    # The honest node PINGs us once more when it bonds with us: known by then, so no second check.
    assert {p.id for p in submitted} == {honest.key.node_id}
    assert crawler.stats["ping:verified"] == 1 and crawler.stats["ping:unverified"] == 1
    await crawler.close()
    await honest.close()


async def test_crawl_driver_gets_no_task_from_a_ping_whose_sender_never_answers() -> None:
    """The same through the crawl's wiring (protocols.open_discv4), on real loopback sockets."""
    key = PrivateKey.from_seed(b"crawler-ping")
    boot = Peer(PrivateKey.from_seed(b"nobody").pubkey, "127.64.0.3", 29003)
    timing = Timing(concurrency=4, duration=1.5, timeout=0.3, retries=1)  # the dead bootnode keeps it running 0.6 s
    bootnode = Enode(boot.pubkey, ipaddress.IPv4Address(boot.ip), boot.udp, boot.udp)
    part = await open_discv4(key, [bootnode], "127.64.0.1", 29001, NetRestrict.parse("127.64.0.0/16"), timing,
                             WalkConfig())  # fmt: skip
    loop = asyncio.get_running_loop()
    rogue_key = PrivateKey.from_seed(b"rogue-udp")
    transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.64.0.2", 29002))
    try:
        run = asyncio.create_task(part.run())
        await asyncio.sleep(0.05)
        transport.sendto(_ping_bytes(rogue_key, ("127.64.0.2", 29002), ("127.64.0.1", 29001), time.time(), 9),
                         ("127.64.0.1", 29001))  # fmt: skip
        result = await run
        await asyncio.sleep(0.7)  # the verification PING's own timeout and retry
    finally:
        transport.close()
        await part.close()
    assert rogue_key.node_id not in result.tasks
    assert part.stats["recv:ping"] == 1 and part.stats["ping:unverified"] == 1


async def test_ping_flood_from_one_source_is_rate_limited_and_counted() -> None:
    net, clock = MemNet(), Clock()
    server = make_service(net, "server", ("10.0.0.1", 30303), clock, ServiceConfig(ping_back=False))
    flooder = PrivateKey.from_seed(b"flooder")
    src = ("10.0.0.66", 4000)
    for _ in range(1000):  # the clock stands still: no bucket refills
        net.deliver(src, server.local_address, _ping_bytes(flooder, src, server.local_address, clock.now, 1))
    await asyncio.sleep(0.05)
    limit = server.config.rate_limit
    burst = int(limit.per_address * limit.burst_seconds)
    assert server.stats["sent:pong"] == burst
    assert server.stats["drop:ratelimited"] == 1000 - burst
    sent = [d for s, _d, d in net.log if s == server.local_address]
    assert all(decode(d).packet.TYPE == 2 for d in sent)  # only PONGs, and no more than the bucket allowed
    await server.close()


async def test_many_ports_of_one_ip_share_the_per_ip_budget() -> None:
    net, clock = MemNet(), Clock()
    server = make_service(net, "server", ("10.0.0.1", 30303), clock, ServiceConfig(ping_back=False))
    key = PrivateKey.from_seed(b"spoofer")
    limit = server.config.rate_limit
    total = int(limit.per_ip * limit.burst_seconds) + 500
    for i in range(total):
        src = ("10.0.0.77", 1024 + i)
        net.deliver(src, server.local_address, _ping_bytes(key, src, server.local_address, clock.now, 1))
    await asyncio.sleep(0.2)
    assert server.stats["drop:ratelimited"] == 500
    await server.close()
