"""Crawl + RLPx end to end against independent @ethereumjs/devp2p RLPx peers (Node.js) on loopback.

devp2p's RLPx peers do not run discovery here, so each one gets a discv4 front in Python holding the SAME node
key (the peers derive theirs from keccak256("rlpx-network/<seed>/<i>")) and advertising the peer's TCP port: the
crawler discovers them over UDP from us and dials their real RLPx endpoints, where devp2p answers Hello and Status.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from peers.fixtures import require_node
from peers.rlpx_harness import start_rlpx_network

from monitor.crawl.rlpx_stage import RlpxSettings
from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.discovery.enode import Enode
from monitor.discovery.enr import ENR
from monitor.discovery.forkid import ForkId
from monitor.discovery.network import mainnet_filter
from monitor.discovery.v4.service import Discv4Service, ServiceConfig
from monitor.discovery.v4.wire import NodeEntry
from monitor.p2p.keys import PrivateKey, keccak256
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import UDPTransport

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

SEED, FULL, N = 5, 3, 24


def _key(seed: int, index: int) -> PrivateKey:
    for retry in range(10):
        suffix = f"/{retry}" if retry else ""
        try:
            return PrivateKey(keccak256(f"rlpx-network/{seed}/{index}{suffix}".encode()))
        except ValueError:
            continue
    raise AssertionError("no valid key")


@pytest.fixture(scope="module")
def rlpx_peers() -> Any:
    require_node()
    with start_rlpx_network(N, seed=SEED, base="127.5.0.1", tcp_port=41303, full=FULL) as net:
        yield net


@pytest.fixture
async def discovery_fronts(rlpx_peers: dict[str, Any]) -> AsyncIterator[list[Enode]]:
    loopback = NetRestrict.parse("127.0.0.0/8")
    nodes = rlpx_peers["nodes"]
    keys = [_key(SEED, i) for i in range(len(nodes))]
    assert [k.pubkey.hex() for k in keys] == [n["pubkey"] for n in nodes]  # the fronts really are those nodes
    entries = [
        NodeEntry(ipaddress.IPv4Address(n["ip"]), 30303, n["tcp"], k.pubkey) for n, k in zip(nodes, keys, strict=True)
    ]
    ids = [int.from_bytes(k.node_id, "big") for k in keys]

    def closest(target: bytes) -> list[NodeEntry]:  # a Kademlia answer: the 16 entries nearest the target
        t = int.from_bytes(target, "big")
        return [entries[i] for i in sorted(range(len(entries)), key=lambda i: ids[i] ^ t)[:16]]

    running = []
    for node, key in zip(nodes, keys, strict=True):
        record = ENR.create(key, 1, ip=ipaddress.IPv4Address(node["ip"]), udp=30303, tcp=node["tcp"])
        svc = Discv4Service(key, node["tcp"], ServiceConfig(), enr=record, neighbors_of=closest)
        transport = await UDPTransport.open(svc, node["ip"], 30303, loopback, svc.stats)
        svc.attach(transport, (node["ip"], 30303))
        running.append((svc, transport))
    try:
        yield [Enode(keys[0].pubkey, ipaddress.IPv4Address(nodes[0]["ip"]), 30303, nodes[0]["tcp"])]
    finally:
        for svc, transport in running:
            await svc.close()
            transport.close()


async def test_crawl_reads_client_and_status_from_devp2p_peers(
    rlpx_peers: dict[str, Any], discovery_fronts: list[Enode]
) -> None:
    settings = CrawlSettings(
        bootnodes=discovery_fronts,
        netrestrict="127.0.0.0/8",
        timeout=1.0,
        duration=60,
        rlpx=RlpxSettings(enabled=True, concurrency=16, timeout=5.0),
    )
    outcome = await run_crawl(settings)
    by_id = {r.node_id: r for r in outcome.nodes}
    peers = rlpx_peers["nodes"]
    assert {n["id"] for n in peers} <= set(by_id)
    kinds = Counter(by_id[n["id"]].rlpx for n in peers)
    ordinary = [by_id[n["id"]] for n in peers if not n["full"]]
    with_status = [r for r in ordinary if r.client is not None and r.client.network_id == 1]
    assert len(with_status) >= 0.95 * len(ordinary), kinds
    announced = rlpx_peers["status"]  # what every peer's Status says, from the harness
    ok, why = mainnet_filter(time.time()).check(ForkId(bytes.fromhex(announced["fork_hash"]), announced["fork_next"]))
    for record in with_status:
        assert record.client is not None and record.client.name  # parsed from devp2p's Hello client id
        assert record.client.genesis == announced["genesis"]
        assert record.client.fork_id is not None
        assert (record.client.fork_id.hash, record.client.fork_id.next) == (
            announced["fork_hash"],
            announced["fork_next"],
        )
        # The verdict now comes from the peer's Status, not its ENR: devp2p 10.0 announces Prague's fork id, which
        # EIP-2124 calls stale once mainnet has passed Osaka — "other", with that reason, is the right answer.
        assert record.network == ("mainnet" if ok else "other"), record.network_reason
        assert record.network_reason.startswith("status") and (ok or why in record.network_reason)
    full = [by_id[n["id"]] for n in peers if n["full"]]
    assert all(r.rlpx == "too_many_peers" and r.client is not None for r in full), [r.rlpx for r in full]
    assert outcome.meta.counters["rlpx_dialled"] == N
    assert outcome.meta.counters.get("rlpx_too_many_peers") == FULL


async def test_no_rlpx_flag_dials_nothing(discovery_fronts: list[Enode]) -> None:
    settings = CrawlSettings(
        bootnodes=discovery_fronts, netrestrict="127.0.0.0/8", timeout=1.0, duration=60, rlpx=RlpxSettings(False)
    )
    outcome = await run_crawl(settings)
    assert all(r.rlpx is None and r.client is None for r in outcome.nodes)
    assert "rlpx_dialled" not in outcome.meta.counters
