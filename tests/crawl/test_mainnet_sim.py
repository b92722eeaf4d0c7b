"""The mainnet-like simulator: its population matches the stated mix, answers are the k closest entries, and a
crawl through the real socket path (address multiplexing with IP_PKTINFO) finds what ground truth says it should."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monitor.crawl.rlpx_stage import RlpxSettings
from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.discovery.enode import load_node_urls
from monitor.sim.mainnet import MainnetSim, write_truth
from monitor.sim.mainnet_model import REACHABLE, MainnetSpec, Population

pytestmark = pytest.mark.timeout(120)


def test_population_follows_the_stated_mix() -> None:
    pop = Population(MainnetSpec(live=2000, seed=3, port=28011))
    kinds = Counter(n.kind for n in pop.nodes)
    assert kinds["dead"] == round(2000 * 0.4 / 0.6)  # 40 % of all listed entries
    live = [n for n in pop.nodes if n.kind != "dead"]
    assert len(live) == 2000
    assert 0.07 < kinds["nat"] / 2000 < 0.13 and 0.07 < kinds["no_enr"] / 2000 < 0.13
    assert 0.25 < sum(n.network == "other" for n in live) / 2000 < 0.35
    assert all(n.enr is None for n in live if n.kind in ("no_enr", "nat"))
    assert all(0.010 <= n.rtt <= 0.400 for n in pop.nodes)
    assert 0.08 < sorted(n.rtt for n in pop.nodes)[len(pop.nodes) // 2] < 0.12  # median ~100 ms
    assert len({(n.ip, n.port) for n in pop.nodes}) == len(pop.nodes)
    assert len({n.ip for n in pop.nodes}) < len(pop.nodes)  # several node ids on some IPs
    assert not any(n.buckets for n in pop.nodes if n.kind not in REACHABLE)


def test_answers_are_the_closest_entries_and_hide_nodes_not_joined_yet() -> None:
    pop = Population(MainnetSpec(live=600, seed=4, port=28011))
    node = next(n for n in pop.nodes if n.reachable and len(n.buckets) > 3)
    table = [j for bucket in node.buckets.values() for j in bucket]
    for target in (0, 1 << 255, node.id_int ^ (1 << 250), node.id_int ^ 12345):
        brute = sorted(table, key=lambda j: pop.nodes[j].id_int ^ target)[:16]
        later = {j for j in table if pop.nodes[j].join_at is not None}
        assert pop.closest(node, target, t=1e9) == brute
        assert not later & set(pop.closest(node, target, t=0.0))


async def test_crawl_of_the_simulator_finds_reachable_nodes_and_their_records(tmp_path: Path) -> None:
    spec = MainnetSpec(live=300, seed=5, port=28021, leave_share=0.0, join_share=0.0, loss=0.0, rtt_median=0.02)
    pop = Population(spec)
    sim = MainnetSim(pop)
    sim.open()
    try:
        write_truth(pop, tmp_path)
        settings = CrawlSettings(
            bootnodes=load_node_urls(str(tmp_path / "bootnodes.txt")),
            netrestrict="127.60.0.0/14",
            listen_host="127.60.0.1",
            listen_port=28029,
            timeout=1.0,
            duration=60,
            rlpx=RlpxSettings(enabled=False),
        )
        outcome = await run_crawl(settings)
    finally:
        sim.close()
    found = {r.node_id: r for r in outcome.nodes}
    reachable = [n for n in pop.nodes if n.reachable and n.listed_by]
    assert all(n.key.node_id.hex() in found for n in reachable)
    assert all(found[n.key.node_id.hex()].answered_ping for n in reachable)
    with_enr = [n for n in reachable if n.enr is not None]
    assert all(found[n.key.node_id.hex()].enr is not None for n in with_enr)
    silent = [found[n.key.node_id.hex()] for n in pop.nodes if not n.reachable and n.key.node_id.hex() in found]
    assert silent and not any(r.answered_ping for r in silent)  # dead and NAT'd entries never answer
    assert outcome.meta.counters["seen_only_in_tables"] == len(silent)
    # Every bond-demanding node that was visited bonded with the crawler (whether its first FINDNODE raced ahead of
    # the bond and was re-sent depends on scheduling; tests/crawl/test_discv4_waits.py pins that down).
    bonding = {n.index for n in reachable if n.kind in ("geth", "no_enr")}
    assert bonding <= {index for index, _crawler in sim.bonded}
