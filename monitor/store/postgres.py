"""The shared backend: history in PostgreSQL, written by several crawlers (vantage points) and read by API servers.

Driver: psycopg 3 (async), not asyncpg. Both are fast enough here (a crawl is one COPY of ~20k rows every 30
minutes); what decided it: (1) one driver serves both the async service and the blocking one-shot commands
(``monitor db``) with the same API; (2) it speaks libpq, so ``--store`` takes exactly what ``psql`` takes (URLs,
``host=/socket/dir``, ``PG*`` variables, ``~/.pgpass``, ``sslmode``, service files) and operators need learn nothing
new; (3) it ships type annotations, which ``mypy --strict`` needs (asyncpg has none); (4) its COPY API streams rows
from Python in one statement, which is the bulk ingest we need. psycopg-pool adds the reconnect after a database
restart that a long-running service sharing a remote database must have.

Layout (monitor/store/sql/postgresql/): node observations are range-partitioned by the crawl's start time in monthly
partitions created ahead of time (this month and :data:`MONTHS_AHEAD` more, at start and before each ingest, in a
short transaction of their own so that the lock a new partition takes on the parent is never held for an ingest).
Retention drops whole partitions once their whole month is past the node-retention cutoff, so per-node details live
from ``node_retention_days`` up to a month longer; aggregates and documents are deleted by row as in SQLite.

Every crawl is one transaction (crawl row, COPY of its observations, COPY of its aggregates, document, counters): a
writer killed with SIGKILL mid-COPY loses its connection, and the server rolls the whole crawl back.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from monitor.snapshot import NodeRecord
from monitor.store import migrate
from monitor.store.base import (
    CRAWL_FIELDS,
    Document,
    ObservedNode,
    SchemaStatus,
    StoredState,
    StoreError,
    VantageCrawl,
    aggregate_rows,
    history_rows,
    observed,
)
from monitor.store.health import health_from
from monitor.store.partitions import create_partition_sql, month_start, partition_month, partition_name, utc

__all__ = ["PostgresStore", "MONTHS_AHEAD", "redact"]

MONTHS_AHEAD = 2
_MIGRATION_LOCK = 0x6D6F6E01  # pg_advisory_xact_lock keys: several crawlers may start at once
_PARTITION_LOCK = 0x6D6F6E02
_OBS_COLUMNS = (
    "crawl_id, started_at, node_id, ip, udp_port, reachable, network, provider, region, country, asn, category, client"
)
_LATEST_PER_VANTAGE = (
    "SELECT DISTINCT ON (vantage) id, vantage, snapshot_id, started_at, ended_at, network, simulated "
    "FROM crawls WHERE result = 'success' ORDER BY vantage, id DESC"
)


def redact(url: str) -> str:
    """The connection string without its password, for logs and ``monitor db status``."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparseable)"
    params.pop("password", None)
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


def _error(where: str, err: Exception) -> StoreError:
    return StoreError(f"history database {where}: {type(err).__name__}: {err}")


