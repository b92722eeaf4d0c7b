"""Two crawler processes (`monitor serve --store postgresql://...`) crawl two loopback devnets and write one
PostgreSQL database at the same time; a third process (`monitor serve --role api`) serves both vantage points.

Everything binds in this directory's block 127.54.0.0/16 and ports 24000-24999: the devnets' nodes share the /16's
addresses and differ by port (24301, 24302), the HTTP servers listen on 127.54.0.1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from pgcluster import DEFAULT_HOST as LOOPBACK
from pgcluster import free_pg_port
from stack import http_get, http_ok, start, stop, tail, wait_for

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

DEVNET_FIRST_IP = "127.54.1.1"


@contextmanager
def devnet(tmp: Path, port: int, seed: int) -> Iterator[Path]:
    out, log = tmp / f"devnet-{port}", tmp / f"devnet-{port}.log"
    proc = start(
        [sys.executable, "-m", "monitor", "-q", "devnet", "--nodes", "30", "--first-ip", DEVNET_FIRST_IP,
         "--port", str(port), "--seed", str(seed), "--out", str(out), "--duration", "280"],
        log,
    )  # fmt: skip
    try:
        wait_for("a devnet", lambda: True if (out / "truth.json").exists() or proc.poll() is not None else None, 30)
        if proc.poll() is not None:
            pytest.fail(f"monitor devnet exited with {proc.returncode}\n{tail(log)}")
        yield out
    finally:
        stop(proc)


def serve(port: int, store: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "-v", "serve", "--listen", f"{LOOPBACK}:{port}", "--store", store,
            "--bootstrap", "20", *extra]  # fmt: skip


def crawler(net: Path, data: Path, port: int, store: str, vantage: str) -> list[str]:
    return serve(
        port, store, "--vantage", vantage, "--bootnodes", str(net / "bootnodes.txt"), "--netrestrict", "127.0.0.0/8",
        "--ranges", str(net / "overlay.json"), "--offline", "--simulated", "--data-dir", str(data),
        "--timeout", "0.5", "--duration", "3", "--interval", "5",
    )  # fmt: skip


def _get_json(url: str) -> Any:
    body = http_ok(url)
    return json.loads(body) if body is not None else None


def test_two_crawlers_one_database_and_an_api_serving_both(tmp_path: Path, pg_url: str) -> None:
    with ExitStack() as cleanup:
        nets = [cleanup.enter_context(devnet(tmp_path, port, seed)) for port, seed in ((24301, 1), (24302, 2))]
        logs = {name: tmp_path / f"{name}.log" for name in ("alpha", "beta", "api")}
        for name, net in zip(("alpha", "beta"), nets, strict=True):
            port = free_pg_port(LOOPBACK, 24100 if name == "alpha" else 24200)
            proc = start(crawler(net, tmp_path / name, port, pg_url, name), logs[name])
            cleanup.callback(stop, proc)
        api_port = free_pg_port(LOOPBACK, 24400)
        api = start(serve(api_port, pg_url, "--role", "api", "--interval", "2", "--vantage-window", "600"), logs["api"])
        cleanup.callback(stop, api)
        base = f"http://{LOOPBACK}:{api_port}"
        all_logs = tmp_path / "all.log"

        def both_seen_twice() -> dict[str, Any] | None:
            all_logs.write_text("".join(f"--- {n}\n{tail(p, 1500)}" for n, p in logs.items()))
            history = _get_json(f"{base}/api/history")
            vantages = _get_json(f"{base}/api/vantages")
            if history is None or vantages is None or vantages["vantage_points"] < 2:
                return None
            ok = [c["vantage"] for c in history["crawls"] if c["result"] == "success"]
            return vantages if ok.count("alpha") >= 2 and ok.count("beta") >= 2 else None

        vantages = wait_for("two successful crawls of each vantage in the API", both_seen_twice, 200, all_logs)
        figures = {v["vantage"]: v for v in vantages["vantages"]}
        assert set(figures) == {"alpha", "beta"}
        alpha, beta = figures["alpha"]["nodes"], figures["beta"]["nodes"]
        assert alpha > 10 and beta > 10
        # different devnet seeds: different node ids, so no overlap and the union is the sum
        assert vantages["intersection"] == 0 and vantages["union"] == alpha + beta
        assert figures["alpha"]["coverage"] == pytest.approx(alpha / (alpha + beta))

        only_beta = _get_json(f"{base}/api/history?vantage=beta")
        assert only_beta["crawls"] and {c["vantage"] for c in only_beta["crawls"]} == {"beta"}
        assert _get_json(f"{base}/api/snapshot?vantage=alpha")["meta"]["vantage"] == "alpha"
        assert http_get(f"{base}/api/snapshot?vantage=nobody") == (
            404,
            b'{"error":"no snapshot of vantage \'nobody\'"}',
        )

        def combined_metrics() -> str | None:
            body = http_ok(f"{base}/metrics")
            text = body.decode() if body is not None else ""
            return text if 'eth_hosting_vantage_nodes{scope="discovered",vantage="combined"}' in text else None

        text = wait_for("the combined metrics", combined_metrics, 60, all_logs)
        for name in ("alpha", "beta"):
            assert f'eth_hosting_vantage_nodes{{scope="discovered",vantage="{name}"}}' in text
        assert "eth_hosting_vantage_points 2.0" in text
        assert 'eth_hosting_share_ratio{dedup="node"' in text  # the combined snapshot's analysis
        combined = _get_json(f"{base}/api/snapshot")
        assert combined["meta"]["vantage"] == "combined"
        assert sorted(combined["meta"]["settings"]["vantages"]) == ["alpha", "beta"]
