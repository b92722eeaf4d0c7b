"""End-to-end crawls on loopback: our own devnet, the netrestrict guard, and the offline error."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from collections import Counter

import pytest
from external_tools import missing, require_tool

from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.discovery.enr import ENR
from monitor.discovery.v4.service import Discv4Service, ServiceConfig
from monitor.discovery.v4.wire import NodeEntry
from monitor.errors import CrawlError, NetrestrictError
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import UDPTransport
from monitor.sim.devnet import Devnet, DevnetSpec, NodeBehaviour, run_devnet

pytestmark = pytest.mark.timeout(120)


async def test_crawl_of_300_node_devnet_finds_every_node_with_right_verdicts() -> None:
    spec = DevnetSpec(nodes=300, seed=11, first_ip="127.20.0.1", port=30303)
    async with run_devnet(spec) as net:
        settings = CrawlSettings(
            bootnodes=net.bootnodes[:1],
            network="devnet",
            netrestrict="127.0.0.0/8",
            timeout=1.0,
            concurrency=64,
            duration=90,
        )
        outcome = await run_crawl(settings)
        truth = {n.key.node_id.hex(): n for n in net.nodes}
    found = {r.node_id: r for r in outcome.nodes}
    assert set(found) == set(truth)  # every node, and nothing else (not the crawler itself)
    assert all(r.answered_ping and r.answered_findnode and r.enr for r in found.values())
    for node_id, record in found.items():
        assert record.network == truth[node_id].network, record.network_reason
        assert record.ip == truth[node_id].ip and record.udp_port == 30303
    counters = outcome.meta.counters
    assert counters["discovered"] == counters["answered_ping"] == counters["enr_fetched"] == 300
    assert Counter(r.network for r in found.values()) == Counter(n.network for n in truth.values())


async def test_netrestrict_guard_never_sends_outside_even_when_neighbours_advertise_public_ips() -> None:
    """A peer on loopback lists nodes at public addresses; the crawl must count them and contact none."""
    loopback = NetRestrict.parse("127.0.0.0/8")
    public = ["203.0.113.7", "8.8.8.8", "1.1.1.1", "2001:db8::1"]
    local_key = PrivateKey.from_seed(b"local-neighbour")
    entries = [
        NodeEntry(ipaddress.ip_address(ip), 30303, 30303, PrivateKey.from_seed(ip.encode()).pubkey) for ip in public
    ]
    entries.append(NodeEntry(ipaddress.IPv4Address("127.30.0.2"), 30303, 30303, local_key.pubkey))
    services = []
    for key, ip, table in ((PrivateKey.from_seed(b"advertiser"), "127.30.0.1", entries), (local_key, "127.30.0.2", [])):
        record = ENR.create(key, 1, ip=ipaddress.IPv4Address(ip), udp=30303, tcp=30303)
        svc = Discv4Service(key, 30303, ServiceConfig(), enr=record, neighbors_of=lambda _t, t=table: t)
        transport = await UDPTransport.open(svc, ip, 30303, loopback, svc.stats)
        svc.attach(transport, (ip, 30303))
        services.append((svc, transport))
    try:
        from monitor.discovery.enode import Enode

        boot = Enode(services[0][0].key.pubkey, ipaddress.IPv4Address("127.30.0.1"), 30303, 30303)
        outcome = await run_crawl(CrawlSettings(bootnodes=[boot], netrestrict="127.0.0.0/8", timeout=0.5, duration=30))
    finally:
        for svc, transport in services:
            await svc.close()
            transport.close()
    # Every datagram the crawler hands to its socket passes the transport's guard, which counts each refusal
    # (see the next test): none refused and some sent means it never tried an address outside 127.0.0.0/8.
    assert outcome.meta.counters["packets_datagrams_out"] > 0
    assert outcome.meta.counters.get("packets_err_netrestrict", 0) == 0
    assert {r.ip for r in outcome.nodes} == {"127.30.0.1", "127.30.0.2"}
    assert outcome.meta.filtered == {"outside_netrestrict": len(public)}


async def test_socket_layer_refuses_and_counts_a_send_outside_netrestrict() -> None:
    class Sink:
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None: ...

    counters: Counter[str] = Counter()
    transport = await UDPTransport.open(Sink(), "127.56.0.1", 0, NetRestrict.parse("127.0.0.0/8"), counters)
    try:
        with pytest.raises(NetrestrictError):
            transport.send(b"x", ("198.51.100.1", 30303))
        assert counters["err:netrestrict"] == 1
        assert counters["datagrams_out"] == 0
    finally:
        transport.close()


async def test_crawl_with_only_dead_bootnodes_fails_fast_with_a_clear_error() -> None:
    from monitor.discovery.enode import Enode

    dead = Enode(PrivateKey.from_seed(b"dead").pubkey, ipaddress.IPv4Address("127.31.0.1"), 30399, 30399)
    started = time.monotonic()
    with pytest.raises(CrawlError, match="no bootnode answered"):
        await run_crawl(CrawlSettings(bootnodes=[dead], netrestrict="127.0.0.0/8", timeout=0.3, retries=1))
    assert time.monotonic() - started < 5


def test_mainnet_crawl_offline_ends_quickly_with_one_line_error() -> None:
    """In a network namespace with no interfaces, the built-in mainnet bootnodes are unreachable: no packet
    can leave the machine, and the command must say so in one line within seconds."""
    unshare = require_tool("unshare")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:  # a container without CAP_SYS_ADMIN, a user without namespaces: not our code
        missing(f"`unshare -n` is not permitted here (needs root): {probe.stderr.strip()}")
    started = time.monotonic()
    proc = subprocess.run(
        [unshare, "-n", sys.executable, "-m", "monitor", "crawl", "--out", "/tmp/monitor-offline-test"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no bootnode answered" in lines[0], proc.stderr
    assert elapsed < 15


def test_devnet_command_writes_truth_and_stops(tmp_path: object) -> None:
    import json
    from pathlib import Path

    out = Path(str(tmp_path)) / "dn"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "devnet",
            "--nodes",
            "30",
            "--first-ip",
            "127.21.0.1",
            "--out",
            str(out),
            "--duration",
            "0.5",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((out / "truth.json").read_text())
    assert len(truth["nodes"]) == 30 and all(n["table"] for n in truth["nodes"])
    assert len((out / "bootnodes.txt").read_text().split()) == 3


async def test_node_announcing_a_newer_enr_is_revisited() -> None:
    """Right after serving its ENR, a node bumps the record and pings the crawler: the crawl fetches it again."""
    spec = DevnetSpec(nodes=20, seed=12, first_ip="127.56.1.1", port=26303, other_share=0, no_eth_share=0)
    async with run_devnet(spec, {5: NodeBehaviour(renew_enr=True)}) as net:
        target = net.nodes[5]
        settings = CrawlSettings(bootnodes=net.bootnodes[:1], netrestrict="127.0.0.0/8", timeout=0.5, duration=30)
        outcome = await run_crawl(settings)
    record = next(r for r in outcome.nodes if r.node_id == target.key.node_id.hex())
    assert target.enr.seq == 2 and outcome.meta.counters["revisits"] == 1
    assert record.enr_seq == 2 and record.enr is not None and ENR.from_text(record.enr).seq == 2
    assert ENR.from_text(record.enr).eth_fork_id == net.nodes[0].enr.eth_fork_id  # the renewed record kept its entries


async def test_misbehaving_nodes_are_recorded_as_they_behave() -> None:
    """Nodes that serve no ENR, ignore FINDNODE, never PING back or are dead: each is found, none stalls the crawl."""
    spec = DevnetSpec(nodes=24, seed=13, first_ip="127.56.2.1", port=26303, other_share=0, no_eth_share=0)
    behaviours = {
        5: NodeBehaviour(serve_enr=False),
        6: NodeBehaviour(answer_findnode=False),
        7: NodeBehaviour(ping_back=False),
        8: NodeBehaviour(die_after=0),
    }
    async with run_devnet(spec, behaviours) as net:
        settings = CrawlSettings(bootnodes=net.bootnodes[:1], netrestrict="127.0.0.0/8", timeout=0.5, duration=30)
        outcome = await run_crawl(settings)
        stats = {i: net.nodes[i].service.stats for i in behaviours}  # type: ignore[union-attr]
        ids = {i: net.nodes[i].key.node_id.hex() for i in range(spec.nodes)}
    found = {r.node_id: r for r in outcome.nodes}
    assert set(found) == set(ids.values())
    no_enr, no_findnode, no_bond, dead = (found[ids[i]] for i in behaviours)
    assert no_enr.answered_ping and no_enr.answered_findnode and no_enr.enr is None
    assert stats[5]["drop:enrrequest_no_enr"] >= 1
    assert no_findnode.answered_ping and not no_findnode.answered_findnode and no_findnode.enr is not None
    assert stats[6]["drop:findnode_unserved"] >= 1
    # It answers PING but, never PINGing back, is never bonded to by the crawler, so it serves neither FINDNODE nor ENR.
    assert no_bond.answered_ping and not no_bond.answered_findnode and no_bond.enr is None
    assert stats[7]["sent:ping"] == 0 and stats[7]["drop:findnode_unbonded"] >= 1
    assert not dead.answered_ping and stats[8]["devnet:dropped_dead"] >= 1 and stats[8]["sent:pong"] == 0
    healthy = [found[ids[i]] for i in range(spec.nodes) if i not in behaviours]
    assert all(r.answered_ping and r.answered_findnode and r.enr for r in healthy)


async def test_node_that_dies_mid_crawl_stops_answering() -> None:
    """A node that goes silent after a few datagrams answered the crawler's first PING, and nothing after its death."""
    spec = DevnetSpec(nodes=12, seed=14, first_ip="127.56.3.1", port=26303, other_share=0, no_eth_share=0)
    async with run_devnet(spec, {4: NodeBehaviour(die_after=1)}) as net:
        settings = CrawlSettings(bootnodes=net.bootnodes[:1], netrestrict="127.0.0.0/8", timeout=0.5, duration=30)
        outcome = await run_crawl(settings)
        script, service = net.nodes[4].script, net.nodes[4].service
        target = net.nodes[4].key.node_id.hex()
    assert script is not None and service is not None
    record = next(r for r in outcome.nodes if r.node_id == target)
    assert script.dead and script.received == 1 and service.stats["devnet:dropped_dead"] >= 1
    assert service.stats["sent:pong"] == 1  # its one datagram was the crawler's PING, answered before it died
    assert record.answered_ping and not record.answered_findnode and record.enr is None


def test_node_behaviour_rejects_contradictions() -> None:
    with pytest.raises(ValueError, match="die_after"):
        NodeBehaviour(die_after=-1)
    with pytest.raises(ValueError, match="renew"):
        NodeBehaviour(serve_enr=False, renew_enr=True)
    with pytest.raises(ValueError, match="no devnet node 3"):
        Devnet(DevnetSpec(nodes=3), {3: NodeBehaviour()})
