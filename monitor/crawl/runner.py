"""Run a crawl end to end: one part per discovery protocol (socket, service, driver, engine), the RLPx stage beside
them, then one merged list of node records and the crawl's metadata."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.crawl import discv4, discv5
from monitor.crawl.budget import Limits
from monitor.crawl.engine import EngineProgress, EngineResult
from monitor.crawl.merge import merge_protocols
from monitor.crawl.output import Journal
from monitor.crawl.protocols import PROTOCOLS, ProgressSum, ProtocolPart, Timing, open_discv4, open_discv5
from monitor.crawl.records import discv4_records, discv5_records
from monitor.crawl.rlpx_stage import RlpxSettings, RlpxStage
from monitor.crawl.summary import crawl_meta
from monitor.discovery.enode import Enode
from monitor.discovery.v4.service import Peer as Peer4
from monitor.discovery.v5.service import Peer as Peer5
from monitor.errors import ConfigError, CrawlError
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.snapshot import CrawlMeta, NodeRecord

__all__ = ["CrawlSettings", "CrawlOutcome", "run_crawl", "finish_reserve"]

log = logging.getLogger(__name__)

MAX_RETRIES = 10  # more attempts only multiply a dead node's cost; 1e9 retries would never end a visit


def finish_reserve(duration: float | None) -> float:
    """Seconds of ``--duration`` kept back from the walk for the RLPx grace and writing the output.

    ``--duration`` is the whole command's budget, not the walk's: a Sybil-sized table took 17 s to write (issue 16).
    """
    if duration is None:
        return 0.0
    return min(0.1 * duration, 15.0)


@dataclass(frozen=True)
class CrawlSettings:
    bootnodes: Sequence[Enode]
    network: str = "mainnet"
    discovery: tuple[str, ...] = ("discv4",)  # protocols crawled at once: "discv4", "discv5"
    bootnodes_v5: Sequence[Enode] | None = None  # None: discv5 starts from ``bootnodes`` too
    netrestrict: str | None = None
    listen_host: str | None = None  # default: 127.0.0.1 when netrestrict is loopback-only, else 0.0.0.0
    listen_port: int = 0
    duration: float | None = 600.0
    concurrency: int = 256
    timeout: float = 1.0
    retries: int = 1
    bond_wait: float = 0.0  # no fixed wait for a peer's PING: requests a peer dropped are re-sent after it
    min_timeout: float | None = 0.2  # timeouts adapt to each peer's round trip, between this and ``timeout``
    send_rate: float | None = 5000.0  # requests per second per protocol, whole crawl (None: unlimited)
    walk: discv4.WalkConfig = field(default_factory=discv4.WalkConfig)
    walk_v5: discv5.WalkConfig = field(default_factory=discv5.WalkConfig)
    rlpx: RlpxSettings = field(default_factory=RlpxSettings)
    key: PrivateKey | None = None
    # Memory budget (issue 16): a crawl's end peaks at ~115 MB per 100k nodes over its start (bench/memory.py; the
    # tables alone ~530 B a node). Mainnet discv4 lists some 20-60k nodes: 100k a protocol leaves room for growth.
    max_nodes: int | None = 100_000
    limits: Limits = field(default_factory=Limits)
    journal: Path | None = None  # JSON lines of each visit as the crawl goes (monitor/crawl/output.py Journal)

    def validate(self) -> None:
        if not self.bootnodes and not self.bootnodes_v5:
            raise ConfigError("no bootnodes given")
        for name, value in (("--timeout", self.timeout), ("--duration", self.duration or 1.0),
                            ("--rlpx-timeout", self.rlpx.timeout), ("bond_wait", self.bond_wait)):  # fmt: skip
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, got {value}")
        if not 0 <= self.retries <= MAX_RETRIES:
            raise ConfigError(f"--retries must be between 0 and {MAX_RETRIES}, got {self.retries}")
        if self.max_nodes is not None and self.max_nodes < 1:
            raise ConfigError("--max-nodes must be at least 1")
        if not 0 <= self.listen_port <= 65535:
            raise ConfigError(f"--listen: port must be between 0 and 65535, got {self.listen_port}")
        if not self.discovery or any(p not in PROTOCOLS for p in self.discovery):
            raise ConfigError(f"--discovery: protocols must be among {', '.join(PROTOCOLS)}")
        if self.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if self.timeout <= 0:
            raise ConfigError("--timeout must be positive")
        if (self.min_timeout is not None and self.min_timeout <= 0) or (
            self.send_rate is not None and self.send_rate <= 0
        ):
            raise ConfigError("the minimum timeout and the send rate must be positive")
        if self.duration is not None and self.duration <= 0:
            raise ConfigError("--duration must be positive")
        if self.rlpx.concurrency < 1 or self.rlpx.timeout <= 0:
            raise ConfigError("--rlpx-concurrency must be at least 1 and --rlpx-timeout positive")
        NetRestrict.parse(self.netrestrict)

    def public_dict(self) -> dict[str, Any]:
        return {
            "discovery": list(self.discovery),
            "bootnodes": len(self.bootnodes),
            "bootnodes_v5": len(self.bootnodes_v5 if self.bootnodes_v5 is not None else self.bootnodes)
            if "discv5" in self.discovery
            else None,
            "netrestrict": self.netrestrict,
            "duration": self.duration,
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "retries": self.retries,
            "bond_wait": self.bond_wait,
            "min_timeout": self.min_timeout,
            "send_rate": self.send_rate,
            "stale_limit": self.walk.stale_limit,
            "timeout_limit": self.walk.timeout_limit,
            "rlpx": self.rlpx.enabled,
            "rlpx_concurrency": self.rlpx.concurrency,
            "rlpx_timeout": self.rlpx.timeout,
            "max_nodes": self.max_nodes,
            "max_per_ip": self.limits.per_ip if self.limits.enabled else None,
            "max_per_referrer": self.limits.per_referrer if self.limits.enabled else None,
        }


@dataclass(repr=False)
class CrawlOutcome:
    nodes: list[NodeRecord]
    meta: CrawlMeta
    engines: dict[str, EngineResult[Any, Any]] = field(default_factory=dict)  # each protocol's visits (benchmarks)

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run() reprs its main task's result while restoring the SIGINT handler
        # (CPython 3.11 signal/enum quirk), and the full dataclass repr of a crawl is hundreds of MB.
        return f"CrawlOutcome({len(self.nodes)} nodes, crawl {self.meta.id})"


def _listen_host(settings: CrawlSettings, netrestrict: NetRestrict) -> str:
    if settings.listen_host:
        return settings.listen_host
    loopback = ipaddress.IPv4Network("127.0.0.0/8")
    nets = netrestrict.networks
    if nets and all(isinstance(net, ipaddress.IPv4Network) and net.subnet_of(loopback) for net in nets):
        return "127.0.0.1"
    return "0.0.0.0"


async def run_crawl(
    settings: CrawlSettings,
    on_progress: Callable[[EngineProgress], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> CrawlOutcome:
    """Crawl every protocol in ``settings.discovery`` at once, under one deadline, and merge what they found."""
    settings.validate()
    netrestrict = NetRestrict.parse(settings.netrestrict)
    key = settings.key or PrivateKey.generate()
    host = _listen_host(settings, netrestrict)
    reserve = finish_reserve(settings.duration)
    walk_for = settings.duration - reserve if settings.duration is not None else None
    timing = Timing(
        concurrency=settings.concurrency, duration=walk_for, timeout=settings.timeout, retries=settings.retries,
        bond_wait=settings.bond_wait, max_nodes=settings.max_nodes, min_timeout=settings.min_timeout,
        send_rate=settings.send_rate,
    )  # fmt: skip
    progress = ProgressSum(on_progress, len(settings.discovery))
    stage = RlpxStage(key, netrestrict, settings.rlpx) if settings.rlpx.enabled else None
    v4: ProtocolPart[Peer4, discv4.Visit] | None = None
    v5: ProtocolPart[Peer5, discv5.Visit] | None = None
    journal = Journal(settings.journal) if settings.journal is not None else None
    try:
        if "discv4" in settings.discovery:
            v4 = await open_discv4(key, settings.bootnodes, host, settings.listen_port, netrestrict, timing,
                                   settings.walk, clock, progress.part(), stage, settings.limits)  # fmt: skip
        if "discv5" in settings.discovery:
            port5 = settings.listen_port + 1 if settings.listen_port else 0
            boot5 = settings.bootnodes if settings.bootnodes_v5 is None else settings.bootnodes_v5
            v5 = await open_discv5(key, boot5, host, port5, netrestrict, timing, settings.walk_v5, clock,
                                   progress.part(), stage, settings.limits)  # fmt: skip
        parts: list[ProtocolPart[Any, Any]] = [p for p in (v4, v5) if p is not None]
        if journal is not None:
            for each in parts:
                each.engine.on_result = journal.writer(each.name)
        if not any(p.seeds for p in parts):
            raise CrawlError(f"no usable bootnode: every one is outside --netrestrict {netrestrict}")
        await asyncio.gather(*(p.run() for p in parts))
        if stage is not None:
            grace = (
                settings.rlpx.timeout + 1.0
                if settings.duration is None
                else min(settings.rlpx.timeout + 1.0, reserve / 2)
            )
            await stage.finish(grace=grace)
    finally:
        for part in (v4, v5):
            if part is not None:
                await part.close()
        if journal is not None:
            journal.close()
    tried = sum(len(p.seeds) for p in parts)
    if not any(v.answered_ping for p in parts if p.result is not None for v in p.result.results.values()):
        raise CrawlError(
            f"no bootnode answered: {tried} tried with {1 + settings.retries} PINGs each "
            f"({settings.timeout:g}s timeout); check the network connection or --bootnodes"
        )
    now = clock()
    dials = stage.results if stage is not None else {}
    found = [discv4_records(v4.result, now, dials)] if v4 is not None and v4.result is not None else []
    if v5 is not None and v5.result is not None:
        found.append(discv5_records(v5.result, now, dials))
    nodes = merge_protocols(found)
    meta = crawl_meta(settings, parts, nodes)
    if stage is not None:
        meta = dataclasses.replace(meta, counters={**meta.counters, **stage.counters()})
    return CrawlOutcome(nodes, meta, {p.name: p.result for p in parts if p.result is not None})
