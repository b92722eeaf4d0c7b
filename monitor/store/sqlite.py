"""The embedded default backend: the whole history in one SQLite file (``<data dir>/history.sqlite3``).

Every crawl attempt is written in a single transaction (crawl row, its observations, aggregates, the snapshot
document and the counter increments), so a kill at any moment leaves either the whole crawl or none of it: SQLite's
journal rolls an unfinished transaction back when the file is next opened. WAL mode lets the history API read while a
crawl is written. The last successful document of each vantage is kept whatever the retention, so a restart always
has something to serve at once.

The blocking calls run in a worker thread (``asyncio.to_thread``); a lock serialises them so that :meth:`close`
waits for a write still running instead of closing the connection under it. Several processes may share the file
(SQLite locks it), but several hosts cannot: that is what the PostgreSQL backend is for.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

__all__ = ["SqliteStore", "DB_FILENAME"]

DB_FILENAME = "history.sqlite3"
_V1_USER_VERSION = 1  # files written before schema_migrations existed
_OBS_COLUMNS = "node_id, ip, reachable, network, provider, region, country, asn, category, client"
# The newest successful crawl of every vantage: never pruned, served after a restart.
_LATEST_PER_VANTAGE = "SELECT max(id) FROM crawls WHERE result = 'success' GROUP BY vantage"


def _observation_row(crawl_id: int, n: NodeRecord) -> tuple[Any, ...]:
    o = observed(n)
    return (crawl_id, bytes.fromhex(o.node_id), o.ip, n.udp_port, int(o.reachable), o.network, o.provider,
            o.region, o.country, o.asn, o.category, o.client)  # fmt: skip


class SqliteStore:
    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False: calls come from asyncio's worker threads, serialised by self._lock.
            self._db: sqlite3.Connection | None = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed crawl survives a power loss too, at the cost of one extra fsync per crawl.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")  # another process (monitor db ...) may hold the lock
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open history database {path}: {err}") from err

    @property
    def location(self) -> str:
        return str(self.path)

    # ---- migrations -----------------------------------------------------------------------------------------------

    def _applied(self, db: sqlite3.Connection) -> dict[int, str]:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_migrations" not in tables:
            return {}
        return {int(v): str(c) for v, c in db.execute("SELECT version, checksum FROM schema_migrations")}

    def migrate_sync(self, target: int | None = None) -> list[int]:
        """Apply the pending migrations (up to ``target``); returns the versions applied."""
        available = migrate.migrations(self.backend)
        done: list[int] = []
        with self._locked() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            self._adopt_v1(db, available[0])
            applied = self._applied(db)
            migrate.check_applied(applied, available, str(self.path))
            for m in migrate.pending(applied, available):
                if target is not None and m.version > target:
                    break
                # executescript commits first and runs statements one by one: the explicit BEGIN/COMMIT around the
                # file and its record makes the migration all or nothing.
                values = f"{m.version}, '{m.name}', '{m.checksum}', {time.time()!r}"  # names and hex digests: no quotes
                record = f"INSERT INTO schema_migrations VALUES ({values});"
                try:
                    db.executescript(f"BEGIN IMMEDIATE;\n{m.sql}\n{record}\nCOMMIT;")
                except sqlite3.Error as err:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise StoreError(f"{self.path}: migration {m.version:04d}_{m.name} failed: {err}") from err
                done.append(m.version)
        return done

    @staticmethod
    def _adopt_v1(db: sqlite3.Connection, first: migrate.Migration) -> None:
        """A file of the version before migrations (user_version 1) already has migration 1's tables."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == _V1_USER_VERSION and not db.execute("SELECT 1 FROM schema_migrations").fetchone():
            db.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)", (first.version, first.name, first.checksum, 0.0)
            )
        db.execute("PRAGMA user_version=0")  # schema_migrations is the record from now on

    async def schema_status(self) -> SchemaStatus:
        def status() -> SchemaStatus:
            with self._locked() as db:
                applied = self._applied(db)
            available = tuple(m.version for m in migrate.migrations(self.backend))
            return SchemaStatus(self.backend, str(self.path), tuple(sorted(applied)), available)

        return await asyncio.to_thread(status)

    # ---- connection handling --------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db is None:
                raise StoreError("history database is closed")
            try:
                yield self._db
            except sqlite3.Error as err:
                raise StoreError(f"history database {self.path}: {err}") from err

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close_sync(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)

    # ---- writes ---------------------------------------------------------------------------------------------------

    @staticmethod
    def _add_totals(db: sqlite3.Connection, vantage: str, increments: Mapping[str, float]) -> None:
        db.executemany(
            "INSERT INTO totals (vantage, name, value) VALUES (?, ?, ?) "
            "ON CONFLICT (vantage, name) DO UPDATE SET value = value + excluded.value",
            [(vantage, k, v) for k, v in sorted(increments.items())],
        )

    def record_success_sync(
        self,
        document: Document,
        nodes: Sequence[NodeRecord],
        increments: Mapping[str, float],
        duration: float,
        top_k: int,
    ) -> None:
        meta = document["meta"]
        vantage = str(meta.get("vantage") or "")
        body = zlib.compress(json.dumps(document, separators=(",", ":")).encode("utf-8"), 6)
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO crawls (snapshot_id, vantage, started_at, ended_at, result, network, simulated, nodes, "
                "duration) VALUES (?, ?, ?, ?, 'success', ?, ?, ?, ?)",
                (meta["id"], vantage, meta["started_at"], meta["ended_at"], meta["network"],
                 int(bool(meta.get("simulated"))), len(nodes), duration),
            )  # fmt: skip
            crawl_id = int(cur.lastrowid or 0)
            db.executemany(
                f"INSERT INTO observations (crawl_id, node_id, ip, udp_port, reachable, network, provider, region, "
                f"country, asn, category, client) VALUES ({', '.join('?' * 12)})",
                (_observation_row(crawl_id, n) for n in nodes),
            )
            db.executemany(
                "INSERT INTO aggregates VALUES (?, ?, ?, ?, ?, ?)",
                ((crawl_id, *row) for row in aggregate_rows(document["analysis"], top_k)),
            )
            db.execute("INSERT INTO documents VALUES (?, ?)", (crawl_id, body))
            self._add_totals(db, vantage, increments)

    async def record_success(
        self,
        document: Document,
        nodes: Sequence[NodeRecord],
        increments: Mapping[str, float],
        duration: float,
        top_k: int,
    ) -> None:
        await asyncio.to_thread(self.record_success_sync, document, nodes, increments, duration, top_k)

    def record_failure_sync(
        self, vantage: str, started_at: float, ended_at: float, kind: str, detail: str, increments: Mapping[str, float]
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO crawls (vantage, started_at, ended_at, result, failure, detail, duration) "
                "VALUES (?, ?, ?, 'failure', ?, ?, ?)",
                (vantage, started_at, ended_at, kind, detail[:500], ended_at - started_at),
            )
            self._add_totals(db, vantage, increments)

    async def record_failure(
        self, vantage: str, started_at: float, ended_at: float, kind: str, detail: str, increments: Mapping[str, float]
    ) -> None:
        await asyncio.to_thread(self.record_failure_sync, vantage, started_at, ended_at, kind, detail, increments)

    def prune_sync(self, older_than: float, details_older_than: float | None = None) -> int:
        """Observations and documents go by row here (a 30-day history of one crawler is small enough)."""
        with self._transaction() as db:
            doomed = f"SELECT id FROM crawls WHERE started_at < ? AND id NOT IN ({_LATEST_PER_VANTAGE})"
            if details_older_than is not None:
                for table in ("observations", "documents"):
                    db.execute(f"DELETE FROM {table} WHERE crawl_id IN ({doomed})", (details_older_than,))
            for table in ("observations", "aggregates", "documents"):
                db.execute(f"DELETE FROM {table} WHERE crawl_id IN ({doomed})", (older_than,))
            cur = db.execute(
                f"DELETE FROM crawls WHERE started_at < ? AND id NOT IN ({_LATEST_PER_VANTAGE})", (older_than,)
            )
            return cur.rowcount

    async def prune(self, older_than: float, details_older_than: float | None = None) -> int:
        return await asyncio.to_thread(self.prune_sync, older_than, details_older_than)

    # ---- reads ----------------------------------------------------------------------------------------------------

    def load_state_sync(self, vantage: str | None) -> StoredState:
        # "? IS NULL OR": one statement serves one vantage and all of them
        match, args = "(? IS NULL OR vantage = ?)", (vantage, vantage)
        with self._locked() as db:
            totals = dict(db.execute(f"SELECT name, sum(value) FROM totals WHERE {match} GROUP BY name", args))
            last = db.execute(
                f"SELECT started_at, ended_at, result, failure, detail FROM crawls WHERE {match} "
                "ORDER BY ended_at DESC, id DESC LIMIT 1",
                args,
            ).fetchone()
            ok = db.execute(
                "SELECT c.ended_at, d.body FROM crawls c JOIN documents d ON d.crawl_id = c.id "
                f"WHERE c.result = 'success' AND {match} ORDER BY c.ended_at DESC, c.id DESC LIMIT 1",
                args,
            ).fetchone()
        document = json.loads(zlib.decompress(ok[1])) if ok else None
        return StoredState(document, health_from(last, ok[0] if ok else None, totals))

    async def load_state(self, vantage: str | None) -> StoredState:
        return await asyncio.to_thread(self.load_state_sync, vantage)

    async def latest_document(self, vantage: str | None) -> Document | None:
        return (await self.load_state(vantage)).document

    def history_sync(self, since: float, limit: int = 10_000, vantage: str | None = None) -> list[dict[str, Any]]:
        where, args = ("AND vantage = ?", (vantage,)) if vantage is not None else ("", ())
        with self._locked() as db:
            crawls = db.execute(
                f"SELECT id, {', '.join(CRAWL_FIELDS)} FROM crawls WHERE started_at >= ? {where} ORDER BY id LIMIT ?",
                (since, *args, limit),
            ).fetchall()
            aggs = db.execute(
                "SELECT crawl_id, population, dimension, name, key, value FROM aggregates "
                "WHERE crawl_id IN (SELECT value FROM json_each(?))",
                (json.dumps([c[0] for c in crawls]),),
            ).fetchall()
        return history_rows(crawls, aggs)

    async def history(self, since: float, limit: int = 10_000, vantage: str | None = None) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.history_sync, since, limit, vantage)

    def latest_crawls_sync(self, since: float) -> list[VantageCrawl]:
        out: list[VantageCrawl] = []
        with self._locked() as db:
            crawls = db.execute(
                "SELECT id, vantage, snapshot_id, started_at, ended_at, network, simulated FROM crawls "
                f"WHERE id IN ({_LATEST_PER_VANTAGE}) AND started_at >= ? ORDER BY vantage",
                (since,),
            ).fetchall()
            for crawl_id, vantage, snapshot_id, started, ended, network, simulated in crawls:
                rows = db.execute(f"SELECT {_OBS_COLUMNS} FROM observations WHERE crawl_id = ?", (crawl_id,))
                nodes = tuple(ObservedNode(bytes(r[0]).hex(), r[1], bool(r[2]), *r[3:]) for r in rows)
                out.append(VantageCrawl(vantage, snapshot_id, started, ended, network, bool(simulated), nodes))
        return out

    async def latest_crawls(self, since: float) -> list[VantageCrawl]:
        return await asyncio.to_thread(self.latest_crawls_sync, since)

    def integrity_check(self) -> str:
        with self._locked() as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])
