"""``monitor db status|migrate|import-sqlite`` through the command line."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from test_store_contract import T0, crawl, record

from monitor.cli import main
from monitor.store import open_store
from monitor.store.migrate import migrations

pytestmark = pytest.mark.timeout(60)


def test_status_and_migrate_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.sqlite3"
    assert main(["db", "status", "--store", str(path)]) == 2  # nothing there: not created by a status
    assert not path.exists()
    assert main(["db", "migrate", "--store", str(path), "--to", "1"]) == 0
    capsys.readouterr()
    assert main(["db", "status", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert "applied:   1\n" in out and "pending:   2\n" in out
    assert main(["db", "migrate", "--store", str(path)]) == 0
    assert "pending:   (none)" in capsys.readouterr().out


def test_status_and_migrate_on_postgresql(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "status", "--store", pg_url]) == 0
    assert "applied:   (none)" in capsys.readouterr().out
    assert main(["db", "migrate", "--store", pg_url]) == 0
    out = capsys.readouterr().out
    assert "pending:   (none)" in out and "partition: observations_p" in out and "password" not in out
    assert f"available: {', '.join(str(m.version) for m in migrations('postgresql'))}" in out


async def _fill_sqlite(path: Path) -> None:
    store = await open_store(str(path))
    await record(store, crawl(80, 1, "", T0), {"crawls:success": 1.0, "packets:sent:ping": 4.0})  # unnamed
    await record(store, crawl(50, 2, "asia", T0 + 900), {"crawls:success": 1.0})
    await store.record_failure("asia", T0 + 1800, T0 + 1810, "crawl_failed", "boom", {"crawls:failure": 1.0})
    await store.close()


async def _contents(spec: str) -> tuple[list[dict[str, object]], dict[str, int], dict[str, float]]:
    store = await open_store(spec)
    try:
        rows = await store.history(0)
        nodes = {c.vantage: len(c.nodes) for c in await store.latest_crawls(0)}
        return rows, nodes, dict((await store.load_state(None)).health.totals)
    finally:
        await store.close()


def test_import_sqlite_copies_everything_once(tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "history.sqlite3"
    asyncio.run(_fill_sqlite(path))
    before = path.read_bytes()
    assert main(["db", "import-sqlite", str(path), "--store", pg_url, "--vantage", "home"]) == 0
    assert "imported 3 crawls (130 node observations)" in capsys.readouterr().out
    assert path.read_bytes() == before  # the source is only read
    src_rows, _, src_totals = asyncio.run(_contents(str(path)))
    rows, nodes, totals = asyncio.run(_contents(pg_url))
    for row in src_rows:
        row["vantage"] = row["vantage"] or "home"  # crawls without a vantage get --vantage
    assert rows == src_rows
    assert nodes == {"home": 80, "asia": 50} and totals == src_totals
    assert main(["db", "import-sqlite", str(path), "--store", pg_url]) == 0  # again: nothing added
    assert "imported 0 crawls" in capsys.readouterr().out
    assert asyncio.run(_contents(pg_url))[0::2] == (rows, totals)


def test_import_refuses_a_file_that_is_not_a_history(tmp_path: Path, pg_url: str) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    assert main(["db", "import-sqlite", str(other), "--store", pg_url]) == 1
    assert main(["db", "import-sqlite", str(other), "--store", str(tmp_path / "x.sqlite3")]) == 2  # not PostgreSQL
