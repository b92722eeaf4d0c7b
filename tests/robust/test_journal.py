"""Nothing lost: each visit is journalled as the crawl goes; a killed crawl leaves what it found on disk."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peers.sybil_run import PEERS_DIR, ROOT

from monitor.crawl.rlpx_stage import RlpxSettings
from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.sim.devnet import DevnetSpec, run_devnet


async def test_journal_has_one_line_per_visit(tmp_path: Path) -> None:
    journal = tmp_path / "crawl.partial.jsonl"
    async with run_devnet(DevnetSpec(nodes=40, seed=31, first_ip="127.64.40.1", port=29340)) as net:
        settings = CrawlSettings(
            bootnodes=net.bootnodes[:1], network="devnet", netrestrict="127.64.0.0/16", listen_host="127.64.0.1",
            listen_port=29340, timeout=0.5, duration=30, rlpx=RlpxSettings(enabled=False), journal=journal,
        )  # fmt: skip
        outcome = await run_crawl(settings)
    lines = [json.loads(x) for x in journal.read_text().splitlines()]
    assert len(lines) == outcome.meta.counters["contacted"] == 40
    assert {x["node_id"] for x in lines} == {r.node_id for r in outcome.nodes}
    assert all(x["answered_ping"] and x["enr"].startswith("enr:") for x in lines)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_killed_crawl_leaves_its_journal(tmp_path: Path) -> None:
    sybil = subprocess.Popen(
        [sys.executable, str(PEERS_DIR / "sybil.py"), "--ips", "4", "--ports", "4", "--port", "29400"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    try:
        assert sybil.stdout is not None
        boot = json.loads(sybil.stdout.readline())["bootnode"]
        crawl = subprocess.Popen(
            [sys.executable, "-m", "monitor", "crawl", "-q", "--bootnodes", boot, "--netrestrict", "127.64.0.0/15",
             "--listen", "127.64.0.12:29401", "--duration", "60", "--no-rlpx", "--out", str(tmp_path),
             "--max-per-ip", "100000"],
            cwd=ROOT, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        journal: list[Path] = []
        while time.monotonic() < deadline and not any(p.stat().st_size > 5_000 for p in journal):
            time.sleep(0.5)
            journal = list(tmp_path.glob("crawl-*.partial.jsonl"))
        crawl.send_signal(signal.SIGKILL)
        crawl.wait()
    finally:
        if sybil.stdin is not None:
            sybil.stdin.close()
        sybil.wait(timeout=10)
    assert journal, "no journal while the crawl ran"
    lines = journal[0].read_text().splitlines()
    assert len(lines) > 10 and all(json.loads(x)["protocol"] == "discv4" for x in lines[:-1])
    assert not list(tmp_path.glob("crawl-*Z.jsonl"))  # the final file was never written: the journal is all there is
