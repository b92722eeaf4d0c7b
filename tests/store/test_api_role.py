"""`monitor serve --role api` in process: it publishes the combined vantage points and never writes the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_store_contract import T0, crawl, record

from monitor.exporter.analysis_worker import thread_analyser
from monitor.exporter.service import ExporterService, ServiceConfig, combined_source
from monitor.seeds import load_claims
from monitor.store import open_store

pytestmark = pytest.mark.timeout(60)


async def test_api_role_serves_the_union_of_the_vantage_points_without_writing(tmp_path: Path) -> None:
    store = await open_store(str(tmp_path / "h.sqlite3"))
    clock = lambda: T0 + 3600  # noqa: E731
    config = ServiceConfig(role="api", vantage_window=7200, top_k=5)
    service = ExporterService(
        store, combined_source(store, 7200, clock), config, thread_analyser(load_claims(None), 0, 1), clock=clock
    )
    assert not await service.run_once()  # nothing to combine yet: a failed attempt, but no row written
    assert await store.history(0) == []
    await record(store, crawl(200, 1, "eu", T0), {"crawls:success": 1.0, "packets:sent:ping": 3.0})
    await record(store, crawl(150, 2, "us", T0 + 600), {"crawls:success": 1.0, "packets:sent:ping": 4.0})
    await service.restore()  # at start: the crawlers' counters and vantage figures, no single vantage's document
    assert service.view.document is None and service.view.health.totals["crawls:success"] == 2.0
    assert service.view.vantages is not None and service.view.vantages.vantage_points == 2
    assert await service.run_once()
    view = service.view
    assert view.document is not None and view.document["meta"]["vantage"] == "combined"
    assert view.vantages is not None and {v.vantage for v in view.vantages.vantages} == {"eu", "us"}
    assert view.health.totals["packets:sent:ping"] == 7.0  # the crawlers' counters, combined
    assert b'eth_hosting_crawls_total{result="success"} 2.0' in view.metrics.exposition
    assert len(await store.history(0)) == 2  # still only the crawlers' crawls
    await store.close()


@pytest.mark.parametrize("vantage", ["a b", "combined", "x" * 64, ""])
def test_serve_refuses_a_vantage_name_that_cannot_be_a_label(
    vantage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.cli import main

    store = str(tmp_path / "h.sqlite3")
    assert main(["serve", "--role", "api", "--store", store, "--vantage", vantage]) == 2
    assert "--vantage must be" in capsys.readouterr().err


def test_the_default_vantage_is_a_valid_label() -> None:
    from monitor.store.vantage import default_vantage, valid_vantage

    assert valid_vantage(default_vantage())