class PostgresStore:
    backend = "postgresql"

    def __init__(self, url: str, *, max_connections: int = 4) -> None:
        self._url = url
        self._where = redact(url)
        # autocommit: every write is an explicit `async with conn.transaction()`; reads need none.
        self._pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            open=False,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
            name="monitor-history",
        )
        self._partitions: set[str] = set()

    @property
    def location(self) -> str:
        return self._where

    async def connect(self, connect_within: float = 30.0) -> None:
        """Open the connection pool only (``monitor db status`` reads the schema without checking it)."""
        try:
            await self._pool.open(wait=True, timeout=connect_within)
        except Exception as err:  # psycopg_pool.PoolTimeout hides the libpq reason in the log; say where
            raise StoreError(f"cannot connect to {self._where}: {err}") from err

    def connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """A pooled connection (autocommit; use ``conn.transaction()``), for the SQLite import."""
        return self._pool.connection()

    async def open(
        self, *, apply_migrations: bool = True, target: int | None = None, connect_within: float = 30.0
    ) -> None:
        await self.connect(connect_within)
        if apply_migrations:
            await self.migrate(target)
        else:
            await self._check_schema()
        await self.ensure_partitions(dt.datetime.now(dt.UTC))

    async def close(self) -> None:
        await self._pool.close()

    # ---- migrations -----------------------------------------------------------------------------------------------

    async def _applied(self, conn: psycopg.AsyncConnection[Any], create: bool = False) -> dict[int, str]:
        if create:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        else:
            cur = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            row = await cur.fetchone()
            if row is None or not row[0]:
                return {}
        cur = await conn.execute("SELECT version, checksum FROM schema_migrations")
        return {int(v): str(c) for v, c in await cur.fetchall()}

    async def migrate(self, target: int | None = None) -> list[int]:
        """Apply the pending migrations (up to ``target``) in one transaction; returns the versions applied."""
        available = migrate.migrations(self.backend)
        done: list[int] = []
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                applied = await self._applied(conn, create=True)
                migrate.check_applied(applied, available, self._where)
                for m in migrate.pending(applied, available):
                    if target is not None and m.version > target:
                        break
                    await conn.execute(m.sql.encode("utf-8"))  # no parameters: several statements in one call
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (m.version, m.name, m.checksum),
                    )
                    done.append(m.version)
        except psycopg.Error as err:
            raise _error(self._where, err) from err
        return done

    async def _check_schema(self) -> None:
        status = await self.schema_status()
        if status.pending:
            raise StoreError(
                f"{self._where}: schema migrations pending {list(status.pending)}; run `monitor db migrate`"
            )

    async def schema_status(self) -> SchemaStatus:
        available = migrate.migrations(self.backend)
        try:
            async with self._pool.connection() as conn:
                applied = await self._applied(conn)
                cur = await conn.execute(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observations' ORDER BY 1"
                )
                partitions = [str(r[0]) for r in await cur.fetchall()]
        except psycopg.Error as err:
            raise _error(self._where, err) from err
        migrate.check_applied(applied, available, self._where)
        return SchemaStatus(
            self.backend,
            self._where,
            tuple(sorted(applied)),
            tuple(m.version for m in available),
            {"partitions": partitions},
        )

    # ---- partitions -----------------------------------------------------------------------------------------------

    async def ensure_partitions(self, around: dt.datetime, ahead: int = MONTHS_AHEAD) -> None:
        """Monthly partitions from the month of ``around`` to ``ahead`` months later (existing ones are kept)."""
        wanted = [month_start(around, i) for i in range(ahead + 1)]
        missing = [start for start in wanted if partition_name(start) not in self._partitions]
        if not missing:
            return
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PARTITION_LOCK,))
                for start in missing:
                    await conn.execute(create_partition_sql(start))
        except psycopg.Error as err:
            raise _error(self._where, err) from err
        self._partitions.update(partition_name(start) for start in missing)

    # ---- writes ---------------------------------------------------------------------------------------------------

    async def record_success(
        self,
        document: Document,
        nodes: Sequence[NodeRecord],
        increments: Mapping[str, float],
        duration: float,
        top_k: int,
    ) -> None:
        meta = document["meta"]
        started = float(meta["started_at"])
        await self.ensure_partitions(utc(started), ahead=0)
        body = zlib.compress(json.dumps(document, separators=(",", ":")).encode("utf-8"), 6)
        crawl = (meta["id"], str(meta.get("vantage") or ""), started, float(meta["ended_at"]), meta["network"],
                 bool(meta.get("simulated")), len(nodes), duration)  # fmt: skip
        try:
            async with self._pool.connection() as conn, conn.transaction():
                cur = await conn.execute(
                    "INSERT INTO crawls (snapshot_id, vantage, started_at, ended_at, result, network, simulated, "
                    "nodes, duration) VALUES (%s, %s, %s, %s, 'success', %s, %s, %s, %s) RETURNING id",
                    crawl,
                )
                row = await cur.fetchone()
                assert row is not None
                crawl_id = int(row[0])
                await self._copy_observations(conn, crawl_id, utc(started), nodes)
                await self._copy_aggregates(conn, crawl_id, aggregate_rows(document["analysis"], top_k))
                await conn.execute("INSERT INTO documents (crawl_id, body) VALUES (%s, %s)", (crawl_id, body))
                await self._add_totals(conn, crawl[1], increments)
        except psycopg.Error as err:
            raise _error(self._where, err) from err

    @staticmethod
    async def _copy_observations(
        conn: psycopg.AsyncConnection[Any], crawl_id: int, started: dt.datetime, nodes: Sequence[NodeRecord]
    ) -> None:
        async with conn.cursor() as cur, cur.copy(f"COPY observations ({_OBS_COLUMNS}) FROM STDIN") as copy:
            for n in nodes:
                o = observed(n)
                await copy.write_row(
                    (crawl_id, started, bytes.fromhex(o.node_id), o.ip, n.udp_port, o.reachable, o.network,
                     o.provider, o.region, o.country, o.asn, o.category, o.client)
                )  # fmt: skip

    @staticmethod
    async def _copy_aggregates(
        conn: psycopg.AsyncConnection[Any], crawl_id: int, rows: Sequence[tuple[str, str, str, str, float]]
    ) -> None:
        async with (
            conn.cursor() as cur,
            cur.copy("COPY aggregates (crawl_id, population, dimension, name, key, value) FROM STDIN") as copy,
        ):
            for row in rows:
                await copy.write_row((crawl_id, *row))

    @staticmethod
    async def _add_totals(conn: psycopg.AsyncConnection[Any], vantage: str, increments: Mapping[str, float]) -> None:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO totals (vantage, name, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (vantage, name) DO UPDATE SET value = totals.value + excluded.value",
                [(vantage, k, v) for k, v in sorted(increments.items())],
            )

    async def record_failure(
        self, vantage: str, started_at: float, ended_at: float, kind: str, detail: str, increments: Mapping[str, float]
    ) -> None:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO crawls (vantage, started_at, ended_at, result, failure, detail, duration) "
                    "VALUES (%s, %s, %s, 'failure', %s, %s, %s)",
                    (vantage, started_at, ended_at, kind, detail[:500], ended_at - started_at),
                )
                await self._add_totals(conn, vantage, increments)
        except psycopg.Error as err:
            raise _error(self._where, err) from err

    async def prune(self, older_than: float, details_older_than: float | None = None) -> int:
        keep = f"SELECT id FROM ({_LATEST_PER_VANTAGE}) latest"
        doomed = f"SELECT id FROM crawls WHERE started_at < %s AND id NOT IN ({keep})"
        try:
            async with self._pool.connection() as conn:
                async with conn.transaction():
                    if details_older_than is not None:
                        await conn.execute(f"DELETE FROM documents WHERE crawl_id IN ({doomed})", (details_older_than,))
                    for table in ("aggregates", "documents"):
                        await conn.execute(f"DELETE FROM {table} WHERE crawl_id IN ({doomed})", (older_than,))
                    cur = await conn.execute(
                        f"DELETE FROM crawls WHERE started_at < %s AND id NOT IN ({keep})", (older_than,)
                    )
                    deleted = cur.rowcount
                cutoff = details_older_than if details_older_than is not None else older_than
                await self._drop_partitions(conn, utc(cutoff))
        except psycopg.Error as err:
            raise _error(self._where, err) from err
        return deleted

    async def _drop_partitions(self, conn: psycopg.AsyncConnection[Any], cutoff: dt.datetime) -> None:
        """Drop the partitions whose whole month ended before ``cutoff`` and that hold no kept (latest) crawl."""
        cur = await conn.execute(f"SELECT min(started_at) FROM ({_LATEST_PER_VANTAGE}) latest")
        row = await cur.fetchone()
        oldest_kept = utc(float(row[0])) if row is not None and row[0] is not None else None
        limit = cutoff if oldest_kept is None else min(cutoff, oldest_kept)
        status = await self.schema_status()
        for name in status.details.get("partitions", ()):
            start = partition_month(name)
            if start is not None and month_start(start, 1) <= limit:
                async with conn.transaction():
                    await conn.execute("SET LOCAL lock_timeout = '10s'")
                    await conn.execute(f"DROP TABLE IF EXISTS {name}")
                self._partitions.discard(name)

    # ---- reads ----------------------------------------------------------------------------------------------------

    async def load_state(self, vantage: str | None) -> StoredState:
        match = "(%(v)s::text IS NULL OR vantage = %(v)s)"
        args = {"v": vantage}
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(f"SELECT name, sum(value) FROM totals WHERE {match} GROUP BY name", args)
                totals = {str(k): float(v) for k, v in await cur.fetchall()}
                cur = await conn.execute(
                    f"SELECT started_at, ended_at, result, failure, detail FROM crawls WHERE {match} "
                    "ORDER BY ended_at DESC, id DESC LIMIT 1",
                    args,
                )
                last = await cur.fetchone()
                cur = await conn.execute(
                    "SELECT c.ended_at, d.body FROM crawls c JOIN documents d ON d.crawl_id = c.id "
                    f"WHERE c.result = 'success' AND {match} ORDER BY c.ended_at DESC, c.id DESC LIMIT 1",
                    args,
                )
                ok = await cur.fetchone()
        except psycopg.Error as err:
            raise _error(self._where, err) from err
        document = json.loads(zlib.decompress(ok[1])) if ok else None
        return StoredState(document, health_from(last, ok[0] if ok else None, totals))

    async def latest_document(self, vantage: str | None) -> Document | None:
        return (await self.load_state(vantage)).document

    async def history(self, since: float, limit: int = 10_000, vantage: str | None = None) -> list[dict[str, Any]]:
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    f"SELECT id, {', '.join(CRAWL_FIELDS)} FROM crawls WHERE started_at >= %(since)s "
                    "AND (%(v)s::text IS NULL OR vantage = %(v)s) ORDER BY id LIMIT %(limit)s",
                    {"since": since, "v": vantage, "limit": limit},
                )
                crawls = await cur.fetchall()
                cur = await conn.execute(
                    "SELECT crawl_id, population, dimension, name, key, value FROM aggregates WHERE crawl_id = ANY(%s)",
                    ([c[0] for c in crawls],),
                )
                aggs = await cur.fetchall()
        except psycopg.Error as err:
            raise _error(self._where, err) from err
        return history_rows(crawls, aggs)

    async def latest_crawls(self, since: float) -> list[VantageCrawl]:
        out: list[VantageCrawl] = []
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    f"SELECT * FROM ({_LATEST_PER_VANTAGE}) latest WHERE started_at >= %s ORDER BY vantage", (since,)
                )
                for crawl_id, vantage, snapshot_id, started, ended, network, simulated in await cur.fetchall():
                    # started_at selects the one partition that holds the crawl
                    rows = await conn.execute(
                        "SELECT node_id, host(ip), reachable, network, provider, region, country, asn, category, "
                        "client FROM observations WHERE crawl_id = %s AND started_at = %s",
                        (crawl_id, utc(started)),
                    )
                    nodes = tuple(ObservedNode(bytes(r[0]).hex(), *r[1:]) for r in await rows.fetchall())
                    out.append(VantageCrawl(vantage, snapshot_id, started, ended, network, bool(simulated), nodes))
        except psycopg.Error as err:
            raise _error(self._where, err) from err
        return out
