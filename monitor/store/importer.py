"""One-shot import of a SQLite history (``monitor serve``'s file, any schema version) into PostgreSQL.

The SQLite file is opened read-only and left as it is. Everything is copied in ONE PostgreSQL transaction: an import
that fails or is killed leaves the target as it was, and can simply be run again. Crawls already in the target
(same start time, result and snapshot id, whatever vantage they were given) are skipped, so a second run adds
nothing; the persisted counters are added only when no crawl of the file was there yet (adding them twice would
double every counter).

Crawls stored without a vantage name (all of them in a file from before vantage points) get ``vantage``: the name
of the crawler that wrote the file, by default this host's name like ``--vantage``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from monitor.store.base import StoreError
from monitor.store.postgres import PostgresStore

__all__ = ["ImportReport", "import_sqlite"]

_CRAWL_COLUMNS = ("snapshot_id", "started_at", "ended_at", "result", "failure", "detail", "network", "simulated",
                  "nodes", "duration")  # fmt: skip
_OBS_COLUMNS = ("node_id", "ip", "udp_port", "reachable", "network", "provider", "region", "country", "asn")


@dataclass(frozen=True, slots=True)
class ImportReport:
    crawls: int
    skipped: int
    observations: int
    totals_imported: bool


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}


def _open_source(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"no SQLite history at {path}")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as err:
        raise StoreError(f"cannot read {path}: {err}") from err
    if not {"crawls", "observations", "aggregates", "documents", "totals"} <= tables:
        db.close()
        raise StoreError(f"{path} is not a monitor history database (tables: {sorted(tables)})")
    return db


def _crawls(db: sqlite3.Connection, vantage: str) -> Iterator[tuple[int, str, tuple[Any, ...]]]:
    """(source id, vantage, crawl columns) of every crawl, oldest first."""
    has_vantage = "vantage" in _columns(db, "crawls")
    select = ", ".join(_CRAWL_COLUMNS) + (", vantage" if has_vantage else ", ''")
    for row in db.execute(f"SELECT id, {select} FROM crawls ORDER BY id"):
        yield int(row[0]), str(row[-1] or vantage), tuple(row[1:-1])


def _observations(db: sqlite3.Connection, crawl_id: int) -> Iterator[tuple[Any, ...]]:
    extra = ", category, client" if {"category", "client"} <= _columns(db, "observations") else ", NULL, NULL"
    yield from db.execute(f"SELECT {', '.join(_OBS_COLUMNS)}{extra} FROM observations WHERE crawl_id = ?", (crawl_id,))


async def _copy_crawl(
    conn: psycopg.AsyncConnection[Any], db: sqlite3.Connection, source_id: int, vantage: str, crawl: tuple[Any, ...]
) -> int:
    """One crawl with its rows; returns how many observations it had."""
    values = (*crawl[:7], bool(crawl[7]), *crawl[8:], vantage)
    cur = await conn.execute(
        f"INSERT INTO crawls ({', '.join(_CRAWL_COLUMNS)}, vantage) VALUES ({', '.join(['%s'] * 11)}) RETURNING id",
        values,
    )
    row = await cur.fetchone()
    assert row is not None
    new_id, started, count = int(row[0]), dt.datetime.fromtimestamp(float(crawl[1]), dt.UTC), 0
    async with conn.cursor() as c:
        columns = "crawl_id, started_at, " + ", ".join(_OBS_COLUMNS) + ", category, client"
        async with c.copy(f"COPY observations ({columns}) FROM STDIN") as copy:
            for obs in _observations(db, source_id):
                await copy.write_row((new_id, started, bytes(obs[0]), obs[1], obs[2], bool(obs[3]), *obs[4:]))
                count += 1
        aggs = db.execute(
            "SELECT population, dimension, name, key, value FROM aggregates WHERE crawl_id = ?", (source_id,)
        )
        async with c.copy("COPY aggregates (crawl_id, population, dimension, name, key, value) FROM STDIN") as copy:
            for agg in aggs:
                await copy.write_row((new_id, *agg))
    for (body,) in db.execute("SELECT body FROM documents WHERE crawl_id = ?", (source_id,)):
        await conn.execute("INSERT INTO documents (crawl_id, body) VALUES (%s, %s)", (new_id, bytes(body)))
    return count


def _totals(db: sqlite3.Connection, vantage: str) -> list[tuple[str, str, float]]:
    if "vantage" in _columns(db, "totals"):
        return [
            (str(v or vantage), str(n), float(x)) for v, n, x in db.execute("SELECT vantage, name, value FROM totals")
        ]
    return [(vantage, str(n), float(x)) for n, x in db.execute("SELECT name, value FROM totals")]


async def import_sqlite(path: Path, target: PostgresStore, vantage: str) -> ImportReport:
    """Copy the history at ``path`` into ``target`` (already opened and migrated)."""
    with closing(_open_source(path)) as db:
        crawls = list(_crawls(db, vantage))
        for started in {dt.datetime.fromtimestamp(float(c[2][1]), dt.UTC) for c in crawls}:
            await target.ensure_partitions(started, ahead=0)
        imported = skipped = observations = 0
        try:
            async with target.connection() as conn, conn.transaction():
                cur = await conn.execute("SELECT started_at, result, coalesce(snapshot_id, '') FROM crawls")
                present = {tuple(r) for r in await cur.fetchall()}
                for source_id, name, crawl in crawls:
                    if (float(crawl[1]), crawl[3], crawl[0] or "") in present:
                        skipped += 1
                        continue
                    observations += await _copy_crawl(conn, db, source_id, name, crawl)
                    imported += 1
                with_totals = skipped == 0
                if with_totals:
                    async with conn.cursor() as c:
                        await c.executemany(
                            "INSERT INTO totals (vantage, name, value) VALUES (%s, %s, %s) ON CONFLICT (vantage, name) "
                            "DO UPDATE SET value = totals.value + excluded.value",
                            _totals(db, vantage),
                        )
        except (psycopg.Error, sqlite3.Error) as err:
            raise StoreError(f"import of {path} into {target.location} failed (nothing was imported): {err}") from err
    return ImportReport(imported, skipped, observations, with_totals)
