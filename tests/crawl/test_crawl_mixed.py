"""Both discovery protocols in one crawl (``run_crawl``) against the mixed devnet: discv4-only, discv5-only and dual
nodes (one key, so one node id, on both protocols). Every node found once, with the protocols and layer the devnet's
ground truth says, and the per-protocol counters."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from monitor.crawl.rlpx_stage import RlpxSettings
from monitor.crawl.runner import CrawlOutcome, CrawlSettings, run_crawl
from monitor.discovery.enode import Enode
from monitor.discovery.enr import ENR
from monitor.p2p.keys import PrivateKey
from monitor.sim.devnet_mixed import MixedSpec, run_mixed_devnet

pytestmark = pytest.mark.timeout(180)

N = 240
CRAWLER = "127.57.0.1"  # devnet addresses never use .0. in the third octet


async def _crawl_mixed(spec: MixedSpec) -> tuple[CrawlOutcome, dict[str, Any]]:
    async with run_mixed_devnet(spec) as net:
        settings = CrawlSettings(
            bootnodes=net.bootnodes,
            bootnodes_v5=[Enode.from_enr(r) for r in net.bootnodes_v5],
            discovery=("discv4", "discv5"),
            netrestrict="127.57.0.0/16",
            listen_host=CRAWLER,
            listen_port=27000,
            duration=90,
            concurrency=64,
            timeout=0.5,
            rlpx=RlpxSettings(enabled=False),
            key=PrivateKey.from_seed(b"mixed-crawler"),
        )
        outcome = await run_crawl(settings)
        return outcome, net.ground_truth()


@pytest.fixture(scope="module")
def crawled() -> tuple[CrawlOutcome, dict[str, Any]]:
    spec = MixedSpec(nodes=N, seed=57, first_ip="127.57.0.1", port=27100)
    return asyncio.run(_crawl_mixed(spec))


def test_the_devnet_has_every_kind_of_node() -> None:
    from monitor.sim.devnet_mixed import MixedDevnet

    net = MixedDevnet(MixedSpec(nodes=N, seed=57, first_ip="127.57.0.1", port=27100))
    kinds = Counter((n.protocols, n.layer, n.network) for n in net.nodes)
    for kind in [
        (("discv4",), "execution", "mainnet"),
        (("discv4",), "execution", "other"),
        (("discv4",), "unknown", "unknown"),
        (("discv5",), "consensus", "mainnet"),
        (("discv5",), "consensus", "other"),
        (("discv4", "discv5"), "execution", "mainnet"),
        (("discv4", "discv5"), "consensus", "mainnet"),
    ]:
        assert kinds[kind] > 0, kind
    for node in net.nodes:  # one record per key; the dual nodes' names their discv5 port
        assert node.enr.udp == (node.port_v5 if "discv5" in node.protocols else node.port)
        assert (node.enr.eth2 is not None) == ("discv5" in node.protocols)


def test_every_node_is_found_once_with_its_protocols_and_layer(crawled: tuple[CrawlOutcome, dict[str, Any]]) -> None:
    outcome, truth = crawled
    expected = {n["id"]: n for n in truth["nodes"]}
    records = {r.node_id: r for r in outcome.nodes}
    assert len(records) == len(outcome.nodes)  # merged: one record per node id
    assert set(records) == set(expected)
    for node_id, record in records.items():
        node = expected[node_id]
        assert record.protocols == tuple(node["protocols"]), node
        assert record.layer == node["layer"], (record.network_reason, node)
        assert record.network == node["network"], (record.network_reason, node)
        assert record.answered_ping and record.answered_findnode
        assert record.enr == node["enr"]
        assert record.ip == node["ip"]
        if "discv5" in node["protocols"]:
            assert record.eth2 is not None and record.eth2.fork_digest == _digest(node["enr"])
        else:
            assert record.eth2 is None


def test_counters_per_protocol_and_seen_by(crawled: tuple[CrawlOutcome, dict[str, Any]]) -> None:
    outcome, truth = crawled
    c = outcome.meta.counters
    runs = Counter("+".join(n["protocols"]) for n in truth["nodes"])
    v4 = runs["discv4"] + runs["discv4+discv5"]
    v5 = runs["discv5"] + runs["discv4+discv5"]
    assert (c["discv4_discovered"], c["discv5_discovered"]) == (v4, v5)
    assert (c["discv4_contacted"], c["discv5_contacted"]) == (v4, v5)
    assert (c["discv4_answered_ping"], c["discv5_answered_ping"]) == (v4, v5)
    assert c["discv5_enr_fetched"] == v5
    assert c["contacted"] == v4 + v5 and c["discovered"] == N
    assert c["seen_by_discv4"] == runs["discv4"]
    assert c["seen_by_discv5"] == runs["discv5"]
    assert c["seen_by_discv4_and_discv5"] == runs["discv4+discv5"]
    layers = Counter(n["layer"] for n in truth["nodes"])
    assert {k: c[f"layer_{k}"] for k in layers} == dict(layers)
    assert c["discv5_packets_session_handshake_sent"] >= v5
    assert outcome.meta.settings["discovery"] == ["discv4", "discv5"]
    assert (outcome.meta.settings["bootnodes"], outcome.meta.settings["bootnodes_v5"]) == (3, 3)
    assert c["deadline_hit"] == 0 and outcome.meta.filtered == {}


def _digest(text: str) -> str:
    eth2 = ENR.from_text(text).eth2
    assert eth2 is not None
    return eth2.fork_digest.hex()
