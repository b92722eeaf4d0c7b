"""discv5 against an independent implementation (@chainsafe/discv5 in Node.js) on loopback, both directions."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import pytest
from peers.fixtures import require_node
from peers.harness import PEERS_DIR, run_until_ready, script_argv

from monitor.discovery.enr import ENR
from monitor.discovery.v5.service import Discv5Service, Peer, ServiceConfig
from monitor.p2p.keys import PrivateKey, log_distance
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import UDPTransport

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]

THEIRS = ("127.51.200.1", 21900)
OURS = ("127.51.200.2", 21901)
LOOPBACK = NetRestrict.parse("127.0.0.0/8")


async def _our_service() -> tuple[Discv5Service, UDPTransport]:
    key = PrivateKey.from_seed(b"v5-interop-ours")
    record = ENR.create(key, 5, ip=ipaddress.IPv4Address(OURS[0]), udp=OURS[1])
    service = Discv5Service(key, record, ServiceConfig(timeout=1.0, retries=2))
    transport = await UDPTransport.open(service, OURS[0], OURS[1], LOOPBACK, service.stats)
    service.attach(transport, OURS)
    return service, transport


@pytest.fixture
async def ours() -> AsyncIterator[Discv5Service]:
    require_node()
    service, transport = await _our_service()
    try:
        yield service
    finally:
        transport.close()
        await service.close()


def _table_records(count: int) -> list[ENR]:
    return [
        ENR.create(
            PrivateKey.from_seed(f"v5-interop/{i}".encode()),
            1,
            ip=ipaddress.IPv4Address(f"127.51.201.{i + 1}"),
            udp=21950,
        )
        for i in range(count)
    ]


async def test_we_handshake_ping_fetch_the_record_and_walk_their_table(ours: Discv5Service) -> None:
    table = _table_records(8)
    argv = script_argv(PEERS_DIR / "discv5_node.mjs", THEIRS[0], str(THEIRS[1]), "1", *(r.to_text() for r in table))
    with run_until_ready(argv, "discv5 peer", timeout=30) as ready:
        theirs = ENR.from_text(ready["enr"])
        assert theirs.node_id.hex() == ready["node_id"]
        peer = Peer.from_enr(theirs)
        assert await ours.ping(peer) == theirs.seq
        assert await ours.request_enr(peer) == theirs
        distances = sorted({log_distance(r.node_id, theirs.node_id) for r in table}, reverse=True)
        result = await ours.findnode(peer, distances)
    assert ours.stats["session:handshake_sent"] == 1  # one handshake, then plain messages
    assert result.complete and result.invalid == 0
    assert set(result.records) == {r.node_id for r in table}


async def test_they_handshake_and_ping_us(ours: Discv5Service) -> None:
    pinged: list[Peer] = []
    ours.on_ping = pinged.append
    assert ours.enr is not None
    argv = script_argv(PEERS_DIR / "discv5_node.mjs", THEIRS[0], str(THEIRS[1]), "2", "--ping", ours.enr.to_text())
    with run_until_ready(argv, "discv5 peer", timeout=30) as ready:
        for _ in range(100):
            if pinged:
                break
            await asyncio.sleep(0.05)
    assert ours.stats["handshake:accepted"] >= 1 and ours.stats["sent:pong"] >= 1
    assert pinged and pinged[0].id.hex() == ready["node_id"] and pinged[0].addr == THEIRS
