"""The service in process: crawl job outcomes, the HTTP API, history, and scrapes racing a snapshot swap."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from exporter_helpers import free_port, make_service

from monitor.errors import CrawlError
from monitor.exporter import metrics as m
from monitor.exporter.app import build_app, parse_since
from monitor.exporter.service import ExporterService
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import Snapshot

pytestmark = pytest.mark.timeout(60)

T0 = float(int(time.time()) // 3600 * 3600 - 7200)  # recent: older crawls fall to the 30-day retention


class Feed:
    """A snapshot source that returns queued snapshots, raises queued errors, or hangs."""

    def __init__(self) -> None:
        self.items: list[Snapshot | BaseException | None] = []

    async def __call__(self) -> Snapshot:
        item = self.items.pop(0)
        if item is None:
            await asyncio.sleep(3600)  # a crawl that never ends
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, Snapshot)
        return item


def snap(n: int, seed: int, when: float = T0) -> Snapshot:
    return synthetic_snapshot(n, seed=seed, started_at=when)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ExporterService, Feed, str]]:
    feed = Feed()
    service = make_service(tmp_path, feed, crawl_timeout=0.5)
    runner = web.AppRunner(build_app(service))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield service, feed, f"http://127.0.0.1:{port}"
    finally:
        await service.cancel_running()
        await runner.cleanup()
        await service.store.close()


async def _get(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.read()


async def test_failed_and_timed_out_crawls_are_counted_and_the_previous_snapshot_is_kept(
    served: tuple[ExporterService, Feed, str],
) -> None:
    service, feed, url = served
    status, body = await _get(url + "/api/snapshot")
    assert status == 503
    status, body = await _get(url + "/healthz")
    assert status == 503 and b"no successful crawl yet" in body
    first = snap(300, 1)
    feed.items += [first, CrawlError("no bootnode answered"), None]
    assert await service.run_once()
    assert not await service.run_once()
    assert not await service.run_once()  # the hanging crawl hits the 0.5 s timeout
    status, body = await _get(url + "/api/snapshot")
    assert status == 200 and first.meta.id.encode() in body
    status, text = await _get(url + "/metrics")
    assert b'eth_hosting_crawls_total{result="failure"} 2.0' in text
    assert b'eth_hosting_crawl_errors_total{kind="crawl_failed"} 1.0' in text
    assert b'eth_hosting_crawl_errors_total{kind="crawl_timeout"} 1.0' in text
    assert m.SHARE.encode() in text
    status, body = await _get(url + "/healthz")
    assert status == 200 and b"crawl_timeout" in body
    rows = await service.store.history(0)
    assert [r["result"] for r in rows] == ["success", "failure", "failure"]
    assert rows[0]["populations"]["reachable/node"]["provider"]["top"]["aws"] > 0


async def test_healthz_turns_unhealthy_after_two_intervals(tmp_path: Path) -> None:
    now = {"t": T0}
    feed = Feed()
    service = make_service(tmp_path, feed, interval=100, clock=lambda: now["t"])
    feed.items.append(snap(50, 2))
    assert await service.run_once()
    assert service.health_report(now["t"] + 199)[0]
    ok, body = service.health_report(now["t"] + 201)
    assert not ok and "limit 200" in body["reason"]
    await service.store.close()


async def test_history_api_filters_by_time(served: tuple[ExporterService, Feed, str]) -> None:
    service, feed, url = served
    feed.items += [snap(60, 1, T0), snap(60, 2, T0 + 1000)]
    assert await service.run_once() and await service.run_once()  # the filter reads the crawls' own start times
    for since, count in ((None, 2), (str(T0 + 500), 1), (_iso(T0 + 500), 1), ("2099-01-01", 0)):
        query = "" if since is None else f"?since={since}"
        status, body = await _get(url + "/api/history" + query)
        assert status == 200
        assert body.count(b'"snapshot_id"') == count, (since, body[:200])
    status, _ = await _get(url + "/api/history?since=yesterday")
    assert status == 400
    assert parse_since(str(int(T0))) == T0 == parse_since(_iso(T0)) == parse_since(_iso(T0).removesuffix("Z"))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_concurrent_scrapes_while_crawls_swap_the_snapshot(served: tuple[ExporterService, Feed, str]) -> None:
    """Each scrape is one whole metric set: the snapshot timestamp and the population size always match."""
    service, feed, url = served
    sizes = {T0 + i * 1800: 200 + 50 * i for i in range(6)}
    feed.items += [snap(n, i, when) for i, (when, n) in enumerate(sizes.items())]
    assert await service.run_once()
    stop = asyncio.Event()
    seen: set[float] = set()

    async def scraper(session: aiohttp.ClientSession) -> int:
        count = 0
        while not stop.is_set():
            async with session.get(url + "/metrics") as resp:
                assert resp.status == 200
                text = (await resp.text()).splitlines()
            ts = _value(text, "eth_hosting_snapshot_timestamp_seconds ")
            units = _value(
                text, 'eth_hosting_population_units{dedup="node",layer="all",network="synthetic",scope="discovered"}'
            )
            assert units == sizes[ts], (ts, units)
            seen.add(ts)
            count += 1
        return count

    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(scraper(session)) for _ in range(8)]
        for _ in range(5):
            assert await service.run_once()
            await asyncio.sleep(0.05)
        stop.set()
        counts = await asyncio.gather(*tasks)
    assert sum(counts) > 40 and len(seen) >= 3


def _value(lines: list[str], prefix: str) -> float:
    for line in lines:
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {prefix!r}")


async def test_restore_serves_the_stored_snapshot_and_counters(tmp_path: Path) -> None:
    feed = Feed()
    service = make_service(tmp_path, feed)
    first = snap(120, 4)
    feed.items += [first, RuntimeError("boom")]
    assert await service.run_once()
    assert not await service.run_once()
    await service.store.close()
    again = make_service(tmp_path, Feed())
    await again.restore()
    assert again.view.document is not None and again.view.document["meta"]["id"] == first.meta.id
    assert b'eth_hosting_crawls_total{result="success"} 1.0' in again.view.metrics.exposition
    assert b'eth_hosting_crawls_total{result="failure"} 1.0' in again.view.metrics.exposition
    assert again.view.health.last_failure == "crawl_failed"
    assert again.store.integrity_check() == "ok"
    await again.store.close()


def test_snapshot_document_carries_meta_without_nodes() -> None:
    from monitor.exporter.service import snapshot_document

    s = snap(10, 1)
    doc = snapshot_document(s, {"x": 1})
    assert doc["meta"]["id"] == s.meta.id and "nodes" not in doc
    assert dataclasses.asdict(s.meta)["counters"] == doc["meta"]["counters"]
