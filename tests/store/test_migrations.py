"""Schema migrations: from an empty database, from the previous schema version with data in it, refusal of a
database whose schema drifted; PostgreSQL's monthly partitions and their retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import psycopg
import pytest

from monitor.store import StoreError, is_postgres, open_store
from monitor.store.migrate import migrations
from monitor.store.partitions import month_start, partition_name

pytestmark = pytest.mark.timeout(60)

DOC = {"meta": {"id": "old-1", "started_at": 1000.0, "ended_at": 1100.0, "network": "mainnet"}, "analysis": {}}
# A crawl as the previous schema (version 1, no vantage) stored it.
V1_ROWS: list[tuple[str, tuple[Any, ...]]] = [
    ("INSERT INTO crawls (snapshot_id, started_at, ended_at, result, network, simulated, nodes, duration) "
     "VALUES ('old-1', 1000.0, 1100.0, 'success', 'mainnet', {false}, 1, 100.0)", ()),
    ("INSERT INTO aggregates VALUES (1, 'reachable/node', '', 'n', '', 1.0)", ()),
    ("INSERT INTO aggregates VALUES (1, 'reachable/node', 'provider', 'share', 'aws', 1.0)", ()),
    ("INSERT INTO documents VALUES (1, {p})", (zlib.compress(json.dumps(DOC).encode()),)),
    ("INSERT INTO totals VALUES ('crawls:success', 7.0)", ()),
]  # fmt: skip


def _execute_v1(spec: str) -> None:
    if is_postgres(spec):
        with psycopg.connect(spec, autocommit=True) as db:
            for sql, args in V1_ROWS:
                db.execute(sql.format(false="false", p="%s"), args)  # type: ignore[arg-type]
        return
    with sqlite3.connect(spec) as sdb:
        for sql, args in V1_ROWS:
            sdb.execute(sql.format(false="0", p="?"), args)


async def _check_upgraded(spec: str) -> None:
    store = await open_store(spec)
    try:
        status = await store.schema_status()
        assert status.applied == status.available
        [row] = await store.history(0)
        assert row["snapshot_id"] == "old-1" and row["vantage"] == ""  # old crawls: the unnamed vantage
        assert row["populations"]["reachable/node"] == {"n": 1, "provider": {"top": {"aws": 1.0}}}
        state = await store.load_state(None)
        assert state.document == DOC and state.health.totals == {"crawls:success": 7.0}
        assert (await store.load_state("")).health.totals == {"crawls:success": 7.0}
    finally:
        await store.close()


async def test_migration_from_the_previous_schema_version_keeps_the_data(store_spec: str) -> None:
    previous = await open_store(store_spec, target=1)
    assert (await previous.schema_status()).applied == (1,)
    await previous.close()
    _execute_v1(store_spec)
    await _check_upgraded(store_spec)


async def test_a_sqlite_file_of_the_version_before_migrations_is_adopted_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:  # what the old HistoryStore created: the v1 tables and user_version 1
        db.executescript(migrations("sqlite")[0].sql)
        db.execute("PRAGMA user_version=1")
    _execute_v1(str(path))
    await _check_upgraded(str(path))


def _tamper(spec: str, sql: str) -> None:
    if is_postgres(spec):
        with psycopg.connect(spec, autocommit=True) as db:
            db.execute(sql.encode())
    else:
        with sqlite3.connect(spec) as sdb:
            sdb.execute(sql)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2", "different text"),
        ("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'x', {now})",
         "newer than this monitor"),
    ],
)  # fmt: skip
async def test_a_drifted_schema_is_refused(store_spec: str, sql: str, message: str) -> None:
    await (await open_store(store_spec)).close()
    _tamper(store_spec, sql.format(now="now()" if is_postgres(store_spec) else "0"))
    with pytest.raises(StoreError, match=message):
        await open_store(store_spec)


async def test_concurrent_first_starts_migrate_once(pg_url: str) -> None:
    stores = await asyncio.gather(*(open_store(pg_url) for _ in range(4)))
    for store in stores:
        await store.close()
    with psycopg.connect(pg_url) as db:
        versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in migrations("postgresql")]


def _partitions(url: str) -> list[str]:
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observations' ORDER BY 1"
        ).fetchall()
    return [str(r[0]) for r in rows]


async def test_partitions_are_made_ahead_and_dropped_by_retention(pg_url: str) -> None:
    from test_store_contract import crawl, record

    now = dt.datetime.now(dt.UTC)
    store = await open_store(pg_url)
    ahead = [partition_name(month_start(now, i)) for i in range(3)]
    assert _partitions(pg_url) == ahead  # this month and two ahead
    old = month_start(now, -3).timestamp() + 86400
    await record(store, crawl(30, 1, "a", old))  # a crawl three months back gets its own partition
    await record(store, crawl(30, 2, "b", old + 3600))
    await record(store, crawl(30, 3, "b", now.timestamp() - 60))
    old_name = partition_name(month_start(now, -3))
    assert old_name in _partitions(pg_url)
    await store.prune(older_than=now.timestamp() - 30 * 86400, details_older_than=now.timestamp() - 86400)
    assert old_name in _partitions(pg_url)  # it holds vantage a's latest crawl: kept
    await record(store, crawl(30, 4, "a", now.timestamp() - 30))
    await store.prune(older_than=now.timestamp() - 30 * 86400, details_older_than=now.timestamp() - 86400)
    assert _partitions(pg_url) == ahead  # gone, rows and all, with no row-by-row delete
    assert {c.snapshot_id: len(c.nodes) for c in await store.latest_crawls(0)} == {"a-4": 30, "b-3": 30}
    await store.close()


async def test_the_pool_reconnects_after_the_server_dropped_its_connections(pg_url: str) -> None:
    from test_store_contract import crawl, record

    store = await open_store(pg_url)
    await record(store, crawl(20, 1, "a", 1.8e9))
    with psycopg.connect(pg_url, autocommit=True) as admin:  # what a server restart does to open connections
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")  # fmt: skip
    await record(store, crawl(20, 2, "a", 1.8e9 + 60))
    assert [r["snapshot_id"] for r in await store.history(0)] == ["a-1", "a-2"]
    await store.close()
