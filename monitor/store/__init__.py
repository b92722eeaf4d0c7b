"""History storage of ``monitor serve``: one interface (:class:`~monitor.store.base.Store`), two backends.

- :mod:`~monitor.store.sqlite` the embedded default, one file in the data directory;
- :mod:`~monitor.store.postgres` PostgreSQL shared by several crawlers (vantage points) and API servers;
- :mod:`~monitor.store.migrate` versioned SQL migrations (``sql/<backend>/NNNN_name.sql``), applied at start;
- :mod:`~monitor.store.vantage` coverage and overlap of vantage points, and their combined snapshot;
- :mod:`~monitor.store.importer` one-shot copy of a SQLite history into PostgreSQL;
- ``monitor db migrate|status|import-sqlite`` lives in :mod:`monitor.cli.db`.

The store is chosen by ``--store`` or ``MONITOR_STORE``: a ``postgresql://`` (or ``postgres://``) URL selects
PostgreSQL; a path or ``sqlite:///path`` a SQLite file; nothing the default file in the data directory.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from monitor.store.base import SchemaStatus, Store, StoredState, StoreError, VantageCrawl, aggregate_rows
from monitor.store.sqlite import DB_FILENAME, SqliteStore

__all__ = [
    "Store",
    "StoreError",
    "StoredState",
    "SchemaStatus",
    "VantageCrawl",
    "aggregate_rows",
    "DB_FILENAME",
    "STORE_ENV",
    "is_postgres",
    "resolve_spec",
    "open_store",
]

STORE_ENV = "MONITOR_STORE"


def is_postgres(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


def resolve_spec(spec: str | None, data_dir: Path) -> str:
    """The store to use: ``--store``, else ``MONITOR_STORE``, else the SQLite file in the data directory."""
    chosen = spec or os.environ.get(STORE_ENV, "")
    if not chosen:
        return str(data_dir / DB_FILENAME)
    return chosen


def _sqlite_path(spec: str) -> Path:
    return Path(spec.removeprefix("sqlite://")) if spec.startswith("sqlite://") else Path(spec)


async def open_store(spec: str, *, apply_migrations: bool = True, target: int | None = None) -> Store:
    """Open the store named by a resolved spec, migrated (up to ``target``, default all) or, with
    ``apply_migrations=False``, refused while migrations are pending."""
    if is_postgres(spec):
        from monitor.store.postgres import PostgresStore  # psycopg is loaded only when PostgreSQL is used

        pg = PostgresStore(spec)
        try:
            await pg.open(apply_migrations=apply_migrations, target=target)
        except BaseException:
            await pg.close()
            raise
        return pg
    store = SqliteStore(_sqlite_path(spec))
    try:
        if apply_migrations:
            await asyncio.to_thread(store.migrate_sync, target)
        else:
            status = await store.schema_status()
            if status.pending:
                raise StoreError(f"{store.location}: schema migrations pending {list(status.pending)}")
    except BaseException:
        await store.close()
        raise
    return store
