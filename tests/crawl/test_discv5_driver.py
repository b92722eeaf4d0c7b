"""discv5 driver over the in-memory network: stop rules, record fetching, the address policy, failures."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from memnet import Clock, MemNet

from monitor.crawl.discv5 import Discv5Driver, WalkConfig
from monitor.discovery.enr import ENR
from monitor.discovery.v5.service import Discv5Service, Peer, ServiceConfig
from monitor.p2p.keys import PrivateKey, log_distance
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import Address

CRAWLER: Address = ("127.51.0.1", 21001)
SERVER: Address = ("127.51.0.2", 21002)
LOOPBACK = NetRestrict.parse("127.0.0.0/8")
SERVER_KEY = PrivateKey.from_seed(b"driver-server")


def _records_at(distance: int, count: int, ip: str = "127.51.8.1") -> list[ENR]:
    out, i = [], 0
    while len(out) < count:
        key = PrivateKey.from_seed(f"d{distance}/{i}".encode())
        i += 1
        if log_distance(key.node_id, SERVER_KEY.node_id) == distance:
            out.append(ENR.create(key, 1, ip=ipaddress.IPv4Address(ip), udp=21800 + len(out)))
    return out


def _setup(
    table: dict[int, list[ENR]], server_seq: int = 3, per_request: int = 1
) -> tuple[MemNet, Discv5Driver, Discv5Service, Peer]:
    net, clock = MemNet(), Clock()
    config = ServiceConfig(timeout=0.2, retries=1)

    def nodes_at(distances: Sequence[int]) -> list[ENR]:
        return [r for d in distances for r in table.get(d, [])]

    record = ENR.create(SERVER_KEY, server_seq, ip=ipaddress.IPv4Address(SERVER[0]), udp=SERVER[1])
    server = Discv5Service(SERVER_KEY, record, config, now=clock, nodes_at=nodes_at)
    server.attach(net.endpoint(SERVER, server), SERVER)
    crawler = Discv5Service(PrivateKey.from_seed(b"driver-crawler"), None, config, now=clock)
    crawler.attach(net.endpoint(CRAWLER, crawler), CRAWLER)
    return (
        net,
        Discv5Driver(crawler, LOOPBACK, WalkConfig(distances_per_request=per_request)),
        server,
        Peer.from_enr(record),
    )


async def test_walk_stops_after_two_empty_distances_in_a_row() -> None:
    table = {256: _records_at(256, 3), 255: _records_at(255, 2), 252: _records_at(252, 1)}
    _net, driver, server, peer = _setup(table)
    visit = await driver.visit(peer)
    assert visit.answered_ping and visit.pong_enr_seq == 3 and not visit.enr_fetched
    assert visit.findnode_sent == 4 and visit.deepest_distance == 253  # 254 and 253 came back empty
    assert len(visit.neighbors) == 5 and server.stats["recv:findnode"] == 4


async def test_a_sparse_bucket_does_not_stop_the_walk() -> None:
    table = {256: _records_at(256, 3), 254: _records_at(254, 1), 252: _records_at(252, 1)}
    _net, driver, _server, peer = _setup(table)
    visit = await driver.visit(peer)
    assert visit.returned == 5 and visit.deepest_distance == 250  # stopped by 251 and 250, after 252's node


async def test_several_distances_a_request_resume_where_the_16_record_cap_cut_the_answer() -> None:
    table = {256: _records_at(256, 16), 255: _records_at(255, 3)}
    _net, driver, _server, peer = _setup(table, per_request=2)
    visit = await driver.visit(peer)
    assert visit.returned == 19  # [256, 255] gave 256's 16 only; [255, 254] then gave 255's 3
    assert visit.findnode_sent == 3 and visit.deepest_distance == 252


async def test_record_fetched_only_when_the_pong_announces_a_newer_one() -> None:
    _net, driver, server, peer = _setup({}, server_seq=3)
    stale = Peer.from_enr(ENR.create(SERVER_KEY, 2, ip=ipaddress.IPv4Address(SERVER[0]), udp=SERVER[1]))
    visit = await driver.visit(stale)
    assert visit.enr_fetched and visit.enr == server.enr and driver.result_version(visit) == 3
    unknown = Peer(SERVER_KEY.pubkey, SERVER[0], SERVER[1])  # a seed without record: always fetched
    assert (await driver.visit(unknown)).enr == server.enr
    current = await driver.visit(peer)
    assert not current.enr_fetched and current.enr == server.enr


async def test_nodes_outside_netrestrict_are_counted_once_and_never_queued() -> None:
    public = _records_at(256, 2, ip="8.8.8.8")
    local = _records_at(255, 2)
    _net, driver, _server, peer = _setup({256: public, 255: local})
    visit = await driver.visit(peer)
    assert set(visit.neighbors) == {r.node_id for r in local}
    assert visit.returned == 4 and driver.filtered == {"outside_netrestrict": 2}
    await driver.visit(peer)
    assert driver.filtered == {"outside_netrestrict": 2}


async def test_unreachable_node_is_a_timeout_failure_not_an_exception() -> None:
    net, driver, _server, peer = _setup({})
    net.drop = lambda _s, _d, _b: True
    visit = await driver.visit(peer)
    assert visit.failure == "timeout" and not driver.answered(visit)
    assert driver.errors == {"ping_timeout": 1}


async def test_walk_stops_after_repeated_timeouts() -> None:
    net, driver, _server, peer = _setup({256: _records_at(256, 3)})
    pings = [0]

    def only_first_exchange(src: Address, _dst: Address, _data: bytes) -> bool:
        pings[0] += src == CRAWLER
        return pings[0] > 2  # random packet + handshake (the PING) pass; every FINDNODE is lost

    net.drop = only_first_exchange
    visit = await driver.visit(peer)
    assert visit.answered_ping and visit.findnode_sent == 2 and visit.findnode_answered == 0
    assert driver.errors["findnode_timeout"] == 2


async def test_pinged_announces_newer_records_only() -> None:
    _net, driver, _server, peer = _setup({})
    await driver.visit(peer)
    same = Peer(SERVER_KEY.pubkey, SERVER[0], SERVER[1], enr_seq=3)
    newer = Peer(SERVER_KEY.pubkey, SERVER[0], SERVER[1], enr_seq=4)
    public = Peer(SERVER_KEY.pubkey, "8.8.8.8", SERVER[1], enr_seq=9)
    assert driver.pinged(same) is None and driver.pinged(newer) is newer and driver.pinged(public) is None
