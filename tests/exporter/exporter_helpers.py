"""Shared helpers of the exporter tests: free ports, promtool, an in-process service over synthetic snapshots."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from monitor.analysis.claims import load_claims
from monitor.exporter.analysis_worker import thread_analyser
from monitor.exporter.history import DB_FILENAME, HistoryStore
from monitor.exporter.service import ExporterService, ServiceConfig
from monitor.snapshot import Snapshot

__all__ = ["free_port", "require_tool", "make_service", "KNOWN"]

KNOWN = ("aws", "gcp", "hetzner", "ovh", "azure", "vultr")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def require_tool(name: str) -> str:
    """The tool's path; in CI a missing tool fails the test (it must be installed), elsewhere it skips."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{name} is not installed; .ci/run must install the Debian 'prometheus' package")
        pytest.skip(f"{name} not installed (apt-get install prometheus)")
    return path


def make_service(
    tmp: Path,
    source: Callable[[], Awaitable[Snapshot]],
    *,
    interval: float = 60.0,
    crawl_timeout: float = 30.0,
    clock: Callable[[], float] | None = None,
    known: Sequence[str] = KNOWN,
) -> ExporterService:
    store = HistoryStore(tmp / DB_FILENAME)
    config = ServiceConfig(interval=interval, crawl_timeout=crawl_timeout, top_k=5, known_providers=tuple(known))
    analyser = thread_analyser(load_claims(None), bootstrap=20, seed=1)
    if clock is None:
        return ExporterService(store, source, config, analyser)
    return ExporterService(store, source, config, analyser, clock=clock)
