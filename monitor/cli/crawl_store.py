"""``monitor crawl --store``: attribute, analyse and record one crawl in the history store, as ``monitor serve`` does.

A one-shot crawler (cron, a host without a long-running service) then feeds the same shared database as the
serving crawlers, under its own vantage name, and ``monitor serve --role api`` combines it with the others. The
analysis and the stored document are serve's own (:mod:`monitor.exporter.analysis_worker`,
:func:`~monitor.exporter.service.snapshot_document`), so a crawl stored either way reads the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from monitor.errors import ConfigError
from monitor.exporter.analysis_worker import thread_analyser
from monitor.exporter.families import DEFAULT_TOP_K
from monitor.exporter.service import snapshot_document
from monitor.exporter.state import crawl_totals
from monitor.hosting import attribute_snapshot, load_default_resolver
from monitor.paths import default_data_dir
from monitor.seeds import load_claims
from monitor.snapshot import Snapshot
from monitor.store import STORE_ENV, Store, resolve_spec
from monitor.store.vantage import default_vantage, valid_vantage

__all__ = ["StorePlan", "plan_store", "record_crawl"]

_BOOTSTRAP = 200  # serve's defaults, so a crawl stored here is analysed like one stored by a serving crawler
_SEED = 1


@dataclass(frozen=True, slots=True)
class StorePlan:
    spec: str  # resolved: a postgresql:// URL or a SQLite path
    vantage: str


def plan_store(store: str | None, vantage: str | None) -> StorePlan | None:
    """The store to record into (``--store``, else ``MONITOR_STORE``), or None: then nothing is stored, as before."""
    spec = store or os.environ.get(STORE_ENV, "")
    if not spec:
        if vantage is not None:
            raise ConfigError(f"--vantage names the crawl in a history store: give --store or ${STORE_ENV}")
        return None
    name = vantage if vantage is not None else default_vantage()
    if not valid_vantage(name):
        raise ConfigError(f"--vantage must be 1-63 letters, digits, '.', '-' or '_' (not 'combined'): {name!r}")
    return StorePlan(resolve_spec(spec, default_data_dir()), name)


async def record_crawl(
    store: Store, snapshot: Snapshot, vantage: str, started: float, clock: Callable[[], float] = time.time
) -> Snapshot:
    """Attribute (offline, local tables), analyse and record ``snapshot`` as a successful crawl of ``vantage``,
    all in one transaction of the store; the attributed snapshot is returned."""
    resolver = await asyncio.to_thread(load_default_resolver, offline=True, data_dir=default_data_dir())
    snapshot = dataclasses.replace(snapshot, meta=dataclasses.replace(snapshot.meta, vantage=vantage))
    attributed = await asyncio.to_thread(attribute_snapshot, snapshot, resolver)
    analyser = thread_analyser(load_claims(None), _BOOTSTRAP, _SEED)
    document = snapshot_document(attributed, await analyser(attributed))
    increments = crawl_totals(attributed.meta.counters)
    await store.record_success(document, attributed.nodes, increments, clock() - started, DEFAULT_TOP_K)
    return attributed
