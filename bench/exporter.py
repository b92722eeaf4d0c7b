"""Exporter benchmark: /metrics scrape latency and the service's peak RSS for synthetic snapshots of 1k/10k/100k nodes.

Each size runs in a fresh process (so its peak RSS is its own): the exporter service with a real SQLite history in a
temporary directory, fed a synthetic attributed snapshot by its crawl job, serving HTTP on 127.0.0.1. It reports the
job's time (analysis + history write + rendering), scrape latency when idle, and scrape latency while a crawl job is
running (the analysis holds the GIL in a worker thread; that is the case the 50 ms target is about).

    .venv/bin/python bench/exporter.py                 # 1k, 10k, 100k
    .venv/bin/python bench/exporter.py --sizes 100000 --scrapes 500
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from monitor.exporter.analysis_worker import child_analyser
from monitor.exporter.app import build_app
from monitor.exporter.service import ExporterService, ServiceConfig
from monitor.seeds import load_claims
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import Snapshot
from monitor.store import DB_FILENAME, open_store

TARGET_MS = 50.0
TARGET_RSS_MB = 300.0


def _rss_mb() -> tuple[float, float]:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, peak


async def _scrape(session: aiohttp.ClientSession, url: str, count: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(count):
        t0 = time.perf_counter()
        async with session.get(url) as resp:
            body = await resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        size = len(body)
    return times, size


def _summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):6.2f} ms  p99 {p99:6.2f} ms  max {ordered[-1]:6.2f} ms"


async def _one(nodes: int, scrapes: int, bootstrap: int) -> None:
    t0 = time.perf_counter()
    snapshots = [synthetic_snapshot(nodes, seed=s, started_at=1_790_000_000.0 + s * 1800) for s in (1, 2)]
    built = time.perf_counter() - t0
    queue = list(snapshots)

    async def source() -> Snapshot:
        return queue.pop(0)

    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(str(Path(tmp) / DB_FILENAME))
        analyser = child_analyser(load_claims(None), bootstrap, seed=1)
        service = ExporterService(store, source, ServiceConfig(), analyser)
        t0 = time.perf_counter()
        assert await service.run_once()
        job = time.perf_counter() - t0
        runner = web.AppRunner(build_app(service))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp exposes no public getter
        url = f"http://127.0.0.1:{port}/metrics"
        async with aiohttp.ClientSession() as session:
            await _scrape(session, url, 5)  # warm up connections
            idle, size = await _scrape(session, url, scrapes)
            crawl = asyncio.create_task(service.run_once())
            busy: list[float] = []
            while not crawl.done():
                times, _ = await _scrape(session, url, 1)
                busy.extend(times)
            assert await crawl
        await runner.cleanup()
        await store.close()  # checkpoints the WAL into the main file
        db_mb = (Path(tmp) / DB_FILENAME).stat().st_size / 2**20
    current, peak = _rss_mb()
    series = sum(1 for line in service.view.metrics.exposition.splitlines() if not line.startswith(b"#"))
    print(f"{nodes:>7,} nodes  snapshot built in {built:5.1f} s; crawl job (analyse+store+render) {job:5.2f} s")
    print(f"         /metrics {size / 1024:6.1f} KiB, {series} series")
    print(f"         scrape idle           ({len(idle):4d}): {_summary(idle)}")
    print(f"         scrape during a crawl ({len(busy):4d}): {_summary(busy)}")
    busy_p99 = sorted(busy)[min(len(busy) - 1, int(len(busy) * 0.99))]
    verdict = "ok" if busy_p99 < TARGET_MS and peak < TARGET_RSS_MB else "OVER TARGET"
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"         RSS now {current:.1f} MB, peak {peak:.1f} MB (analysis child peak {child:.1f} MB); db {db_mb:.1f} MB"
    )
    print(f"         targets (p99 during a crawl < {TARGET_MS:.0f} ms, peak RSS < {TARGET_RSS_MB:.0f} MB): {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated snapshot sizes")
    parser.add_argument("--scrapes", type=int, default=300, help="idle scrapes per size")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates (the serve default)")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        asyncio.run(_one(args.one, args.scrapes, args.bootstrap))
        return 0
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(size), "--scrapes", str(args.scrapes)]
        subprocess.run([*cmd, "--bootstrap", str(args.bootstrap)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
