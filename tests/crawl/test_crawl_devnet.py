"""End-to-end crawls on loopback: our own devnet, the netrestrict guard, and the offline error."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import pytest

from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.discovery.enr import ENR
from monitor.discovery.v4.service import Discv4Service, Peer, ServiceConfig
from monitor.discovery.v4.wire import NodeEntry
from monitor.errors import CrawlError, NetrestrictError
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import UDPTransport
from monitor.sim.devnet import DevnetSpec, run_devnet

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
    sent_to: list[str] = []
    original_send = UDPTransport.send

    def spy(self: UDPTransport, data: bytes, addr: tuple[str, int]) -> None:
        sent_to.append(addr[0])
        original_send(self, data, addr)

    try:
        UDPTransport.send = spy  # type: ignore[method-assign]  # observe every datagram the crawler hands to the OS
        from monitor.discovery.enode import Enode

        boot = Enode(services[0][0].key.pubkey, ipaddress.IPv4Address("127.30.0.1"), 30303, 30303)
        outcome = await run_crawl(CrawlSettings(bootnodes=[boot], netrestrict="127.0.0.0/8", timeout=0.5, duration=30))
    finally:
        UDPTransport.send = original_send  # type: ignore[method-assign]
        for svc, transport in services:
            await svc.close()
            transport.close()
    outside = {a for a in sent_to if ipaddress.ip_address(a) not in ipaddress.ip_network("127.0.0.0/8")}
    assert sent_to and not outside
    assert {r.ip for r in outcome.nodes} == {"127.30.0.1", "127.30.0.2"}
    assert outcome.meta.filtered == {"outside_netrestrict": len(public)}


async def test_socket_layer_refuses_and_counts_a_send_outside_netrestrict() -> None:
    class Sink:
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None: ...

    transport = await UDPTransport.open(Sink(), "127.0.0.1", 0, NetRestrict.parse("127.0.0.0/8"))
    try:
        with pytest.raises(NetrestrictError):
            transport.send(b"x", ("198.51.100.1", 30303))
        assert transport._counters["err:netrestrict"] == 1
        assert transport._counters["datagrams_out"] == 0
    finally:
        transport.close()


async def test_crawl_with_only_dead_bootnodes_fails_fast_with_a_clear_error() -> None:
    from monitor.discovery.enode import Enode

    dead = Enode(PrivateKey.from_seed(b"dead").pubkey, ipaddress.IPv4Address("127.31.0.1"), 30399, 30399)
    started = time.monotonic()
    with pytest.raises(CrawlError, match="no bootnode answered"):
        await run_crawl(CrawlSettings(bootnodes=[dead], netrestrict="127.0.0.0/8", timeout=0.3, retries=1))
    assert time.monotonic() - started < 5


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (root) to cut the network off")
def test_mainnet_crawl_offline_ends_quickly_with_one_line_error() -> None:
    """In a network namespace with no interfaces, the built-in mainnet bootnodes are unreachable: no packet
    can leave the machine, and the command must say so in one line within seconds."""
    started = time.monotonic()
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "monitor", "crawl", "--out", "/tmp/monitor-offline-test"],
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
    spec = DevnetSpec(nodes=20, seed=12, first_ip="127.22.0.1", port=30303, other_share=0, no_eth_share=0)
    async with run_devnet(spec) as net:
        target = net.nodes[5]
        svc = target.service
        assert svc is not None
        bumped: list[bool] = []
        original = svc._on_enrrequest

        def serve_then_bump(decoded: Any, peer: Any, addr: tuple[str, int]) -> None:
            original(decoded, peer, addr)
            if not bumped:
                bumped.append(True)
                new = ENR.create(target.key, 2, ip=ipaddress.IPv4Address(target.ip), udp=30303, tcp=30303)
                svc.enr, svc._enr_rlp = new, new.to_rlp()
                svc._spawn(svc.ping(Peer(PrivateKey.from_seed(b"crawler").pubkey, addr[0], addr[1])))

        svc._on_enrrequest = serve_then_bump  # type: ignore[method-assign]
        settings = CrawlSettings(
            bootnodes=net.bootnodes[:1],
            netrestrict="127.0.0.0/8",
            timeout=0.5,
            duration=30,
            key=PrivateKey.from_seed(b"crawler"),
        )
        outcome = await run_crawl(settings)
    record = next(r for r in outcome.nodes if r.node_id == target.key.node_id.hex())
    assert bumped and outcome.meta.counters["revisits"] == 1
    assert record.enr_seq == 2 and record.enr is not None and ENR.from_text(record.enr).seq == 2
