"""The real monitoring stack for tests: a loopback devnet, `monitor serve` crawling it, and one Prometheus scraping it.

``real_stack`` is a session-scoped fixture: the dashboard query test and the exporter integration test share one
stack. It is registered as a pytest plugin (see ``register``, called from tests/dashboards/conftest.py and
tests/exporter/conftest.py) so that it is ONE fixture for the whole session, however the tests are selected. The stack
is stopped right after the last test that uses it (not at the end of the session, so it does not load the machine
while unrelated tests run) and, in any case, by the fixture's teardown.

Prometheus loads the project's recording and alert rules (dashboards/prometheus/rules/*.yml), scrapes every second
and evaluates every second. The fixture returns once (bounded wait) the share metrics are in Prometheus, every rule
has been evaluated, every recording rule has data and every counter has at least two samples (rate() / increase()
need two). Every process is started in its own process group and killed, group and all, in a finally block.

The process and HTTP helpers here are shared with tests/exporter (exporter_helpers re-exports them).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from external_tools import require_tool

__all__ = [
    "JOB",
    "STACK_FIRST_IP",
    "RULE_FILES",
    "Prometheus",
    "Stack",
    "devnet",
    "free_port",
    "http_get",
    "http_ok",
    "real_stack",
    "register",
    "require_tool",
    "serve_cmd",
    "start",
    "start_stack",
    "stop",
    "wait_for",
]

REPO = Path(__file__).resolve().parents[1]
RULE_FILES = sorted((REPO / "dashboards" / "prometheus" / "rules").glob("*.yml"))
JOB = "eth-hosting-monitor"  # the job name the alert rules select on (EthHostingExporterDown)
STACK_FIRST_IP = "127.44.0.1"  # the stack's devnet /16: no other test uses 127.44.0.0/16
FIXTURE = "real_stack"

T = TypeVar("T")


# ---- tools, ports, processes, HTTP ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tail(log: Path | None, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log is not None and log.exists() else ""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, logs: Path | None = None) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n--- log tail ---\n{tail(logs)}")


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


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A subprocess in its own process group (so that ``stop`` also reaches anything it started)."""
    with log.open("ab") as fh:
        return subprocess.Popen(
            args, stdout=fh, stderr=subprocess.STDOUT, env=os.environ.copy(), start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process and its process group; idempotent."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group leader is proc itself (start_new_session)
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@contextmanager
def devnet(tmp: Path, first_ip: str, nodes: int = 40, duration: float = 170) -> Iterator[Path]:
    """``monitor devnet`` on the /16 of ``first_ip``; yields its output directory (bootnodes, overlay, truth)."""
    out = tmp / f"devnet-{first_ip}"
    log = tmp / f"devnet-{first_ip}.log"
    cmd = [sys.executable, "-m", "monitor", "-q", "devnet", "--nodes", str(nodes), "--first-ip", first_ip]
    proc = start([*cmd, "--out", str(out), "--duration", str(duration)], log)
    try:
        wait_for("the devnet", lambda: True if (out / "truth.json").exists() or proc.poll() is not None else None, 30)
        if proc.poll() is not None:
            pytest.fail(f"monitor devnet exited with {proc.returncode}\n{tail(log)}")
        yield out
    finally:
        stop(proc)


def serve_cmd(net: Path, data: Path, port: int, *extra: str) -> list[str]:
    """``monitor serve`` against a devnet: loopback only, the devnet's overlay, no network lookups."""
    return [
        sys.executable, "-m", "monitor", "-v", "serve",
        "--bootnodes", str(net / "bootnodes.txt"), "--netrestrict", "127.0.0.0/8",
        "--ranges", str(net / "overlay.json"), "--offline", "--simulated",
        "--listen", f"127.0.0.1:{port}", "--data-dir", str(data), "--bootstrap", "20", "--timeout", "0.5", *extra,
    ]  # fmt: skip


class Prometheus:
    """A client of Prometheus' HTTP API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> dict[str, Any]:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:
                answer: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as err:  # 400/422 carry the parse error as JSON
            answer = json.loads(err.read())
        return answer

    def query(self, expr: str) -> dict[str, Any]:
        return self.get("/api/v1/query", query=expr)

    def result(self, expr: str) -> list[dict[str, Any]]:
        """The samples of an instant query; an error answer or an unreachable server reads as no samples."""
        try:
            answer = self.query(expr)
        except (OSError, ValueError):
            return []
        if answer.get("status") != "success":
            return []
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def rules(self) -> list[dict[str, Any]]:
        groups = self.get("/api/v1/rules")["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]


# ---- the stack -----------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    devnet: Path  # bootnodes.txt, overlay.json, truth.json of the devnet
    serve_url: str  # http://127.0.0.1:PORT of `monitor serve`
    prometheus: Prometheus
    logs: dict[str, Path]  # devnet, serve, prometheus

    def log_tails(self) -> str:
        return "\n".join(f"--- {name} log tail ---\n{tail(path, 1500)}" for name, path in self.logs.items())


def prometheus_config(path: Path, target: str, rule_files: list[Path]) -> None:
    rules = "\n".join(f"  - {json.dumps(str(rule))}" for rule in rule_files)
    path.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n{rules}\n"
        f"scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: [{json.dumps(target)}]\n",
        encoding="utf-8",
    )


def _not_ready(prom: Prometheus) -> str | None:
    """What the stack still lacks, or None once the dashboards can have data."""
    if not prom.result(f'up{{job="{JOB}"}} == 1'):
        return f"Prometheus scraping `monitor serve` (up{{job={JOB!r}}} == 1)"
    if not prom.result('eth_hosting_share_ratio{dimension="provider"}'):
        return "the share metrics (eth_hosting_share_ratio) in Prometheus"
    # rate() and increase() need two samples of every counter.
    if not prom.result('min(count_over_time({__name__=~"eth_hosting_.+_total"}[1m])) >= 2'):
        return "two scrapes of every eth_hosting_*_total counter"
    try:
        rules = prom.rules()
    except (OSError, KeyError, ValueError):
        return "the rules API"
    if len(rules) == 0:
        return "the rule files to be loaded"
    unevaluated = [rule["name"] for rule in rules if rule.get("health") == "unknown"]
    if unevaluated:
        return f"a first evaluation of the rules {unevaluated}"
    records = sorted({rule["name"] for rule in rules if rule["type"] == "recording"})
    empty = [name for name in records if not prom.result(name)]
    if empty:
        return f"data from the recording rules {empty}"
    return None


@contextmanager
def start_stack(work: Path, *, first_ip: str = STACK_FIRST_IP, timeout: float = 90) -> Iterator[Stack]:
    """devnet + `monitor serve` + Prometheus under ``work``: yields once they have data, kills them all on exit."""
    prometheus = require_tool("prometheus")
    logs = {
        "devnet": work / f"devnet-{first_ip}.log",
        "serve": work / "serve.log",
        "prometheus": work / "prometheus.log",
    }
    with ExitStack() as cleanup:
        net = cleanup.enter_context(devnet(work, first_ip, nodes=40, duration=3600))
        port, prom_port = free_port(), free_port()
        serve = start(serve_cmd(net, work / "data", port, "--duration", "3", "--interval", "5"), logs["serve"])
        cleanup.callback(stop, serve)
        config = work / "prometheus.yml"
        prometheus_config(config, f"127.0.0.1:{port}", RULE_FILES)
        prom_proc = start(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={work / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            logs["prometheus"],
        )  # fmt: skip
        cleanup.callback(stop, prom_proc)
        stack = Stack(net, f"http://127.0.0.1:{port}", Prometheus(f"http://127.0.0.1:{prom_port}"), logs)

        deadline = time.monotonic() + timeout
        lacking: str | None = "the stack to start"
        while time.monotonic() < deadline:
            for name, proc in (("monitor serve", serve), ("prometheus", prom_proc)):
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited with {proc.returncode}\n{stack.log_tails()}")
            lacking = _not_ready(stack.prometheus)
            if lacking is None:
                break
            time.sleep(0.25)
        else:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {lacking}\n{stack.log_tails()}")
        yield stack


# ---- the fixture, as a plugin ---------------------------------------------------------------------------------------

_running: list[ExitStack] = []  # the live stack's cleanup, so that it can be stopped early
_last_user: list[pytest.Item] = []


def _close() -> None:
    while _running:
        _running.pop().close()


@pytest.fixture(scope="session")
def real_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One devnet + `monitor serve` + Prometheus (with the dashboards' rules) for the whole session."""
    work = tmp_path_factory.mktemp("stack")
    with ExitStack() as cleanup:
        _running.append(cleanup)
        try:
            yield cleanup.enter_context(start_stack(work))
        finally:
            _close()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the stack as soon as the last test that uses it is done (the fixture's own teardown comes much later)."""
    del nextitem
    if not _running:
        return
    if not _last_user:
        users = [it for it in item.session.items if FIXTURE in getattr(it, "fixturenames", ())]
        if not users:
            return
        _last_user.append(users[-1])
    if item is _last_user[0]:
        _close()


def register(config: pytest.Config) -> None:
    """Make this module a plugin once (called from the conftest of every directory whose tests use the stack)."""
    module = sys.modules[__name__]
    if not config.pluginmanager.is_registered(module):
        config.pluginmanager.register(module, "eth-hosting-stack")
