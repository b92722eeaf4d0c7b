"""``monitor serve`` as a subprocess against a loopback devnet: a real Prometheus scrapes it; kill -9 and restart.

The Prometheus test uses the session's shared stack (``real_stack``, tests/stack.py: devnet on 127.44.0.0/16 +
`monitor serve` + Prometheus with the dashboards' rules), which the dashboard query test uses too. The restart test
runs its own devnet (127.43.0.0/16) and servers. Every process is started by a fixture or inside try/finally and
killed at the end; every TCP port is a free one, so these tests run beside others.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from stack import JOB, Stack, devnet, free_port, http_get, http_ok, serve_cmd, start, stop, wait_for

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


@pytest.fixture
def devnet_b(tmp_path: Path) -> Iterator[Path]:
    with devnet(tmp_path, "127.43.0.1") as net:
        yield net


def test_real_prometheus_scrapes_the_share_metrics(real_stack: Stack) -> None:
    """The shared stack (tests/stack.py): a real Prometheus scraping `monitor serve` that crawls the devnet."""
    prom = real_stack.prometheus
    shares = prom.result('eth_hosting_share_ratio{scope="reachable",dedup="node"}')
    assert {s["metric"]["dimension"] for s in shares} == {
        "provider",
        "region",
        "country",
        "asn",
        "category",
        "client",
    }, shares
    # the devnet's nodes may not be dialed over RLPx: the client series exist anyway, "unknown" included
    assert prom.result('eth_hosting_share_ratio{dimension="client",key="unknown"}'), shares
    assert prom.result('eth_hosting_client_share_by_provider_ratio{scope="reachable",client="unknown"}')
    up = prom.result(f'up{{job="{JOB}"}}')
    assert up and up[0]["value"][1] == "1", up
    assert prom.result("eth_hosting_simulated == 1")
    assert prom.result('eth_hosting_crawls_total{result="success"} >= 1')
    status, body = http_get(f"{real_stack.serve_url}/healthz") or (0, b"")
    assert status == 200, body


def _running_crawl(port: int) -> bool | None:
    got = http_get(f"http://127.0.0.1:{port}/healthz")
    if got is None or got[0] != 200:
        return None
    body = json.loads(got[1])
    return True if body["crawl_running"] and body["last_success_at"] else None


def test_kill_9_during_a_crawl_then_restart_serves_the_previous_snapshot(tmp_path: Path, devnet_b: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    log = tmp_path / "serve.log"
    first = start(serve_cmd(devnet_b, data, port, "--duration", "4", "--interval", "6"), log)
    try:
        wait_for("the first snapshot", lambda: http_ok(f"http://127.0.0.1:{port}/api/snapshot"), 60, log)
        wait_for("a second crawl to be running", lambda: _running_crawl(port), 60, log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    with sqlite3.connect(data / "history.sqlite3") as db:
        stored = db.execute("SELECT snapshot_id FROM crawls WHERE result='success' ORDER BY id DESC").fetchone()[0]
    port2 = free_port()
    second = start(serve_cmd(devnet_b, data, port2, "--duration", "60", "--interval", "3600"), log)
    try:
        got = wait_for(
            "the restarted server", lambda: http_get(f"http://127.0.0.1:{port2}/api/snapshot"), 15, log
        )  # well before its own 60 s crawl could finish
        assert got[0] == 200 and json.loads(got[1])["meta"]["id"] == stored
        metrics = http_get(f"http://127.0.0.1:{port2}/metrics")
        assert metrics is not None and b"eth_hosting_share_ratio{" in metrics[1]
        assert _running_crawl(port2)  # its own crawl is under way: SIGTERM must abandon it cleanly
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    finally:
        stop(second)
    with sqlite3.connect(data / "history.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        results = [tuple(r) for r in db.execute("SELECT result, failure FROM crawls ORDER BY id")]
    # The crawl killed with -9 left no row; the one abandoned at SIGTERM is recorded as interrupted, and last.
    assert results[-1] == ("failure", "crawl_interrupted"), results
    assert results[:-1] and set(results[:-1]) == {("success", None)}, results
