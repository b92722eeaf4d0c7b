"""Issue 16's fault-injection suite: crawls of a loopback devnet whose nodes lose, delay, repeat and replay
packets, die mid-crawl, flood NEIGHBORS or run a clock an hour off. Coverage and counters asserted, and the node
table bounded (what a flooder invents stops at the per-referrer limit)."""

from __future__ import annotations

import resource
from collections import Counter

import pytest

from monitor.crawl.budget import Limits
from monitor.crawl.rlpx_stage import RlpxSettings
from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.sim.devnet import Devnet, DevnetSpec, NodeBehaviour, run_devnet
from monitor.sim.faults import Faults

pytestmark = pytest.mark.timeout(180)


def _settings(net: Devnet, port: int, **kw: object) -> CrawlSettings:
    base: dict[str, object] = dict(
        bootnodes=net.bootnodes[:1], network="devnet", netrestrict="127.64.0.0/15", listen_host="127.64.0.1",
        listen_port=port, timeout=0.5, retries=1, concurrency=64, duration=90, rlpx=RlpxSettings(enabled=False),
    )  # fmt: skip
    base.update(kw)
    return CrawlSettings(**base)  # type: ignore[arg-type]


def _devnet_stats(net: Devnet) -> Counter[str]:
    total: Counter[str] = Counter()
    for node in net.nodes:
        if node.service is not None:
            total.update(node.service.stats)
    return total


@pytest.mark.slow
async def test_30_percent_loss_and_200ms_jitter_everywhere() -> None:
    spec = DevnetSpec(nodes=120, seed=21, first_ip="127.64.20.1", port=29321)
    faults = dict.fromkeys(range(120), Faults(loss=0.3, jitter=0.2))
    async with run_devnet(spec, faults=faults) as net:
        # Lossy links: each request gets four attempts (0.49 a round trip succeeds -> 93 % in four).
        outcome = await run_crawl(_settings(net, 29301, timeout=1.0, retries=3))
        lost = _devnet_stats(net)
    truth = {n.key.node_id.hex() for n in net.nodes}
    found = {r.node_id: r for r in outcome.nodes}
    assert set(found) == truth  # every node is listed by many others: discovery survives the loss
    answered = sum(r.answered_ping for r in found.values())
    assert answered >= 0.85 * len(truth), answered
    assert lost["faults:lost_in"] > 0 and lost["faults:lost_out"] > 0
    counters = outcome.meta.counters
    assert counters["packets_timeout_ping"] > 0 and counters["packets_timeout_findnode"] > 0  # the loss, counted


async def test_dying_flooding_repeating_replaying_and_skewed_peers() -> None:
    spec = DevnetSpec(nodes=100, seed=22, first_ip="127.64.30.1", port=29322)
    dying = range(10, 15)
    faults = {
        20: Faults(flood_neighbors=30),  # 360 made-up entries after every FINDNODE answer
        21: Faults(duplicate=True),  # every answer twice
        22: Faults(replay_after=0.3),  # every packet sent again 0.3 s later
        23: Faults(clock_skew=3600.0),
        24: Faults(clock_skew=-3600.0),
    }
    behaviours = {i: NodeBehaviour(die_after=4) for i in dying}  # PONG, PING-back, a FINDNODE or two: then silence
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with run_devnet(spec, behaviours, faults) as net:
        outcome = await run_crawl(_settings(net, 29302, limits=Limits(per_referrer=100)))
        peers = _devnet_stats(net)
        skewed_stats = [net.nodes[i].service.stats.copy() for i in (23, 24)]  # type: ignore[union-attr]
    by_index = {n.key.node_id.hex(): n.index for n in net.nodes}
    found = {r.node_id: r for r in outcome.nodes}
    assert len(found) == len(outcome.nodes)  # one record per node, duplicates and replays notwithstanding
    healthy = set(range(100)) - set(dying) - {23, 24}
    for node_id, index in by_index.items():
        record = found.get(node_id)
        assert record is not None, f"node {index} not found"  # every node is listed by others
        if index in healthy:
            assert record.answered_ping and record.answered_findnode and record.enr, f"node {index}"
    for index in (23, 24):  # an hour off: every packet one way or the other is expired, as geth would judge it
        assert not found[net.nodes[index].key.node_id.hex()].answered_ping
    counters = outcome.meta.counters
    assert counters["packets_err_expired"] > 0  # what the node behind (-1 h) sent us
    assert skewed_stats[0]["err:expired"] > 0  # what we sent the node ahead (+1 h)
    assert counters["packets_err_unsolicited"] > 0  # flood beyond the answer, second copies, replays
    assert peers["faults:flood_neighbors"] > 0 and peers["faults:replayed"] > 0
    # Bounded: the flooder's inventions stop at the per-referrer limit, held and counted beyond it.
    invented = [r for r in outcome.nodes if r.node_id not in by_index]
    assert 0 < len(invented) <= 100
    assert outcome.meta.filtered["limit_per_referrer"] > 0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 100
