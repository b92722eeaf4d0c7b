"""Shared helpers of the exporter tests: free ports and tools (from tests/stack.py), an in-process service over
synthetic snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from stack import free_port, require_tool

from monitor.exporter.analysis_worker import thread_analyser
from monitor.exporter.service import ExporterService, ServiceConfig
from monitor.seeds import load_claims
from monitor.snapshot import Snapshot
from monitor.store import DB_FILENAME
from monitor.store.sqlite import SqliteStore

__all__ = ["free_port", "require_tool", "make_service", "KNOWN"]

KNOWN = ("aws", "gcp", "hetzner", "ovh", "azure", "vultr")


def make_service(
    tmp: Path,
    source: Callable[[], Awaitable[Snapshot]],
    *,
    interval: float = 60.0,
    crawl_timeout: float = 30.0,
    clock: Callable[[], float] | None = None,
    known: Sequence[str] = KNOWN,
) -> ExporterService:
    store = SqliteStore(tmp / DB_FILENAME)
    store.migrate_sync()
    config = ServiceConfig(interval=interval, crawl_timeout=crawl_timeout, top_k=5, known_providers=tuple(known))
    analyser = thread_analyser(load_claims(None), bootstrap=20, seed=1)
    if clock is None:
        return ExporterService(store, source, config, analyser)
    return ExporterService(store, source, config, analyser, clock=clock)
