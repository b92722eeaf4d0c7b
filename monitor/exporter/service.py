"""The service behind ``monitor serve``: the scheduled crawl job and the immutable view it publishes.

One crawl attempt: crawl + attribute on the event loop (bounded by the crawl timeout), then analysis, the history
write and the metric rendering off the loop, then one assignment that swaps the new :class:`View` in. A failed
or timed-out attempt is logged, counted and recorded, and the previous snapshot keeps being served.

Roles: ``crawl`` (the default) crawls from its own vantage point and writes its history; ``api`` crawls nothing: its
job reads the latest crawl of every vantage point from the shared store, analyses their union (the combined
snapshot) and publishes it, with per-vantage coverage figures, without writing a crawl of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from monitor import __version__
from monitor.errors import CrawlError
from monitor.exporter.analysis_worker import Analyser
from monitor.exporter.families import DEFAULT_TOP_K, MetricSet, build_metric_set
from monitor.exporter.state import CrawlHealth, Document, crawl_totals, failure_totals
from monitor.snapshot import Snapshot
from monitor.store import Store
from monitor.store.vantage import VantageSummary, combined_snapshot, summarise

__all__ = [
    "View",
    "ServiceConfig",
    "ExporterService",
    "SnapshotSource",
    "snapshot_document",
    "combined_source",
    "strict_json",
]

log = logging.getLogger(__name__)

# Takes one snapshot (crawl + attribution); injected so tests and the benchmark can feed synthetic snapshots.
SnapshotSource = Callable[[], Awaitable[Snapshot]]


@dataclass(frozen=True, slots=True)
class View:
    """Everything a request reads, built together so one scrape never mixes two crawls."""

    document: Document | None
    health: CrawlHealth
    metrics: MetricSet
    snapshot_json: bytes | None  # the /api/snapshot body, serialised once
    vantages: VantageSummary | None = None  # coverage of the vantage points in the shared store


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    interval: float = 1800.0
    crawl_timeout: float = 900.0
    retention_days: float = 30.0
    node_retention_days: float = 3.0  # per-node observations and full documents; aggregates keep retention_days
    top_k: int = DEFAULT_TOP_K
    known_providers: tuple[str, ...] = ()
    role: Literal["crawl", "api"] = "crawl"
    vantage: str = ""  # this crawler's vantage point (crawl role)
    vantage_window: float = 3600.0  # vantage points whose latest successful crawl started this recently count
    max_vantages: int = 16  # per-vantage metric series for at most this many (the newest)


def combined_source(store: Store, window: float, clock: Callable[[], float] = time.time) -> SnapshotSource:
    """The api role's "crawl": the union of the latest crawl of every vantage point within ``window`` seconds."""

    async def source() -> Snapshot:
        crawls = await store.latest_crawls(clock() - window)
        if not crawls:
            raise CrawlError(f"no vantage point has a successful crawl in the last {window:g} s")
        datasets: dict[str, str] = {}
        for crawl in crawls:  # the dataset dates behind each vantage's attribution, for the dataset-age metric
            document = await store.latest_document(crawl.vantage)
            if document is not None:
                datasets.update(document["meta"].get("datasets") or {})
        return await asyncio.to_thread(combined_snapshot, crawls, datasets)

    return source


def snapshot_document(snapshot: Snapshot, analysis: Mapping[str, Any]) -> dict[str, Any]:
    return {"meta": Snapshot(snapshot.meta, ()).to_dict()["meta"], "analysis": dict(analysis)}


