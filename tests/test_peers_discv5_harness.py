"""The consensus-layer interop network itself: 300 @chainsafe/discv5 nodes on loopback, checked from their ready
line (records decode and verify with our ENR module, eth2 verdicts match the ground truth, tables form a connected
graph) and by one FINDNODE from an independent chainsafe node. Skipped only when Node.js is missing."""

from __future__ import annotations

import ipaddress
import time
from collections import Counter, deque
from collections.abc import Iterator

import pytest
from peers.discv5_harness import mainnet_eth2, probe_findnode, start_discv5_network
from peers.fixtures import require_node
from peers.harness import Node

from monitor.discovery.enr import ENR
from monitor.discovery.forkdigest import consensus_verdict
from monitor.p2p.keys import compress_pubkey, log_distance

pytestmark = pytest.mark.interop

N = 300
START_BUDGET_S = 15.0  # about 0.5 s on an idle machine; generous for a loaded 2-core CI box
STARTED: dict[str, float] = {}


@pytest.fixture(scope="module")
def nodes() -> Iterator[list[Node]]:
    require_node()
    t0 = time.monotonic()
    with start_discv5_network(N, seed=5, base="127.52.0.1", k=16, udp_port=22000, other_every=10) as started:
        STARTED["seconds"] = time.monotonic() - t0
        yield started


def test_network_starts_within_budget(nodes: list[Node]) -> None:
    assert len(nodes) == N
    assert STARTED["seconds"] < START_BUDGET_S, f"{N} nodes took {STARTED['seconds']:.1f} s"


def test_every_record_decodes_verifies_and_matches_its_description(nodes: list[Node]) -> None:
    for node in nodes:
        record = ENR.from_text(node["enr"])  # raises on a bad signature or encoding
        assert record.node_id.hex() == node["id"]
        assert compress_pubkey(record.pubkey).hex() == node["pubkey"]
        assert str(record.ip) == node["ip"] and record.udp == node["udp"]
        assert ipaddress.ip_address(node["ip"]) in ipaddress.ip_network("127.52.0.0/16")
        assert 22000 <= node["udp"] <= 22999
        assert record.eth2 is not None and record.eth2.to_ssz().hex() == node["eth2"]
        assert record.attnets == frozenset(node["attnets"]) and len(node["attnets"]) == 2
    assert len({n["id"] for n in nodes}) == len({(n["ip"], n["udp"]) for n in nodes}) == N


def test_eth2_verdicts_match_the_ground_truth(nodes: list[Node]) -> None:
    now = time.time()
    verdicts = Counter()
    for i, node in enumerate(nodes):
        assert node["mainnet"] == (i % 10 != 9)
        verdict, reason = consensus_verdict(ENR.from_text(node["enr"]).eth2, now)
        assert verdict == ("mainnet" if node["mainnet"] else "other"), reason
        verdicts[verdict] += 1
    assert verdicts == {"mainnet": 270, "other": 30}
    assert {n["eth2"] for n in nodes if n["mainnet"]} == {mainnet_eth2(now).to_ssz().hex()}


def test_tables_form_a_connected_graph(nodes: list[Node]) -> None:
    by_id = {n["id"]: n for n in nodes}
    for node in nodes:
        assert node["table"] and node["id"] not in node["table"]
        assert set(node["table"]) <= by_id.keys()
    start = nodes[0]["id"]
    seen, todo = {start}, deque([start])
    while todo:
        for peer in by_id[todo.popleft()]["table"]:
            if peer not in seen:
                seen.add(peer)
                todo.append(peer)
    assert seen == by_id.keys()


def test_a_node_answers_findnode_from_its_table(nodes: list[Node]) -> None:
    target = nodes[0]
    me = bytes.fromhex(target["id"])
    distances = Counter(log_distance(me, bytes.fromhex(peer)) for peer in target["table"])
    # Ask for whole buckets holding at most 12 records: chainsafe's client keeps at most 5 NODES packets of 3
    # records, and the probe itself, once in the table, may be among the answers.
    asked: list[int] = []
    for distance, count in sorted(distances.items(), key=lambda dc: dc[1]):
        if sum(distances[d] for d in asked) + count <= 12:
            asked.append(distance)
    probe, enrs = probe_findnode(target["enr"], "127.52.255.1:22999", asked)
    got = {ENR.from_text(text).node_id.hex() for text in enrs} - {probe}
    want = {p for p in target["table"] if log_distance(me, bytes.fromhex(p)) in asked}
    assert want and got == want
