"""kill -9 of a writer in the middle of ingesting a crawl leaves no trace of that crawl, in either backend.

"In the middle" is observed, not guessed: for PostgreSQL the server reports the writer's COPY as running
(pg_stat_activity); for SQLite the write-ahead log has grown by megabytes of the uncommitted transaction.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from monitor.store import is_postgres, open_store

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

WRITER = Path(__file__).with_name("ingest_writer.py")
NODES = 400_000  # several seconds of ingest: a wide window to be killed in


def _pg_copy_running(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        with psycopg.connect(url, autocommit=True) as db:
            row = db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY observations%%'"
            ).fetchone()
        return row is not None and row[0] > 0

    return probe


def _wal_grown(path: Path) -> Callable[[], bool]:
    wal = path.with_name(path.name + "-wal")
    start = wal.stat().st_size if wal.exists() else 0
    return lambda: wal.exists() and wal.stat().st_size > start + 4 * 2**20


def _rows(spec: str, table: str) -> int:
    if is_postgres(spec):
        with psycopg.connect(spec) as db:
            row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
            return int(row[0]) if row else -1
    with sqlite3.connect(spec) as sdb:
        return int(sdb.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def _migrate(spec: str) -> None:
    await (await open_store(spec)).close()


async def _stored_crawls(spec: str) -> int:
    store = await open_store(spec)
    try:
        if not is_postgres(spec):
            assert store.integrity_check() == "ok"  # type: ignore[attr-defined]
        return len(await store.history(0)) + len(await store.latest_crawls(0))
    finally:
        await store.close()


def test_kill_9_mid_ingest_leaves_no_partial_crawl(store_spec: str, tmp_path: Path) -> None:
    asyncio.run(_migrate(store_spec))  # migrated before the writer starts
    probe = _pg_copy_running(store_spec) if is_postgres(store_spec) else _wal_grown(Path(store_spec))
    log = tmp_path / "writer.log"
    with log.open("wb") as out:
        writer = subprocess.Popen([sys.executable, str(WRITER), store_spec, str(NODES)], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while not probe():
            assert writer.poll() is None, f"the writer ended before it was killed:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"never saw the ingest running:\n{log.read_text()}"
            time.sleep(0.02)
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(timeout=10) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert b"committed" not in log.read_bytes()
    if is_postgres(store_spec):  # the server notices the dead connection and rolls back; give it a moment
        deadline = time.monotonic() + 10
        while _pg_copy_running(store_spec)() and time.monotonic() < deadline:
            time.sleep(0.05)
    for table in ("crawls", "observations", "aggregates", "documents", "totals"):
        assert _rows(store_spec, table) == 0, table
    assert asyncio.run(_stored_crawls(store_spec)) == 0
