"""``monitor serve``: the exporter service (scheduled crawls, history, Prometheus metrics, JSON API)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.analysis.claims import ClaimSet
from monitor.cli.flags import add_attribution_args, add_crawl_args, settings_from_args
from monitor.crawl.runner import CrawlSettings
from monitor.errors import ConfigError
from monitor.exporter.analysis_worker import child_analyser
from monitor.exporter.app import build_app
from monitor.exporter.families import DEFAULT_TOP_K
from monitor.exporter.service import ExporterService, ServiceConfig, SnapshotSource, combined_source
from monitor.hosting import Resolver, load_default_resolver
from monitor.hosting.asn import ProviderAsns
from monitor.hosting.store import DatasetStore, default_data_dir
from monitor.hosting.update import update_datasets
from monitor.pipeline import take_snapshot
from monitor.seeds import load_claims
from monitor.snapshot import Snapshot
from monitor.store import STORE_ENV, open_store, resolve_spec
from monitor.store.vantage import default_vantage, valid_vantage

__all__ = ["register", "cmd_serve", "parse_listen", "DEFAULT_LISTEN"]

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:9108"
_SLACK_S = 300.0  # default crawl timeout = --duration + this, for attribution and a slow ipwhois fallback


def register(subparsers: Any) -> None:
    # "resolve": the crawl flags define --listen for the UDP socket; here --listen is the HTTP address, so the crawl's
    # one moves to --udp-listen.
    serve = subparsers.add_parser(
        "serve", help="scheduled crawls, history and Prometheus metrics over HTTP", conflict_handler="resolve"
    )
    add_crawl_args(serve)
    add_attribution_args(serve)
    g = serve.add_argument_group("service")
    g.add_argument("--listen", default=DEFAULT_LISTEN, help=f"HOST:PORT of the HTTP server ({DEFAULT_LISTEN})")
    g.add_argument("--udp-listen", default=None, help="HOST:PORT for the crawler's UDP socket (default: ephemeral)")
    g.add_argument("--interval", type=float, default=1800.0, help="seconds between crawl starts (1800)")
    g.add_argument("--crawl-timeout", type=float, default=None, help="abandon a crawl after SECONDS (--duration + 300)")
    g.add_argument("--retention-days", type=float, default=30.0, help="keep per-crawl aggregates for DAYS (30)")
    g.add_argument(
        "--node-retention-days",
        type=float,
        default=3.0,
        help="keep per-node observations and full snapshots for DAYS (3); the latest is always kept",
    )
    g.add_argument("--data-update-daily", action="store_true", help="refresh the IP datasets once a day")
    g.add_argument(
        "--top-k", type=int, default=DEFAULT_TOP_K, help=f"categories per dimension in metrics ({DEFAULT_TOP_K})"
    )
    g.add_argument("--claims", type=Path, default=None, help="claims file (default: seeds/claims.toml)")
    g.add_argument("--seed", type=int, default=1, help="seed of the bootstrap resampling (1)")
    g.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates for HHI/Nakamoto intervals (200)")
    g.add_argument("--simulated", action="store_true", help="label every figure as simulated (devnet demo)")
    add_store_args(serve)
    v = serve.add_argument_group("vantage points (several crawlers sharing one --store)")
    v.add_argument("--vantage", default=None, help="name of this crawler's vantage point (default: the host name)")
    v.add_argument(
        "--role",
        choices=("crawl", "api"),
        default="crawl",
        help="crawl: crawl and write the store (default); api: serve the combined vantage points from the store",
    )
    v.add_argument(
        "--vantage-window",
        type=float,
        default=3600.0,
        help="combine vantage points whose latest crawl started within SECONDS (3600)",
    )
    v.add_argument("--max-vantages", type=int, default=16, help="vantage points with their own metric series (16)")
    serve.set_defaults(func=cmd_serve)


def add_store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        help=f"history store: postgresql://... URL, or a SQLite file (default: ${STORE_ENV}, else "
        "history.sqlite3 in the data directory)",
    )


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port_text = text.rpartition(":")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not sep or not 0 <= port <= 65535:
        raise ConfigError(f"--listen must be HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", port


@dataclass(frozen=True, slots=True)
class _Plan:
    host: str
    port: int
    crawl: CrawlSettings | None  # None in the api role
    service: ServiceConfig
    data_dir: Path
    data_update_daily: bool
    store: str


def _plan(args: argparse.Namespace) -> _Plan:
    host, port = parse_listen(args.listen)
    crawl: CrawlSettings | None = None
    if args.role == "crawl":
        crawl_args = argparse.Namespace(**vars(args))
        crawl_args.listen = args.udp_listen
        crawl = settings_from_args(crawl_args)
    default_timeout = crawl.duration + _SLACK_S if crawl is not None and crawl.duration is not None else args.interval
    vantage = args.vantage if args.vantage is not None else default_vantage()
    crawl_timeout = args.crawl_timeout if args.crawl_timeout is not None else default_timeout
    checks = (
        (args.interval > 0, "--interval must be positive"),
        (crawl_timeout > 0, "--crawl-timeout must be positive"),
        (args.retention_days > 0, "--retention-days must be positive"),
        (args.node_retention_days > 0, "--node-retention-days must be positive"),
        (args.top_k >= 1, "--top-k must be at least 1"),
        (args.bootstrap >= 0, "--bootstrap must be 0 or more"),
        (
            valid_vantage(vantage),
            f"--vantage must be 1-63 letters, digits, '.', '-' or '_' (not 'combined'): {vantage!r}",
        ),
        (args.vantage_window > 0, "--vantage-window must be positive"),
        (args.max_vantages >= 1, "--max-vantages must be at least 1"),
    )
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    service = ServiceConfig(
        interval=args.interval,
        crawl_timeout=crawl_timeout,
        retention_days=args.retention_days,
        node_retention_days=args.node_retention_days,
        top_k=args.top_k,
        known_providers=tuple(sorted(set(ProviderAsns.bundled().by_number.values()))),
        role=args.role,
        vantage=vantage,
        vantage_window=args.vantage_window,
        max_vantages=args.max_vantages,
    )
    data_dir = args.data_dir or default_data_dir()
    store = resolve_spec(args.store, data_dir)
    return _Plan(host, port, crawl, service, data_dir, args.data_update_daily and crawl is not None, store)


class _Attribution:
    """The resolver the next crawl uses; the daily data update swaps in a rebuilt one."""

    def __init__(self, args: argparse.Namespace, data_dir: Path) -> None:
        self._offline, self._overlays, self._data_dir = args.offline, list(args.ranges), data_dir
        self.rpc_urls: list[str] = list(args.rpc)  # the user's own nodes, sampled after each crawl
        self.resolver: Resolver | None = None

    def load(self) -> Resolver:
        return load_default_resolver(offline=self._offline, overlays=self._overlays, data_dir=self._data_dir)

    async def refresh(self) -> None:
        self.resolver = await asyncio.to_thread(self.load)

    async def update_data(self) -> None:
        try:
            results = await update_datasets(DatasetStore(self._data_dir))
        except Exception:  # a scheduled job must not end the service; the previous datasets stay in use
            log.exception("data update failed")
            return
        for result in results:
            log.info("data update: %s", result.message)
        await self.refresh()


@dataclass(frozen=True, slots=True)
class _Analysis:
    claims: ClaimSet | None
    simulated: bool
    bootstrap: int
    seed: int


def cmd_serve(args: argparse.Namespace) -> int:
    plan = _plan(args)
    claims = load_claims(args.claims)
    attribution = _Attribution(args, plan.data_dir)
    asyncio.run(_serve(plan, attribution, _Analysis(claims, args.simulated, args.bootstrap, args.seed)))
    return 0


def _scheduler(service: ExporterService, attribution: _Attribution, plan: _Plan) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
    scheduler.add_job(
        service.run_once,
        IntervalTrigger(seconds=plan.service.interval, timezone=UTC),
        id="crawl",
        next_run_time=datetime.now(UTC),  # first crawl at start
        max_instances=1,  # never two crawls at once: a late crawl makes the next start skip, not pile up
        coalesce=True,
        misfire_grace_time=None,  # a busy loop must delay the crawl, never drop it
    )
    if plan.data_update_daily:
        scheduler.add_job(
            attribution.update_data,
            IntervalTrigger(days=1, timezone=UTC),
            id="data-update",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


def _crawl_source(plan: _Plan, attribution: _Attribution, config: _Analysis) -> SnapshotSource:
    crawl = plan.crawl
    assert crawl is not None

    async def source() -> Snapshot:
        assert attribution.resolver is not None
        snapshot = await take_snapshot(
            crawl, attribution.resolver, simulated=config.simulated, rpc_urls=attribution.rpc_urls
        )
        return dataclasses.replace(snapshot, meta=dataclasses.replace(snapshot.meta, vantage=plan.service.vantage))

    return source


async def _serve(plan: _Plan, attribution: _Attribution, config: _Analysis) -> None:
    store = await open_store(plan.store)
    if plan.crawl is not None:
        await attribution.refresh()
        source = _crawl_source(plan, attribution, config)
    else:
        source = combined_source(store, plan.service.vantage_window)
    analyser = child_analyser(config.claims, config.bootstrap, config.seed)
    service = ExporterService(store, source, plan.service, analyser)
    runner = web.AppRunner(build_app(service), handle_signals=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler: AsyncIOScheduler | None = None
    try:
        await service.restore()
        await runner.setup()
        await web.TCPSite(runner, plan.host, plan.port).start()
        log.warning(
            "serving on http://%s:%d (role %s, vantage %s, history in %s)",
            plan.host, plan.port, plan.service.role, plan.service.vantage, store.location,
        )  # fmt: skip
        scheduler = _scheduler(service, attribution, plan)
        scheduler.start()
        await stop.wait()
        log.warning("shutting down")
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        await service.cancel_running()
        await runner.cleanup()
        await store.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(RuntimeError):
                loop.remove_signal_handler(sig)