class ExporterService:
    def __init__(
        self,
        store: Store,
        source: SnapshotSource,
        config: ServiceConfig,
        analyser: Analyser,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config
        self._source = source
        self._analyser = analyser
        self._clock = clock
        self._current: asyncio.Task[Any] | None = None
        self._stored_at: float | None = None  # start time of the last crawl whose history row is committed
        self.view = self._build_view(None, CrawlHealth())

    def _build_view(
        self, document: Document | None, health: CrawlHealth, vantages: VantageSummary | None = None
    ) -> View:
        metrics = build_metric_set(
            document,
            health,
            now=self._clock(),
            version=__version__,
            top_k=self.config.top_k,
            known_providers=self.config.known_providers,
            vantages=vantages,
        )
        body = None
        if document is not None:
            body = json.dumps(strict_json(document), separators=(",", ":"), allow_nan=False).encode("utf-8")
        return View(document, health, metrics, body, vantages)

    @property
    def _own_vantage(self) -> str | None:
        """The vantage whose history this service resumes: its own, or all of them (None) in the api role."""
        return self.config.vantage if self.config.role == "crawl" else None

    async def _vantage_summary(self) -> VantageSummary | None:
        try:
            crawls = await self.store.latest_crawls(self._clock() - self.config.vantage_window)
        except Exception:  # the figures are an extra: a read failure must not fail the crawl job
            log.exception("reading the vantage points failed")
            return self.view.vantages
        return await asyncio.to_thread(
            summarise, crawls, max_vantages=self.config.max_vantages, top_k=self.config.top_k
        )

    async def restore(self) -> None:
        """Serve the last stored snapshot at once (before the first crawl of this run has finished)."""
        state = await self.store.load_state(self._own_vantage)
        vantages = await self._vantage_summary()
        # api role: no stored document is the combined one; its first job (at start) builds it
        document = state.document if self.config.role == "crawl" else None
        self.view = await asyncio.to_thread(self._build_view, document, state.health, vantages)

    @property
    def crawl_running(self) -> bool:
        return self._current is not None and not self._current.done()

    async def run_once(self) -> bool:
        """One crawl attempt; True on success. Never raises except on cancellation (shutdown)."""
        self._current = asyncio.current_task()
        started = self._clock()
        try:
            return await self._attempt(started)
        except asyncio.CancelledError:
            # Shutdown while crawling, analysing or storing: say so in history and in the error counter before the
            # cancellation goes on (a kill -9 still leaves no row; the next start cannot tell it apart). A crawl
            # already stored in full (its transaction committed) is not marked interrupted.
            if self._stored_at != started:
                await self._failed(started, "crawl_interrupted", "the service stopped while the crawl ran")
            raise

    async def _attempt(self, started: float) -> bool:
        try:
            snapshot = await asyncio.wait_for(self._source(), self.config.crawl_timeout)
        except TimeoutError:
            await self._failed(started, "crawl_timeout", f"no snapshot within {self.config.crawl_timeout:g} s")
            return False
        # A scheduled job must survive anything a crawl throws (a bug, a socket error): the service keeps serving
        # the previous snapshot, so every failure is caught here, logged with its traceback and counted.
        except Exception as err:
            log.exception("crawl failed")
            await self._failed(started, "crawl_failed", f"{type(err).__name__}: {err}")
            return False
        try:
            document = snapshot_document(snapshot, await self._analyser(snapshot))
            await self._complete(snapshot, document, started)
        except Exception as err:  # same reason as above: analysis or a full disk must not end the service
            log.exception("analysing or storing the crawl failed")
            await self._failed(started, "crawl_failed", f"{type(err).__name__}: {err}")
            return False
        return True

    async def _complete(self, snapshot: Snapshot, document: Document, started: float) -> None:
        """Store and publish one analysed crawl."""
        ended = self._clock()
        if self.config.role == "api":  # nothing of our own to store: the health is the crawlers' combined one
            health = (await self.store.load_state(None)).health
        else:
            increments = crawl_totals(snapshot.meta.counters)
            await self.store.record_success(document, snapshot.nodes, increments, ended - started, self.config.top_k)
            self._stored_at = started
            await self.store.prune(
                ended - self.config.retention_days * 86400,
                details_older_than=ended - min(self.config.node_retention_days, self.config.retention_days) * 86400,
            )
            health = CrawlHealth(
                last_attempt_at=ended,
                last_attempt_ok=True,
                last_success_at=ended,
                last_duration_s=ended - started,
                totals=_add(self.view.health.totals, increments),
            )
        vantages = await self._vantage_summary()
        self.view = await asyncio.to_thread(self._build_view, document, health, vantages)
        log.info("crawl %s: %d nodes in %.1f s", snapshot.meta.id, len(snapshot.nodes), ended - started)

    async def _failed(self, started: float, kind: str, detail: str) -> None:
        ended = self._clock()
        log.warning("crawl attempt failed (%s): %s; still serving the previous snapshot", kind, detail)
        if self.config.role == "api":  # no crawl of ours failed: the counters stay the crawlers'
            return
        increments = failure_totals(kind)
        try:
            await self.store.record_failure(self.config.vantage, started, ended, kind, detail, increments)
        except Exception:  # the failure is still counted in memory and served; only its history row is lost
            log.exception("recording the failed crawl failed")
        old = self.view.health
        health = dataclasses.replace(
            old,
            last_attempt_at=ended,
            last_attempt_ok=False,
            last_failure=kind,
            last_failure_detail=detail,
            last_duration_s=ended - started,
            totals=_add(old.totals, increments),
        )
        view = self.view
        self.view = await asyncio.to_thread(self._build_view, view.document, health, view.vantages)

    async def cancel_running(self) -> None:
        """Abandon the running crawl (shutdown): the crawl task is cancelled and awaited, nothing half-written."""
        task = self._current
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def health_report(self, now: float) -> tuple[bool, dict[str, Any]]:
        """(healthy, body) for /healthz: healthy when a crawl succeeded within two intervals (api role: any
        vantage's crawl within the vantage window, since its own interval is only how often it recombines)."""
        h = self.view.health
        limit = 2 * self.config.interval if self.config.role == "crawl" else self.config.vantage_window
        body: dict[str, Any] = {
            "last_success_at": h.last_success_at,
            "last_attempt_at": h.last_attempt_at,
            "last_attempt_ok": h.last_attempt_ok,
            "last_failure": h.last_failure,
            "last_failure_detail": h.last_failure_detail or None,
            "crawl_running": self.crawl_running,
            "interval_s": self.config.interval,
        }
        if h.last_success_at is None:
            reason = "no successful crawl yet"
        elif now - h.last_success_at > limit:
            reason = f"last successful crawl ended {now - h.last_success_at:.0f} s ago (limit {limit:.0f} s)"
        else:
            body.update(status="ok", reason=None)
            return True, body
        body.update(status="unhealthy", reason=reason)
        return False, body


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, so ``json.dumps(allow_nan=False)`` cannot fail."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


def _add(totals: Mapping[str, float], increments: Mapping[str, float]) -> dict[str, float]:
    out = dict(totals)
    for key, value in increments.items():
        out[key] = out.get(key, 0.0) + value
    return out
