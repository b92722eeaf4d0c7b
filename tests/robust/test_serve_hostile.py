"""Issue 16, defect 6: ``monitor serve`` answers strict JSON only, logs junk requests once a minute per kind, and
records an interrupted crawl in history and in the error counter."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "exporter"))
from exporter_helpers import make_service

from monitor.exporter.app import build_app
from monitor.exporter.logfilter import RateLimitedErrors
from monitor.exporter.service import ExporterService, strict_json
from monitor.snapshot import Snapshot

pytestmark = pytest.mark.timeout(60)
HOST, PORT = "127.64.0.60", 29060


def _strict_loads(body: bytes) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"not JSON: {name}")

    return json.loads(body, parse_constant=refuse)


class Hanging:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def __call__(self) -> Snapshot:
        self.started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ExporterService, Hanging, str]]:
    source = Hanging()
    service = make_service(tmp_path, source, crawl_timeout=600)
    runner = web.AppRunner(build_app(service))
    await runner.setup()
    await web.TCPSite(runner, HOST, PORT).start()
    try:
        yield service, source, f"http://{HOST}:{PORT}"
    finally:
        await service.cancel_running()
        await runner.cleanup()
        await service.store.close()


@pytest.mark.parametrize("since", ["nan", "NaN", "inf", "-inf", "1e400", "-1e400"])
async def test_history_never_answers_nan_or_infinity(served: tuple[ExporterService, Hanging, str], since: str) -> None:
    _service, _source, url = served
    async with aiohttp.ClientSession() as session, session.get(f"{url}/api/history?since={since}") as resp:
        body = await resp.read()
    assert resp.status == 400
    assert "finite" in str(_strict_loads(body))


def test_non_finite_numbers_anywhere_become_null() -> None:
    doc = {"a": float("nan"), "b": [1.0, float("inf"), {"c": -float("inf")}], "d": 2.5}
    assert strict_json(doc) == {"a": None, "b": [1.0, None, {"c": None}], "d": 2.5}
    json.dumps(strict_json(doc), allow_nan=False)  # would raise on any NaN left


async def test_malformed_requests_are_logged_once_a_minute_per_kind(
    served: tuple[ExporterService, Hanging, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    kinds = [b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"]
    for junk in kinds * 25:  # each logged an ERROR with a traceback, every time
        reader, writer = await asyncio.open_connection(HOST, PORT)
        writer.write(junk)
        await writer.drain()
        await reader.read()
        writer.close()
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(records) == len(kinds)  # one per kind in the minute, not one per request
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    assert {r.getMessage().split(": ")[1] for r in records} == {"BadHttpMessage", "BadStatusLine"}


def test_filter_reports_how_many_were_held_back() -> None:
    clock = [0.0]
    limiter = RateLimitedErrors(60.0, now=lambda: clock[0])

    def record() -> logging.LogRecord:
        try:
            raise ValueError("bad request line")
        except ValueError:
            return logging.LogRecord(
                "aiohttp.server", logging.ERROR, "x", 1, "Error handling request", (), sys.exc_info()
            )

    assert limiter.filter(record())
    assert not any(limiter.filter(record()) for _ in range(99))
    clock[0] = 61.0
    again = record()
    assert limiter.filter(again) and "99 more like it" in again.getMessage() and again.exc_info is None


async def test_interrupted_crawl_is_in_history_and_the_error_counter(
    served: tuple[ExporterService, Hanging, str],
) -> None:
    service, source, url = served
    job = asyncio.create_task(service.run_once())
    await source.started.wait()
    await service.cancel_running()  # what SIGTERM does to `monitor serve`
    assert job.cancelled()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/api/history") as resp:
            history = _strict_loads(await resp.read())
        async with session.get(f"{url}/metrics") as resp:
            metrics = (await resp.read()).decode()
    assert isinstance(history, dict)
    assert [c.get("failure") for c in history["crawls"]] == ["crawl_interrupted"]
    line = next(x for x in metrics.splitlines() if 'kind="crawl_interrupted"' in x and not x.startswith("#"))
    assert line.endswith(" 1.0")


async def test_shutdown_during_the_analysis_is_recorded_as_interrupted_too(tmp_path: Path) -> None:
    """The crawl is done and the analysis runs when SIGTERM comes: still an interrupted attempt, not a silent one."""
    from monitor.exporter.service import ServiceConfig
    from monitor.sim.synthetic import synthetic_snapshot
    from monitor.store.sqlite import SqliteStore

    analysing = asyncio.Event()

    async def source() -> Snapshot:
        return synthetic_snapshot(50, seed=3)

    async def slow_analyser(_snapshot: Snapshot) -> dict[str, object]:
        analysing.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    store = SqliteStore(tmp_path / "history.sqlite3")
    store.migrate_sync()
    service = ExporterService(store, source, ServiceConfig(interval=60.0, crawl_timeout=30.0), slow_analyser)
    job = asyncio.create_task(service.run_once())
    await analysing.wait()
    await service.cancel_running()
    assert job.cancelled()
    rows = await service.store.history(0)
    await service.store.close()
    assert [r.get("failure") for r in rows] == ["crawl_interrupted"]
