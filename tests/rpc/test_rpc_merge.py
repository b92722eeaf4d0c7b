"""Merging admin_peers samples into a crawl: nothing double-counted, the rpc-only nodes counted and marked."""

from __future__ import annotations

from monitor.crawl.merge import merge_rpc
from monitor.discovery.forkid import MAINNET_GENESIS_HASH
from monitor.p2p.keys import PrivateKey
from monitor.rpc.admin import RPCNodeInfo, RPCPeer
from monitor.rpc.client import RPCSample
from monitor.snapshot import ClientInfo, NodeRecord

KEYS = [PrivateKey.from_seed(f"merge-{i}".encode()) for i in range(4)]


def _peer(i: int, inbound: bool, name: str = "Geth/v1.14.0-stable/linux-amd64/go1.22") -> RPCPeer:
    return RPCPeer(KEYS[i].pubkey, name, ("eth/68",), f"198.51.100.{i}", 40000 + i, f"198.51.100.{i}", 30303,
                   inbound, 68)  # fmt: skip


def _sample(*peers: RPCPeer) -> RPCSample:
    own = PrivateKey.from_seed(b"own")
    node = RPCNodeInfo(own.pubkey, "Geth/own", "127.0.0.1", 30303, 30303, 1, MAINNET_GENESIS_HASH.hex())
    return RPCSample("http://127.0.0.1:8545", node, tuple(peers), 0)


def _crawled(i: int, client: ClientInfo | None = None) -> NodeRecord:
    return NodeRecord(KEYS[i].node_id.hex(), KEYS[i].pubkey.hex(), f"198.51.100.{i}", 30303, 30303,
                      answered_ping=True, client=client)  # fmt: skip


def test_merge_marks_overlap_adds_rpc_only_and_counts_each_once() -> None:
    crawled = [_crawled(0), _crawled(1, ClientInfo(raw="Nethermind/v1", name="nethermind"))]
    samples = [_sample(_peer(0, False), _peer(2, True)), _sample(_peer(2, True), _peer(3, False), _peer(1, True))]
    nodes, counters = merge_rpc(crawled, samples, now=1.0)
    by_id = {n.node_id: n for n in nodes}
    assert len(nodes) == 4
    assert counters == {"rpc_endpoints": 2, "rpc_peers": 4, "rpc_only": 2, "rpc_only_inbound": 1,
                        "rpc_also_crawled": 2}  # fmt: skip
    zero, one = by_id[KEYS[0].node_id.hex()], by_id[KEYS[1].node_id.hex()]
    assert zero.source == one.source == "discv4+rpc"
    assert zero.client is not None and zero.client.name == "geth"  # borrowed: the crawl had none
    assert one.client is not None and one.client.name == "nethermind"  # the crawl's own dial wins
    assert by_id[KEYS[2].node_id.hex()].source == "rpc" and by_id[KEYS[3].node_id.hex()].source == "rpc"
    assert zero.answered_ping  # the crawl record's facts are kept


def test_no_samples_changes_nothing() -> None:
    crawled = [_crawled(0)]
    nodes, counters = merge_rpc(crawled, [], now=1.0)
    assert nodes == crawled and counters["rpc_peers"] == 0


async def test_snapshot_pipeline_merges_a_local_geth_endpoint() -> None:
    """take_snapshot with --rpc: a devnet crawl plus admin_peers of a fake geth on 127.0.0.1."""
    from test_rpc_client import IN, OUT, _http_app, _start, geth

    from monitor.crawl.runner import CrawlSettings
    from monitor.hosting import load_default_resolver
    from monitor.pipeline import take_snapshot
    from monitor.sim.devnet import DevnetSpec, run_devnet

    runner, port = await _start(_http_app(geth))
    try:
        async with run_devnet(DevnetSpec(nodes=15, seed=21, first_ip="127.23.0.1")) as net:
            settings = CrawlSettings(bootnodes=net.bootnodes, netrestrict="127.0.0.0/8", timeout=0.5, duration=30)
            resolver = load_default_resolver(offline=True)
            snap = await take_snapshot(settings, resolver, rpc_urls=[f"http://127.0.0.1:{port}/"])
    finally:
        await runner.cleanup()
    sources = {n.node_id: n.source for n in snap.nodes}
    assert sources[IN.node_id.hex()] == sources[OUT.node_id.hex()] == "rpc"
    assert sum(s == "discv4" for s in sources.values()) == 15
    assert snap.meta.counters["rpc_only"] >= 2 and snap.meta.counters["rpc_only_inbound"] >= 1


def test_report_says_how_many_nodes_only_rpc_saw() -> None:
    import io
    import random

    from rich.console import Console

    from monitor.analysis.report import analyse
    from monitor.outputs.terminal.report import render_report
    from monitor.snapshot import CrawlMeta, Snapshot

    crawled = [_crawled(0), _crawled(1)]
    nodes, counters = merge_rpc(crawled, [_sample(_peer(0, False), _peer(2, True), _peer(3, True))], now=1.0)
    meta = CrawlMeta(id="m", network="mainnet", started_at=0.0, ended_at=1.0, tool_version="0", counters=counters)
    analysis = analyse(Snapshot(meta, tuple(nodes)), rng=random.Random(1), bootstrap_samples=0)
    assert dict(analysis.sources) == {"discv4": 1, "discv4+rpc": 1, "rpc": 2}
    console = Console(file=io.StringIO(), width=200, record=True)
    render_report(console, analysis)
    assert "only via --rpc (no crawl reached them): 2" in console.export_text()
