"""Every panel query and variable query of the committed dashboards parses and returns data on a real Prometheus.

A real Prometheus (Debian `prometheus`) is started on 127.0.0.1 with the project's recording and alert rules; it
scrapes a target exposing the `monitor serve` metric contract. Until the exporter's own test harness is wired in here,
that target is the FIXTURE in contract_metrics.py served by aiohttp on 127.0.0.1 (see `serve_contract_metrics`).
Prometheus's /api/v1/query parses each expression (a syntax error comes back as an error) and the test asserts a
non-empty result.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from contract_metrics import exposition, make_registry
from dash_tools import RULE_FILES, dashboard_files, load_dashboard, panels, require_tool

JOB = "eth-hosting-monitor"

# One value per dashboard variable, as Grafana would interpolate it (multi-value variables as a regex alternation).
VARIABLES = {
    "datasource": None,  # not used inside queries
    "network": "mainnet",
    "scope": "discovered",
    "dedup": "node",
    "provider": "aws|hetzner",
    "denominator": "discovered/node",
    "__rate_interval": "1m",
    "__interval": "30s",
    "__range": "1h",
}


def _queries() -> list[tuple[str, str, str]]:
    """(test id, kind, expression) for every panel target and every query variable of every dashboard."""
    found = []
    for path in dashboard_files():
        doc = load_dashboard(path)
        for panel in panels(doc):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    found.append(
                        (
                            f"{path.stem}:{panel['id']}{target.get('refId', '')}:{panel.get('title')}",
                            "panel",
                            target["expr"],
                        )
                    )
        for var in doc.get("templating", {}).get("list", []):
            if var.get("type") == "query":
                query = var["query"] if isinstance(var["query"], str) else var["query"].get("query", "")
                found.append((f"{path.stem}:var:{var['name']}", "variable", query))
    return found


def interpolate(expr: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in VARIABLES or VARIABLES[name] is None:
            raise AssertionError(f"query uses an unknown dashboard variable ${name}: {expr}")
        return str(VARIABLES[name])

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)\s*$", re.S)


def to_promql(kind: str, expr: str) -> tuple[str, str | None]:
    """PromQL for an expression; Grafana's label_values(selector, label) becomes `group by (label) (selector)`."""
    if kind == "variable":
        match = LABEL_VALUES.match(expr)
        assert match, f"variable query is not label_values(selector, label): {expr}"
        selector, label = match.groups()
        return f"group by ({label}) ({interpolate(selector)})", label
    return interpolate(expr), None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _MetricsServer:
    """aiohttp on 127.0.0.1 in its own thread, serving the FIXTURE metrics at /metrics."""

    def __init__(self) -> None:
        self.registry, _ = make_registry()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="contract-metrics", daemon=True)

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=exposition(self.registry), content_type="text/plain", charset="utf-8")

    async def _main(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "fixture metrics server did not start"

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture(scope="module")
def serve_contract_metrics() -> Iterator[str]:
    """HOST:PORT of a target exposing the metric contract: the FIXTURE (to be replaced by a real `monitor serve`)."""
    server = _MetricsServer()
    server.start()
    try:
        yield f"127.0.0.1:{server.port}"
    finally:
        server.stop()


class PrometheusServer:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> dict[str, Any]:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:  # 400/422 carry the parse error as JSON
            return json.loads(err.read())

    def query(self, expr: str) -> dict[str, Any]:
        return self.get("/api/v1/query", query=expr)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, serve_contract_metrics: str) -> Iterator[PrometheusServer]:
    binary = require_tool("prometheus")
    work = tmp_path_factory.mktemp("prometheus")
    config = work / "prometheus.yml"
    rule_list = "\n".join(f"  - {json.dumps(str(path))}" for path in RULE_FILES)
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n{rule_list}\n"
        f"scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n"
        f"      - targets: [{json.dumps(serve_contract_metrics)}]\n",
        encoding="utf-8",
    )
    port = _free_port()
    log = (work / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = PrometheusServer(f"http://127.0.0.1:{port}")
    try:
        _wait_for_data(server, proc, work / "prometheus.log")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _wait_for_data(server: PrometheusServer, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until the target is up, the rules have run and rate() has two samples to work with."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited with {proc.returncode}:\n{log.read_text()}")
        try:
            ready = (
                server.query(f'up{{job="{JOB}"}} == 1')["data"]["result"]
                and server.query("eth_hosting:reachable_fraction:ratio")["data"]["result"]
                and server.query("rate(eth_hosting_crawl_packets_total[1m]) > 0")["data"]["result"]
            )
        except (OSError, KeyError):
            ready = False
        if ready:
            return
        time.sleep(0.5)
    pytest.fail(f"prometheus never had data from the target:\n{log.read_text()}")


QUERIES = _queries()


def test_dashboards_have_queries() -> None:
    assert dashboard_files(), "no dashboard JSON under dashboards/grafana/dashboards"
    assert len([q for q in QUERIES if q[1] == "panel"]) >= 20


@pytest.mark.parametrize(("kind", "expr"), [(k, e) for _, k, e in QUERIES], ids=[i for i, _, _ in QUERIES])
def test_query_parses_and_returns_data(prometheus: PrometheusServer, kind: str, expr: str) -> None:
    promql, label = to_promql(kind, expr)
    answer = prometheus.query(promql)
    assert answer.get("status") == "success", f"{promql}\n -> {answer.get('errorType')}: {answer.get('error')}"
    result = answer["data"]["result"]
    assert result, f"no data for {promql}"
    if label is not None:
        assert all(sample["metric"].get(label) for sample in result), f"no values of label {label}: {result}"


@pytest.mark.parametrize(
    ("kind", "expr"), [(k, e) for _, k, e in QUERIES if k == "panel"], ids=[i for i, k, _ in QUERIES if k == "panel"]
)
def test_legend_labels_exist(prometheus: PrometheusServer, kind: str, expr: str) -> None:
    """A legend like {{key}} names a label that the query's series actually carry."""
    del kind
    legends = {
        target.get("legendFormat", "")
        for path in dashboard_files()
        for panel in panels(load_dashboard(path))
        for target in panel.get("targets", [])
        if target.get("expr") == expr
    }
    names = {name for legend in legends for name in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend)}
    if not names:
        return
    result = prometheus.query(interpolate(expr))["data"]["result"]
    for sample in result:
        absent = names - set(sample["metric"])
        assert not absent, f"legend label(s) {absent} not on series {sample['metric']} of {expr}"


def test_broken_query_is_reported(prometheus: PrometheusServer) -> None:
    """The parse check is real: Prometheus rejects a malformed expression."""
    answer = prometheus.query("sum by (key (eth_hosting_share_ratio)")
    assert answer.get("status") == "error"
    assert answer.get("errorType") == "bad_data"


def test_every_alert_rule_is_loaded_with_severity_and_annotations(prometheus: PrometheusServer) -> None:
    groups = prometheus.get("/api/v1/rules")["data"]["groups"]
    alerts = [rule for group in groups for rule in group["rules"] if rule["type"] == "alerting"]
    assert len(alerts) >= 8
    for rule in alerts:
        assert rule["health"] == "ok", rule
        assert rule["labels"].get("severity") in {"info", "warning", "critical"}, rule["name"]
        assert rule["annotations"].get("summary"), rule["name"]
        assert rule["annotations"].get("description"), rule["name"]
    recordings = [rule for group in groups for rule in group["rules"] if rule["type"] == "recording"]
    assert all(rule["health"] == "ok" for rule in recordings), recordings
