"""``monitor crawl`` with discv5 through the command line: ``--netrestrict`` holds for discv5, and a crawl of both
protocols from a mixed devnet's ``bootnodes.txt`` writes records with protocols, layer and eth2, and a summary that
counts layers and protocols."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.discovery.enr import ENR
from monitor.discovery.v5.service import Discv5Service, ServiceConfig
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import UDPTransport
from monitor.sim.devnet_v5 import table_server
from monitor.snapshot import read_jsonl

pytestmark = pytest.mark.timeout(180)

LOOPBACK = NetRestrict.parse("127.0.0.0/8")


def _monitor(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *args]


def _crawl_args(tmp: Path, *args: str) -> list[str]:
    return _monitor(
        "crawl", "--nodekey", str(tmp / "nodekey"), "--out", str(tmp / "out"), "--no-rlpx", "--timeout", "0.5",
        "--duration", "60", *args,
    )  # fmt: skip


async def _peer(key: PrivateKey, ip: str, port: int, table: list[ENR]) -> tuple[Discv5Service, UDPTransport, ENR]:
    record = ENR.create(key, 1, ip=ipaddress.IPv4Address(ip), udp=port)
    service = Discv5Service(key, record, ServiceConfig(), nodes_at=table_server(key.node_id, table))
    transport = await UDPTransport.open(service, ip, port, LOOPBACK, service.stats)
    service.attach(transport, (ip, port))
    return service, transport, record


async def test_netrestrict_holds_for_discv5_through_the_cli(tmp_path: Path) -> None:
    """A peer inside 127.57.0.0/16 lists two live nodes in 127.58.0.0/16 and one public address: the crawl visits
    the inside ones only, the outside listeners receive nothing, and the three are counted as filtered."""
    inside_key, far_keys = PrivateKey.from_seed(b"v5-inside"), [PrivateKey.from_seed(b"v5-far-%d" % i) for i in (1, 2)]
    started = [await _peer(inside_key, "127.57.201.2", 27402, [])]
    started += [await _peer(k, f"127.58.201.{i + 1}", 27403, []) for i, k in enumerate(far_keys)]
    public_key = PrivateKey.from_seed(b"v5-public")
    public = ENR.create(public_key, 1, ip=ipaddress.IPv4Address("203.0.113.7"), udp=9000)
    listed = [s[2] for s in started] + [public]
    advertiser = await _peer(PrivateKey.from_seed(b"v5-advertiser"), "127.57.201.1", 27401, listed)
    started.append(advertiser)
    try:
        argv = _crawl_args(tmp_path, "--discovery", "v5", "--bootnodes", advertiser[2].to_text(),
                           "--netrestrict", "127.57.0.0/16", "--listen", "127.57.0.1:27410")  # fmt: skip
        proc = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        far_traffic = [s[0].stats["datagrams_in"] for s in started[1:3]]
        inside_traffic = started[0][0].stats["datagrams_in"]
    finally:
        for service, transport, _ in started:
            transport.close()
            await service.close()
    assert proc.returncode == 0, err.decode()
    assert far_traffic == [0, 0] and inside_traffic > 0
    meta, nodes = read_jsonl(next((tmp_path / "out").glob("crawl-*.jsonl")))
    assert meta is not None and meta.filtered == {"discv5_outside_netrestrict": 3}
    assert {n.ip for n in nodes} == {"127.57.201.1", "127.57.201.2"}
    assert all(n.protocols == ("discv5",) for n in nodes)
    assert "discv5_outside_netrestrict 3" in out.decode()


@pytest.fixture(scope="module")
def mixed_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("devnet")
    argv = _monitor("-q", "devnet", "--discovery", "both", "--nodes", "150", "--seed", "58",
                    "--first-ip", "127.57.0.1", "--port", "27500", "--out", str(out), "--duration", "150")  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / "truth.json").exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "devnet did not start"
            time.sleep(0.1)
        yield out
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_cli_crawl_of_both_protocols_writes_layers_and_protocols(mixed_devnet: Path, tmp_path: Path) -> None:
    truth = {n["id"]: n for n in json.loads((mixed_devnet / "truth.json").read_text())["nodes"]}
    lines = (mixed_devnet / "bootnodes.txt").read_text().split()
    assert {line.split(":")[0] for line in lines} == {"enode", "enr"}
    argv = _crawl_args(tmp_path, "--discovery", "both", "--bootnodes", str(mixed_devnet / "bootnodes.txt"),
                       "--netrestrict", "127.57.0.0/16", "--listen", "127.57.0.1:27510")  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    meta, nodes = read_jsonl(next((tmp_path / "out").glob("crawl-*.jsonl")))
    assert meta is not None and meta.settings["discovery"] == ["discv4", "discv5"]
    assert {n.node_id for n in nodes} == set(truth)
    for node in nodes:
        expected = truth[node.node_id]
        assert (node.protocols, node.layer) == (tuple(expected["protocols"]), expected["layer"])
        assert (node.eth2 is not None) == ("discv5" in expected["protocols"])
    layers = Counter(n["layer"] for n in truth.values())
    seen = Counter(" and ".join(n["protocols"]) for n in truth.values())
    assert f"{len(truth)} nodes discovered" in proc.stdout
    line = next(x for x in proc.stdout.splitlines() if x.startswith("layers: "))
    shown_layers, shown_seen = (_parse_counts(part) for part in line.removeprefix("layers: ").split("; seen by: "))
    assert shown_layers == {layer: layers[layer] for layer in ("execution", "consensus", "unknown")}
    assert shown_seen == dict(seen)


def _parse_counts(text: str) -> dict[str, int]:
    """``"execution 3 / consensus 2"`` -> ``{"execution": 3, "consensus": 2}``."""
    return {name: int(n) for name, _, n in (item.rpartition(" ") for item in text.split(" / "))}
