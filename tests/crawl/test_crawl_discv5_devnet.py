"""End-to-end discv5 crawl on loopback: our own 300-node devnet, crawled by the driver through the engine."""

from __future__ import annotations

import pytest

from monitor.crawl.discv5 import Discv5Driver, Visit
from monitor.crawl.engine import CrawlEngine, EngineConfig, EngineResult
from monitor.discovery.v5.service import Discv5Service, Peer, ServiceConfig
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import UDPTransport
from monitor.sim.devnet_v5 import DevnetV5, DevnetV5Spec, run_devnet_v5

pytestmark = pytest.mark.timeout(120)

CRAWLER = ("127.51.0.1", 21000)  # devnet addresses never use .0. in the third octet


async def _crawl(net: DevnetV5, netrestrict: NetRestrict) -> tuple[EngineResult[Peer, Visit], Discv5Driver]:
    service = Discv5Service(PrivateKey.from_seed(b"v5-crawler"), None, ServiceConfig(timeout=1.0, retries=1))
    transport = await UDPTransport.open(service, CRAWLER[0], CRAWLER[1], netrestrict, service.stats)
    service.attach(transport, CRAWLER)
    driver = Discv5Driver(service, netrestrict)
    engine: CrawlEngine[Peer, Visit] = CrawlEngine(driver, EngineConfig(concurrency=64, duration=90))
    try:
        return await engine.run([Peer.from_enr(net.bootnodes[0])]), driver
    finally:
        transport.close()
        await service.close()


async def test_crawl_of_300_node_v5_devnet_finds_every_node() -> None:
    spec = DevnetV5Spec(nodes=300, seed=21, first_ip="127.51.0.1", port=21500)
    async with run_devnet_v5(spec) as net:
        result, driver = await _crawl(net, NetRestrict.parse("127.51.0.0/16"))
        served = sum(n.service.stats["recv:findnode"] for n in net.nodes if n.service is not None)
    truth = {n.key.node_id: n for n in net.nodes}
    assert set(result.tasks) == set(truth)  # every node, and nothing else (not the crawler itself)
    assert not result.deadline_hit and len(result.results) == 300
    for node_id, visit in result.results.items():
        node = truth[node_id]  # type: ignore[index]
        assert visit.answered_ping and visit.failure is None and visit.findnode_answered > 0
        assert visit.enr == node.enr and (visit.ip, visit.udp) == (node.ip, node.port)
    assert driver.errors == {} and driver.filtered == {}
    assert served >= 300


async def test_v5_crawl_contacts_nobody_outside_netrestrict() -> None:
    """Only 127.51.0.0/20 is allowed: the crawl visits nodes there only, counts the others, and sends them nothing."""
    spec = DevnetV5Spec(nodes=60, seed=22, first_ip="127.51.0.1", port=21600)
    async with run_devnet_v5(spec) as net:
        inside = {n.key.node_id for n in net.nodes if int(n.ip.split(".")[2]) < 16}
        result, driver = await _crawl(net, NetRestrict.parse("127.51.0.0/20"))
        outside_traffic = sum(
            n.service.stats["datagrams_in"] for n in net.nodes if n.key.node_id not in inside and n.service
        )
    assert result.results and set(result.results) <= inside
    assert driver.filtered["outside_netrestrict"] > 0 and outside_traffic == 0
