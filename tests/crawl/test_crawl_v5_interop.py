"""A whole crawl (``run_crawl``, discv5 only) of 300 independent @chainsafe/discv5 nodes on loopback: at least 99 % of
them found with their records, consensus verdicts as the harness says, and sessions set up from both sides (we
handshake with every node we visit; an independent chainsafe node that pings our crawler handshakes with us and is
crawled in turn). Skipped only when Node.js is missing."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from peers.fixtures import require_node
from peers.harness import PEERS_DIR, Node, run_until_ready, script_argv

from monitor.crawl.rlpx_stage import RlpxSettings
from monitor.crawl.runner import CrawlOutcome, CrawlSettings, run_crawl
from monitor.discovery.enode import Enode
from monitor.discovery.enr import ENR
from monitor.p2p.keys import PrivateKey

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]

N = 300
CRAWLER = ("127.58.0.1", 27900)  # discv5 binds the port + 1
PINGER = ("127.58.0.2", 27950)
KEY = PrivateKey.from_seed(b"v5-interop-crawler")


@pytest.fixture(scope="module")
def chainsafe() -> Iterator[list[Node]]:
    require_node()
    from peers.discv5_harness import start_discv5_network

    with start_discv5_network(N, seed=58, base="127.58.1.1", k=16, udp_port=27600, other_every=10) as nodes:
        yield nodes


async def _crawl_while_pinged(nodes: list[Node]) -> tuple[CrawlOutcome, str]:
    # The record the pinger is given: our crawler's key at the address its discv5 socket will bind.
    ours = ENR.create(KEY, 1, ip=ipaddress.IPv4Address(CRAWLER[0]), udp=CRAWLER[1] + 1)
    argv = script_argv(PEERS_DIR / "discv5_node.mjs", PINGER[0], str(PINGER[1]), "58", "--ping", ours.to_text())
    settings = CrawlSettings(
        bootnodes=[Enode.from_enr(ENR.from_text(nodes[0]["enr"]))],
        discovery=("discv5",),
        netrestrict="127.58.0.0/16",
        listen_host=CRAWLER[0],
        listen_port=CRAWLER[1],
        duration=120,
        concurrency=64,
        timeout=1.0,
        rlpx=RlpxSettings(enabled=False),
        key=KEY,
    )
    with run_until_ready(argv, "discv5 pinger", timeout=30) as ready:
        outcome = await run_crawl(settings)
    return outcome, str(ready["node_id"])


@pytest.fixture(scope="module")
def crawled(chainsafe: list[Node]) -> tuple[CrawlOutcome, str]:
    return asyncio.run(_crawl_while_pinged(chainsafe))


def test_at_least_99_percent_found_with_their_records(chainsafe: list[Node], crawled: Any) -> None:
    outcome, _ = crawled
    records = {r.node_id: r for r in outcome.nodes}
    with_record = [n for n in chainsafe if n["id"] in records and records[n["id"]].enr is not None]
    assert len(with_record) >= 0.99 * N
    for node in with_record:
        record = records[node["id"]]
        assert record.enr is not None and ENR.from_text(record.enr) == ENR.from_text(node["enr"])
        assert (record.ip, record.udp_port) == (node["ip"], node["udp"])
        assert record.protocols == ("discv5",)


def test_consensus_verdicts_as_the_harness_says(chainsafe: list[Node], crawled: Any) -> None:
    outcome, _ = crawled
    records = {r.node_id: r for r in outcome.nodes}
    for node in chainsafe:
        record = records.get(node["id"])
        if record is None:
            continue
        assert record.layer == "consensus"
        assert record.network == ("mainnet" if node["mainnet"] else "other"), record.network_reason
        assert record.eth2 is not None and record.eth2.fork_digest == node["eth2"][:8]


def test_sessions_are_set_up_from_both_sides(chainsafe: list[Node], crawled: Any) -> None:
    outcome, pinger = crawled
    c = outcome.meta.counters
    answered = sum(r.answered_ping for r in outcome.nodes if r.node_id != pinger)
    assert answered >= 0.99 * N
    # Ours: one handshake per node visited (a session is reused for the PING, record and FINDNODE requests).
    assert answered <= c["discv5_packets_session_handshake_sent"] <= 1.05 * c["discv5_contacted"]
    # Theirs: the chainsafe pinger opened a session with our crawler, which answered and then crawled it too.
    assert c["discv5_packets_handshake_accepted"] >= 1 and c["discv5_packets_sent_pong"] >= 1
    assert pinger in {r.node_id for r in outcome.nodes if r.answered_ping}
