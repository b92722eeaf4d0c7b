"""History of ``monitor serve`` in one SQLite file: crawls, per-node observations, aggregates, counter totals.

Every crawl attempt is written in a single transaction (crawl row, its observations, aggregates, the snapshot
document and the counter increments), so a kill at any moment leaves either the whole crawl or none of it: SQLite's
journal rolls an unfinished transaction back when the file is next opened. WAL mode lets the history API read while a
crawl is written. The last successful document is kept whatever the retention, so a restart always has something to
serve at once.

Blocking: every method does disk I/O; the service calls them through ``asyncio.to_thread``. A lock serialises them so
that :meth:`close` waits for a write still running in a worker thread instead of closing the connection under it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError
from monitor.exporter.state import CrawlHealth, Document
from monitor.snapshot import NodeRecord

__all__ = ["HistoryStore", "HistoryError", "StoredState", "DB_FILENAME", "aggregate_rows"]

DB_FILENAME = "history.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crawls (
    id INTEGER PRIMARY KEY,
    snapshot_id TEXT,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    failure TEXT,
    detail TEXT,
    network TEXT,
    simulated INTEGER NOT NULL DEFAULT 0,
    nodes INTEGER NOT NULL DEFAULT 0,
    duration REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS crawls_started ON crawls (started_at);
CREATE TABLE IF NOT EXISTS observations (
    crawl_id INTEGER NOT NULL REFERENCES crawls (id),
    node_id BLOB NOT NULL,
    ip TEXT,
    udp_port INTEGER,
    reachable INTEGER NOT NULL,
    network TEXT NOT NULL,
    provider TEXT,
    region TEXT,
    country TEXT,
    asn INTEGER
);
CREATE INDEX IF NOT EXISTS observations_crawl ON observations (crawl_id);
CREATE TABLE IF NOT EXISTS aggregates (
    crawl_id INTEGER NOT NULL REFERENCES crawls (id),
    population TEXT NOT NULL,
    dimension TEXT NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS aggregates_crawl ON aggregates (crawl_id);
CREATE TABLE IF NOT EXISTS documents (
    crawl_id INTEGER PRIMARY KEY REFERENCES crawls (id),
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS totals (
    name TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""


class HistoryError(MonitorError):
    """The history database cannot be opened, read or written."""


@dataclass(frozen=True, slots=True)
class StoredState:
    document: Document | None
    health: CrawlHealth


def aggregate_rows(analysis: Mapping[str, Any], top_k: int) -> list[tuple[str, str, str, str, float]]:
    """(population, dimension, name, key, value): n, HHI, Nakamoto and top-K shares of every population/dimension."""
    rows: list[tuple[str, str, str, str, float]] = []
    for pop in analysis["populations"]:
        name, n = str(pop["denominator"]["name"]), int(pop["denominator"]["n"])
        rows.append((name, "", "n", "", float(n)))
        for dim in pop["dimensions"]:
            dimension, idx = str(dim["dimension"]), dim["indices"]
            if idx.get("hhi") is not None:
                rows.append((name, dimension, "hhi", "", float(idx["hhi"])))
            for fig in idx.get("nakamoto", ()):
                if fig.get("value") is not None:
                    rows.append((name, dimension, f"nakamoto_{float(fig['threshold']):g}", "", float(fig["value"])))
            rows.extend((name, dimension, "share", str(s["key"]), float(s["share"])) for s in dim["shares"][:top_k])
    return rows


def _observation(crawl_id: int, n: NodeRecord) -> tuple[Any, ...]:
    a = n.attribution
    return (
        crawl_id,
        bytes.fromhex(n.node_id),
        n.ip,
        n.udp_port,
        int(n.answered_ping),
        n.network,
        a.provider if a else None,
        a.region if a else None,
        a.country if a else None,
        a.asn if a else None,
    )


class HistoryStore:
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
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as err:
            raise HistoryError(f"cannot open history database {path}: {err}") from err

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db is None:
                raise HistoryError("history database is closed")
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as err:
                raise HistoryError(f"history database {self.path}: {err}") from err

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @staticmethod
    def _add_totals(db: sqlite3.Connection, increments: Mapping[str, float]) -> None:
        db.executemany(
            "INSERT INTO totals (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            sorted(increments.items()),
        )

    def record_success(
        self,
        document: Document,
        nodes: Sequence[NodeRecord],
        increments: Mapping[str, float],
        duration: float,
        top_k: int,
    ) -> None:
        meta = document["meta"]
        body = zlib.compress(json.dumps(document, separators=(",", ":")).encode("utf-8"), 6)
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO crawls (snapshot_id, started_at, ended_at, result, network, simulated, nodes, duration) "
                "VALUES (?, ?, ?, 'success', ?, ?, ?, ?)",
                (meta["id"], meta["started_at"], meta["ended_at"], meta["network"], int(bool(meta.get("simulated"))),
                 len(nodes), duration),
            )  # fmt: skip
            crawl_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_observation(crawl_id, n) for n in nodes),
            )
            db.executemany(
                "INSERT INTO aggregates VALUES (?, ?, ?, ?, ?, ?)",
                ((crawl_id, *row) for row in aggregate_rows(document["analysis"], top_k)),
            )
            db.execute("INSERT INTO documents VALUES (?, ?)", (crawl_id, body))
            self._add_totals(db, increments)

    def record_failure(
        self, started_at: float, ended_at: float, kind: str, detail: str, increments: Mapping[str, float]
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO crawls (started_at, ended_at, result, failure, detail, duration) "
                "VALUES (?, ?, 'failure', ?, ?, ?)",
                (started_at, ended_at, kind, detail[:500], ended_at - started_at),
            )
            self._add_totals(db, increments)

    def prune(self, older_than: float, details_older_than: float | None = None) -> int:
        """Delete crawls that started before ``older_than``, keeping the latest successful one; returns how many.

        ``details_older_than`` (later than ``older_than``) drops only the bulky parts of older crawls — per-node
        observations and the full documents — and keeps their aggregates: a 30-day history of a mainnet crawl
        every 30 minutes would otherwise hold ~40 million node rows.
        """
        with self._transaction() as db:
            keep = db.execute("SELECT max(id) FROM crawls WHERE result = 'success'").fetchone()[0] or -1
            doomed = "SELECT id FROM crawls WHERE started_at < ? AND id != ?"
            if details_older_than is not None:
                for table in ("observations", "documents"):
                    db.execute(f"DELETE FROM {table} WHERE crawl_id IN ({doomed})", (details_older_than, keep))
            for table in ("observations", "aggregates", "documents"):
                db.execute(f"DELETE FROM {table} WHERE crawl_id IN ({doomed})", (older_than, keep))
            return db.execute("DELETE FROM crawls WHERE started_at < ? AND id != ?", (older_than, keep)).rowcount

    def load_state(self) -> StoredState:
        """The latest successful document and the health figures, as a restarted service resumes from them."""
        with self._transaction() as db:
            totals = dict(db.execute("SELECT name, value FROM totals").fetchall())
            last = db.execute(
                "SELECT started_at, ended_at, result, failure, detail FROM crawls ORDER BY id DESC LIMIT 1"
            )
            last_row = last.fetchone()
            ok = db.execute(
                "SELECT c.ended_at, d.body FROM crawls c JOIN documents d ON d.crawl_id = c.id "
                "WHERE c.result = 'success' ORDER BY c.id DESC LIMIT 1"
            ).fetchone()
        document = json.loads(zlib.decompress(ok[1])) if ok else None
        health = CrawlHealth(
            last_attempt_at=last_row[1] if last_row else None,
            last_attempt_ok=(last_row[2] == "success") if last_row else None,
            last_failure=last_row[3] if last_row else None,
            last_failure_detail=(last_row[4] or "") if last_row else "",
            last_success_at=ok[0] if ok else None,
            last_duration_s=(last_row[1] - last_row[0]) if last_row else None,
            totals=totals,
        )
        return StoredState(document, health)

    def history(self, since: float, limit: int = 10_000) -> list[dict[str, Any]]:
        """Per-crawl aggregates of the crawls that started at or after ``since``, oldest first."""
        with self._transaction() as db:
            crawls = db.execute(
                "SELECT id, snapshot_id, started_at, ended_at, result, failure, network, simulated, nodes, duration "
                "FROM crawls WHERE started_at >= ? ORDER BY id LIMIT ?",
                (since, limit),
            ).fetchall()
            ids = [c[0] for c in crawls]
            aggs = db.execute(
                "SELECT crawl_id, population, dimension, name, key, value FROM aggregates "
                "WHERE crawl_id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            ).fetchall()
        return _history_rows(crawls, aggs)

    def integrity_check(self) -> str:
        with self._transaction() as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _history_rows(crawls: Sequence[Sequence[Any]], aggs: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    figures: dict[int, dict[str, Any]] = {}
    for crawl_id, population, dimension, name, key, value in aggs:
        pop = figures.setdefault(crawl_id, {}).setdefault(population, {})
        if name == "n":
            pop["n"] = int(value)
            continue
        dim = pop.setdefault(dimension, {})
        if name == "share":
            dim.setdefault("top", {})[key] = value
        else:
            dim[name] = value
    fields = ("snapshot_id", "started_at", "ended_at", "result", "failure", "network", "simulated", "nodes", "duration")
    out = []
    for row in crawls:
        item = dict(zip(fields, row[1:], strict=True))
        item["simulated"] = bool(item["simulated"])
        item["populations"] = figures.get(row[0], {})
        out.append(item)
    return out
