"""``monitor db migrate|status|import-sqlite``: the history store's schema and the move from SQLite to PostgreSQL.

``monitor serve`` applies pending migrations itself at start; ``monitor db migrate`` does it ahead of a rollout (one
place, one log) and ``monitor db status`` says what a database has and lacks without changing it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.hosting.store import default_data_dir
from monitor.store import STORE_ENV, SchemaStatus, is_postgres, open_store, resolve_spec
from monitor.store.sqlite import SqliteStore

__all__ = ["register", "cmd_status", "cmd_migrate", "cmd_import"]


def _store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        help=f"postgresql://... URL or SQLite file (default: ${STORE_ENV}, else history.sqlite3 in the data directory)",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory of the default SQLite file")


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="history store: schema migrations, status, SQLite -> PostgreSQL import")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="applied and pending schema migrations (changes nothing)")
    _store_arg(status)
    status.set_defaults(func=cmd_status)
    migrate = sub.add_parser("migrate", help="apply the pending schema migrations")
    _store_arg(migrate)
    migrate.add_argument("--to", type=int, default=None, help="stop after migration VERSION")
    migrate.set_defaults(func=cmd_migrate)
    imp = sub.add_parser("import-sqlite", help="copy a SQLite history into the PostgreSQL --store (one transaction)")
    imp.add_argument("path", type=Path, help="the SQLite history file (history.sqlite3)")
    _store_arg(imp)
    imp.add_argument("--vantage", default=None, help="vantage of crawls stored without one (default: the host name)")
    imp.set_defaults(func=cmd_import)


def _spec(args: argparse.Namespace) -> str:
    return resolve_spec(args.store, args.data_dir or default_data_dir())


def _print_status(status: SchemaStatus) -> None:
    out = sys.stdout
    out.write(f"backend:   {status.backend}\nlocation:  {status.location}\n")
    out.write(f"applied:   {', '.join(map(str, status.applied)) or '(none)'}\n")
    out.write(f"available: {', '.join(map(str, status.available))}\n")
    out.write(f"pending:   {', '.join(map(str, status.pending)) or '(none)'}\n")
    for partition in status.details.get("partitions", ()):
        out.write(f"partition: {partition}\n")


async def _status(spec: str, path: Path | None) -> SchemaStatus:
    if path is None:
        from monitor.store.postgres import PostgresStore

        pg = PostgresStore(spec)
        try:
            await pg.connect()
            return await pg.schema_status()
        finally:
            await pg.close()
    store = SqliteStore(path)
    try:
        return await store.schema_status()
    finally:
        await store.close()


def cmd_status(args: argparse.Namespace) -> int:
    spec = _spec(args)
    path = None if is_postgres(spec) else Path(spec.removeprefix("sqlite://"))
    if path is not None and not path.exists():  # opening it would create an empty file
        raise ConfigError(f"no history database at {path}")
    _print_status(asyncio.run(_status(spec, path)))
    return 0


async def _migrate(spec: str, target: int | None) -> SchemaStatus:
    store = await open_store(spec, target=target)
    try:
        return await store.schema_status()
    finally:
        await store.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    _print_status(asyncio.run(_migrate(_spec(args), args.to)))
    return 0


async def _import(path: Path, spec: str, vantage: str) -> str:
    from monitor.store.importer import import_sqlite
    from monitor.store.postgres import PostgresStore

    target = PostgresStore(spec)
    try:
        await target.open()
        report = await import_sqlite(path, target, vantage)
    finally:
        await target.close()
    counters = "counters added" if report.totals_imported else "counters NOT added (some crawls were already there)"
    return (
        f"imported {report.crawls} crawls ({report.observations} node observations) into {target.location}; "
        f"skipped {report.skipped} already present; {counters}\n"
    )


def cmd_import(args: argparse.Namespace) -> int:
    from monitor.store.vantage import default_vantage, valid_vantage

    spec = _spec(args)
    if not is_postgres(spec):
        raise ConfigError("import-sqlite needs a PostgreSQL target: --store postgresql://... or MONITOR_STORE")
    vantage = args.vantage if args.vantage is not None else default_vantage()
    if not valid_vantage(vantage):
        raise ConfigError(f"--vantage must be 1-63 letters, digits, '.', '-' or '_': {vantage!r}")
    sys.stdout.write(asyncio.run(_import(args.path, spec, vantage)))
    return 0
