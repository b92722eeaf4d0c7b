"""History store benchmark: SQLite and PostgreSQL, at the scale of 30 days of 48 crawls/day of 20,000 nodes.

Per backend, in a fresh database:

1. ingest: ``record_success`` of one synthetic 20,000-node crawl (observations, aggregates, document, counters in one
   transaction; COPY for PostgreSQL), best and median of ``--ingest-runs`` on the empty database; rows/s counts the
   observation rows;
2. fill: ``--days`` x ``--per-day`` crawls of ``--nodes`` nodes each (node retention as long as the history, so every
   observation row is kept: ~29 M rows at full scale). The rows are copied inside the database engine from one
   template crawl (INSERT ... SELECT), which is how we can afford the volume; the per-crawl figures above say what a
   real ingest costs;
3. the history API over HTTP (the real aiohttp app on 127.0.0.1): p50/p99 of ``/api/history`` for the last 24 h
   (48 crawls) and for the whole history, and of ``/api/snapshot?vantage=...`` (one vantage's latest document);
   then the read behind ``--role api`` (the latest crawl of every vantage, with its observations);
4. size: the database on disk (SQLite: the file after a checkpoint; PostgreSQL: every relation with its indexes and
   TOAST), i.e. per month of history at this rate.

PostgreSQL runs in a throwaway cluster (tests/store/pgcluster.py: initdb + pg_ctl, default settings, fsync on) unless
``--pg URL`` names one.

    .venv/bin/python bench/store.py                        # full scale: 30 days x 48/day x 20,000 nodes
    .venv/bin/python bench/store.py --days 3 --backends postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from aiohttp import web

from monitor.exporter.analysis_worker import analyse_snapshot
from monitor.exporter.app import build_app
from monitor.exporter.service import ExporterService, ServiceConfig, snapshot_document
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import Snapshot
from monitor.store import DB_FILENAME, Store, open_store
from monitor.store.postgres import PostgresStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "store"))
from pgcluster import find_bindir, throwaway_cluster

DAY = 86400.0
VANTAGE = "bench"
# observations columns copied from the template crawl (crawl_id and, in PostgreSQL, started_at are replaced)
_OBS = "node_id, ip, udp_port, reachable, network, provider, region, country, asn, category, client"
_CRAWL = "snapshot_id, vantage, started_at, ended_at, result, network, simulated, nodes, duration"


def _crawl(nodes: int, seed: int, started: float) -> Snapshot:
    snap = synthetic_snapshot(nodes, seed=seed, started_at=started)
    return dataclasses.replace(snap, meta=dataclasses.replace(snap.meta, vantage=VANTAGE, id=f"bench-{seed}"))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _ingest(store: Store, snap: Snapshot, document: dict[str, Any], runs: int) -> list[float]:
    times = []
    for i in range(runs):
        doc = {**document, "meta": {**document["meta"], "id": f"ingest-{i}", "started_at": snap.meta.started_at + i}}
        t0 = time.perf_counter()
        await store.record_success(doc, snap.nodes, {"crawls:success": 1.0}, 60.0, 10)
        times.append(time.perf_counter() - t0)
    return times


def _fill_sqlite(path: Path, template: int, starts: list[float], per_tx: int) -> None:
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA busy_timeout=60000")
        for i in range(0, len(starts), per_tx):
            db.execute("BEGIN IMMEDIATE")
            for started in starts[i : i + per_tx]:
                cur = db.execute(
                    f"INSERT INTO crawls ({_CRAWL}) SELECT 'fill', vantage, ?, ? + 600, result, network, simulated, "
                    "nodes, duration FROM crawls WHERE id = ?",
                    (started, started, template),
                )
                new = cur.lastrowid
                db.execute(f"INSERT INTO observations (crawl_id, {_OBS}) SELECT ?, {_OBS} FROM observations "
                           "WHERE crawl_id = ?", (new, template))  # fmt: skip
                db.execute("INSERT INTO aggregates SELECT ?, population, dimension, name, key, value FROM aggregates "
                           "WHERE crawl_id = ?", (new, template))  # fmt: skip
            db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _fill_postgres(store: PostgresStore, url: str, template: int, starts: list[float], per_tx: int) -> None:
    import datetime as dt

    for started in starts:
        await store.ensure_partitions(dt.datetime.fromtimestamp(started, dt.UTC), ahead=0)
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT started_at FROM crawls WHERE id = %s", (template,))
        row = await cur.fetchone()
        assert row is not None
        t_start = dt.datetime.fromtimestamp(float(row[0]), dt.UTC)
        for i in range(0, len(starts), per_tx):
            async with conn.transaction():
                for started in starts[i : i + per_tx]:
                    cur = await conn.execute(
                        f"INSERT INTO crawls ({_CRAWL}) SELECT 'fill', vantage, %s, %s, result, network, simulated, "
                        "nodes, duration FROM crawls WHERE id = %s RETURNING id",
                        (started, started + 600, template),
                    )
                    new = (await cur.fetchone() or (0,))[0]
                    await conn.execute(
                        f"INSERT INTO observations (crawl_id, started_at, {_OBS}) SELECT %s, %s, {_OBS} "
                        "FROM observations WHERE crawl_id = %s AND started_at = %s",
                        (new, dt.datetime.fromtimestamp(started, dt.UTC), template, t_start),
                    )
                    await conn.execute(
                        "INSERT INTO aggregates SELECT %s, population, dimension, name, key, value FROM aggregates "
                        "WHERE crawl_id = %s",
                        (new, template),
                    )
        await conn.execute("ANALYZE")


@asynccontextmanager
async def _served(store: Store) -> AsyncIterator[str]:
    async def never() -> Snapshot:
        raise RuntimeError("the benchmark never crawls")

    service = ExporterService(store, never, ServiceConfig(), analyser=None)  # type: ignore[arg-type]
    runner = web.AppRunner(build_app(service))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp has no public getter
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _latency(url: str, count: int) -> tuple[list[float], int]:
    times, size = [], 0
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            t0 = time.perf_counter()
            async with session.get(url) as resp:
                body = await resp.read()
                assert resp.status == 200, body[:200]
            times.append((time.perf_counter() - t0) * 1000)
            size = len(body)
    return times, size


def _size_sqlite(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _size_postgres(url: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


async def run_backend(name: str, spec: str, size: Callable[[], int], args: argparse.Namespace) -> None:
    now = time.time()
    first = now - args.days * DAY
    snap = _crawl(args.nodes, 1, first)
    t0 = time.perf_counter()
    document = snapshot_document(snap, analyse_snapshot(snap, None, 0, 1))
    analysed = time.perf_counter() - t0
    store = await open_store(spec)
    try:
        times = await _ingest(store, snap, document, args.ingest_runs)
        best, median = min(times), statistics.median(times)
        print(f"[{name}] ingest of one {args.nodes:,}-node crawl: best {best * 1000:.0f} ms "
              f"({args.nodes / best:,.0f} rows/s), median {median * 1000:.0f} ms ({args.nodes / median:,.0f} rows/s)"
              f" over {args.ingest_runs} runs (the crawl's analysis, not part of it: {analysed:.1f} s)")  # fmt: skip
        template = (await store.history(0, limit=1))[0]
        template_id = 1  # the first ingested crawl
        starts = [first + i * DAY / args.per_day for i in range(args.days * args.per_day)][args.ingest_runs :]
        t0 = time.perf_counter()
        if isinstance(store, PostgresStore):
            await _fill_postgres(store, spec, template_id, starts, args.per_day)
        else:
            await asyncio.to_thread(_fill_sqlite, Path(spec), template_id, starts, args.per_day)
        filled = time.perf_counter() - t0
        crawls = len(starts) + args.ingest_runs
        rows = crawls * args.nodes
        print(f"[{name}] filled {crawls:,} crawls = {rows / 1e6:.1f} M observation rows in {filled:.0f} s "
              f"(engine-side copies of the template crawl {template['snapshot_id']})")  # fmt: skip
        async with _served(store) as base:
            for label, since, count in (("last 24 h", now - DAY, args.requests), ("all", 0.0, args.requests_all)):
                lat, body = await _latency(f"{base}/api/history?since={since}", count)
                print(f"[{name}] /api/history {label:9s} ({count:3d} requests, {body / 2**20:6.2f} MiB): "
                      f"p50 {statistics.median(lat):8.1f} ms  p99 {_pct(lat, 0.99):8.1f} ms")  # fmt: skip
            lat, body = await _latency(f"{base}/api/snapshot?vantage={VANTAGE}", args.requests)
            print(f"[{name}] /api/snapshot?vantage ({args.requests:3d} requests, {body / 2**10:6.1f} KiB): "
                  f"p50 {statistics.median(lat):8.1f} ms  p99 {_pct(lat, 0.99):8.1f} ms")  # fmt: skip
        reads = []
        for _ in range(10):  # what `--role api` reads per recombination: the latest crawl of every vantage
            t0 = time.perf_counter()
            latest = await store.latest_crawls(now - 2 * DAY)
            reads.append((time.perf_counter() - t0) * 1000)
        print(f"[{name}] latest crawl of each vantage ({len(latest[0].nodes):,} rows, 10 reads): "
              f"p50 {statistics.median(reads):8.1f} ms  max {max(reads):8.1f} ms")  # fmt: skip
    finally:
        await store.close()
    total = size()
    per_month = total * 30 / args.days
    print(f"[{name}] database size {total / 2**30:.2f} GiB for {args.days} days; per 30-day month "
          f"{per_month / 2**30:.2f} GiB ({total / rows:.0f} bytes per observation row, all tables)")  # fmt: skip


@contextmanager
def _postgres(url: str | None) -> Any:
    if url is not None:
        yield url
        return
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL not installed (apt-get install postgresql) and no --pg URL given")
    with throwaway_cluster(bindir, host="127.54.0.1", port=24560) as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        yield cluster.url("bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=48)
    parser.add_argument("--nodes", type=int, default=20_000)
    parser.add_argument("--ingest-runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100, help="requests per small API measurement (100)")
    parser.add_argument("--requests-all", type=int, default=10, help="requests of the whole history (10)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg", default=None, help="an empty PostgreSQL database to use (default: a throwaway one)")
    args = parser.parse_args()
    print(f"scale: {args.days} days x {args.per_day} crawls/day x {args.nodes:,} nodes "
          f"= {args.days * args.per_day * args.nodes / 1e6:.1f} M observation rows per backend")  # fmt: skip
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
                path = Path(tmp) / DB_FILENAME
                asyncio.run(run_backend("sqlite", str(path), lambda p=path: _size_sqlite(p), args))  # type: ignore[misc]
        elif backend == "postgresql":
            with _postgres(args.pg) as url:
                asyncio.run(run_backend("postgresql", url, lambda u=url: _size_postgres(u), args))  # type: ignore[misc]
        else:
            raise SystemExit(f"unknown backend {backend!r}")


if __name__ == "__main__":
    main()
