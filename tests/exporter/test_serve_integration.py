"""``monitor serve`` as a subprocess against a loopback devnet: a real Prometheus scrapes it; kill -9 and restart.

Every process is started by a fixture or inside try/finally and killed at the end. Devnets use their own /16s of
127.0.0.0/8 and every TCP port is a free one, so these tests run beside others.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from exporter_helpers import free_port, require_tool

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, logs: Path | None = None) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.2)
    tail = logs.read_text(errors="replace")[-3000:] if logs is not None and logs.exists() else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n--- log tail ---\n{tail}")


def http_get(url: str) -> tuple[int, bytes] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def http_ok(url: str) -> bytes | None:
    got = http_get(url)
    return got[1] if got is not None and got[0] == 200 else None


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=os.environ.copy())


def devnet(tmp: Path, first_ip: str, nodes: int = 40) -> Iterator[Path]:
    out = tmp / f"devnet-{first_ip}"
    log = tmp / f"devnet-{first_ip}.log"
    cmd = [sys.executable, "-m", "monitor", "-q", "devnet", "--nodes", str(nodes), "--first-ip", first_ip]
    proc = start([*cmd, "--out", str(out), "--duration", "170"], log)
    try:
        wait_for("the devnet", lambda: True if (out / "truth.json").exists() else None, 30, log)
        yield out
    finally:
        stop(proc)


@pytest.fixture
def devnet_a(tmp_path: Path) -> Iterator[Path]:
    yield from devnet(tmp_path, "127.42.0.1")


@pytest.fixture
def devnet_b(tmp_path: Path) -> Iterator[Path]:
    yield from devnet(tmp_path, "127.43.0.1")


def serve_cmd(net: Path, data: Path, port: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "monitor", "-v", "serve",
        "--bootnodes", str(net / "bootnodes.txt"), "--netrestrict", "127.0.0.0/8",
        "--ranges", str(net / "overlay.json"), "--offline", "--simulated",
        "--listen", f"127.0.0.1:{port}", "--data-dir", str(data), "--bootstrap", "20", "--timeout", "0.5", *extra,
    ]  # fmt: skip


def prometheus_query(base: str, query: str) -> list[Any] | None:
    got = http_get(f"{base}/api/v1/query?query={urllib.parse.quote(query)}")
    if got is None or got[0] != 200:
        return None
    result: list[Any] = json.loads(got[1])["data"]["result"]
    return result or None


def test_real_prometheus_scrapes_the_share_metrics(tmp_path: Path, devnet_a: Path) -> None:
    prometheus = require_tool("prometheus")
    port, prom_port = free_port(), free_port()
    serve_log, prom_log = tmp_path / "serve.log", tmp_path / "prometheus.log"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: monitor\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    serve = start(serve_cmd(devnet_a, tmp_path / "data", port, "--duration", "3", "--interval", "5"), serve_log)
    prom = start(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        prom_log,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{prom_port}"
        shares = wait_for(
            "eth_hosting_share_ratio in Prometheus (is `monitor serve` crawling the devnet and being scraped?)",
            lambda: prometheus_query(base, 'eth_hosting_share_ratio{scope="reachable",dedup="node"}'),
            90,
            serve_log,
        )
        assert {s["metric"]["dimension"] for s in shares} == {"provider", "region", "country", "asn"}
        up = prometheus_query(base, 'up{job="monitor"}')
        assert up is not None and up[0]["value"][1] == "1"
        assert prometheus_query(base, "eth_hosting_simulated == 1") is not None
        assert prometheus_query(base, 'eth_hosting_crawls_total{result="success"} >= 1') is not None
        status, body = http_get(f"http://127.0.0.1:{port}/healthz") or (0, b"")
        assert status == 200, body
    finally:
        stop(prom)
        stop(serve)


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
        results = [r[0] for r in db.execute("SELECT result FROM crawls ORDER BY id")]
    assert results and set(results) == {"success"}  # the killed and the abandoned crawl left no rows
