"""The storage contract, run unchanged against both backends (``store_spec``: SQLite file, PostgreSQL database)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from monitor.exporter.analysis_worker import analyse_snapshot
from monitor.exporter.service import snapshot_document
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import NodeRecord, Snapshot
from monitor.store import Store, open_store

pytestmark = pytest.mark.timeout(60)

T0 = float(int(time.time()) // 3600 * 3600 - 6 * 3600)


def crawl(n: int, seed: int, vantage: str, started: float) -> Snapshot:
    snap = synthetic_snapshot(n, seed=seed, started_at=started)
    return dataclasses.replace(snap, meta=dataclasses.replace(snap.meta, vantage=vantage, id=f"{vantage}-{seed}"))


def document(snap: Snapshot) -> dict[str, Any]:
    return snapshot_document(snap, analyse_snapshot(snap, None, 0, 1))


async def record(store: Store, snap: Snapshot, increments: dict[str, float] | None = None) -> None:
    await store.record_success(document(snap), snap.nodes, increments or {"crawls:success": 1.0}, 5.0, 5)


@pytest.fixture
async def store(store_spec: str) -> AsyncIterator[Store]:
    opened = await open_store(store_spec)
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_crawl_round_trips_through_history_and_latest_crawls(store: Store) -> None:
    snap = crawl(300, 1, "eu-1", T0)
    await record(store, snap)
    rows = await store.history(0)
    assert len(rows) == 1 and rows[0]["vantage"] == "eu-1" and rows[0]["snapshot_id"] == "eu-1-1"
    assert rows[0]["nodes"] == 300 and rows[0]["result"] == "success" and rows[0]["simulated"] is snap.meta.simulated
    expected_n = document(snap)["analysis"]["populations"][0]["denominator"]["n"]
    assert rows[0]["populations"]["discovered/node"]["n"] == expected_n
    assert rows[0]["populations"]["discovered/node"]["provider"]["top"]
    [latest] = await store.latest_crawls(0)
    assert latest.vantage == "eu-1" and latest.started_at == T0
    assert {o.node_id for o in latest.nodes} == {n.node_id for n in snap.nodes}
    by_id = {o.node_id: o for o in latest.nodes}
    for n in snap.nodes[:50]:
        o = by_id[n.node_id]
        assert (o.ip, o.reachable, o.network) == (n.ip, n.answered_ping, n.network)
        assert n.attribution is not None and (o.provider, o.asn) == (n.attribution.provider, n.attribution.asn)
    assert (await store.latest_document("eu-1")) == document(snap)


async def test_history_filters_by_time_and_vantage(store: Store) -> None:
    for i, (vantage, when) in enumerate((("a", T0), ("b", T0 + 600), ("a", T0 + 1800))):
        await record(store, crawl(60, i, vantage, when))
    assert [r["snapshot_id"] for r in await store.history(0)] == ["a-0", "b-1", "a-2"]
    assert [r["snapshot_id"] for r in await store.history(T0 + 1)] == ["b-1", "a-2"]
    assert [r["snapshot_id"] for r in await store.history(0, vantage="a")] == ["a-0", "a-2"]
    assert [r["snapshot_id"] for r in await store.history(0, limit=1)] == ["a-0"]
    assert await store.history(T0 + 99_999) == []


async def test_state_and_counters_per_vantage_and_combined(store: Store) -> None:
    await record(store, crawl(40, 1, "a", T0), {"crawls:success": 1.0, "packets:sent:ping": 10.0})
    await record(store, crawl(40, 2, "b", T0 + 60), {"crawls:success": 1.0, "packets:sent:ping": 5.0})
    await store.record_failure("a", T0 + 700, T0 + 730, "crawl_timeout", "x" * 900, {"crawls:failure": 1.0})
    a, b, both = await store.load_state("a"), await store.load_state("b"), await store.load_state(None)
    assert a.health.totals == {"crawls:success": 1.0, "packets:sent:ping": 10.0, "crawls:failure": 1.0}
    assert both.health.totals == {"crawls:success": 2.0, "packets:sent:ping": 15.0, "crawls:failure": 1.0}
    assert a.health.last_attempt_ok is False and a.health.last_failure == "crawl_timeout"
    assert len(a.health.last_failure_detail) == 500
    assert a.document is not None and a.document["meta"]["id"] == "a-1"
    assert b.health.last_attempt_ok is True and b.document is not None and b.document["meta"]["id"] == "b-2"
    assert both.document is not None and both.document["meta"]["id"] == "b-2"  # newest success of any vantage
    assert (await store.load_state("nobody")).document is None


async def test_latest_crawls_take_the_newest_success_of_each_vantage_in_the_window(store: Store) -> None:
    await record(store, crawl(30, 1, "a", T0))
    await record(store, crawl(35, 2, "a", T0 + 1800))
    await record(store, crawl(20, 3, "b", T0 + 900))
    await store.record_failure("b", T0 + 2000, T0 + 2100, "crawl_failed", "boom", {})
    latest = {c.vantage: c for c in await store.latest_crawls(0)}
    assert {v: (c.snapshot_id, len(c.nodes)) for v, c in latest.items()} == {"a": ("a-2", 35), "b": ("b-3", 20)}
    assert [c.vantage for c in await store.latest_crawls(T0 + 1000)] == ["a"]


async def test_retention_prunes_old_crawls_but_keeps_the_latest_success_of_each_vantage(store: Store) -> None:
    await record(store, crawl(10, 1, "a", T0 - 90 * 86400))
    await record(store, crawl(10, 2, "b", T0 - 80 * 86400))
    await record(store, crawl(10, 3, "b", T0))
    await store.record_failure("a", T0, T0 + 1, "crawl_failed", "x", {})
    assert await store.prune(older_than=T0 - 86400) == 1  # b-2 only: a-1 is a's latest success
    assert [r["snapshot_id"] for r in await store.history(0)] == ["a-1", "b-3", None]
    assert {c.vantage for c in await store.latest_crawls(0)} == {"a", "b"}


async def test_node_retention_drops_details_but_keeps_aggregates(store: Store) -> None:
    for i, started in enumerate((T0 - 3 * 86400, T0 - 2 * 86400, T0)):
        await record(store, crawl(20, i, "a", started))
    assert await store.prune(older_than=T0 - 2.5 * 86400, details_older_than=T0 - 86400) == 1
    rows = await store.history(0)
    assert [r["snapshot_id"] for r in rows] == ["a-1", "a-2"] and rows[0]["populations"]  # aggregates kept
    [latest] = await store.latest_crawls(0)
    assert latest.snapshot_id == "a-2" and len(latest.nodes) == 20
    assert (await store.load_state("a")).document is not None


async def test_a_crawl_that_fails_mid_write_leaves_nothing(store: Store) -> None:
    snap = crawl(200, 1, "a", T0)
    broken = NodeRecord("zz-not-hex", "", "127.0.0.1", 1, 1)  # fails when its row is written, after 150 others
    with pytest.raises(ValueError):
        await store.record_success(document(snap), (*snap.nodes[:150], broken), {"crawls:success": 1.0}, 1.0, 5)
    assert await store.history(0) == [] and await store.latest_crawls(0) == []
    assert (await store.load_state(None)).health.totals == {}
    await record(store, snap)  # the store is still usable
    assert len(await store.history(0)) == 1


async def test_schema_is_fully_migrated_and_reopening_changes_nothing(store_spec: str) -> None:
    first = await open_store(store_spec)
    status = await first.schema_status()
    await first.close()
    assert status.applied == status.available and status.pending == () and len(status.available) >= 2
    again = await open_store(store_spec)
    assert (await again.schema_status()).applied == status.applied
    await again.close()
