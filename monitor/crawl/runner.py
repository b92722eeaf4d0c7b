"""Run a discv4 crawl end to end: socket, service, driver, engine -> node records and crawl metadata."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor import __version__
from monitor.crawl.discv4 import Discv4Driver, Visit, WalkConfig
from monitor.crawl.engine import CrawlEngine, EngineConfig, EngineProgress, EngineResult
from monitor.crawl.records import discv4_records
from monitor.crawl.rlpx_stage import RlpxSettings, RlpxStage
from monitor.discovery.enode import Enode
from monitor.discovery.v4.service import Discv4Service, Peer, ServiceConfig
from monitor.errors import ConfigError, CrawlError
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict, admissible
from monitor.p2p.udp import UDPTransport
from monitor.snapshot import CrawlMeta, NodeRecord

__all__ = ["CrawlSettings", "CrawlOutcome", "run_crawl"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlSettings:
    bootnodes: Sequence[Enode]
    network: str = "mainnet"
    netrestrict: str | None = None
    listen_host: str | None = None  # default: 127.0.0.1 when netrestrict is loopback-only, else 0.0.0.0
    listen_port: int = 0
    duration: float | None = 600.0
    concurrency: int = 256
    timeout: float = 1.0
    retries: int = 1
    bond_wait: float = 0.5
    walk: WalkConfig = field(default_factory=WalkConfig)
    rlpx: RlpxSettings = field(default_factory=RlpxSettings)
    key: PrivateKey | None = None

    def validate(self) -> None:
        if not self.bootnodes:
            raise ConfigError("no bootnodes given")
        if self.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if self.timeout <= 0:
            raise ConfigError("--timeout must be positive")
        if self.duration is not None and self.duration <= 0:
            raise ConfigError("--duration must be positive")
        if self.rlpx.concurrency < 1 or self.rlpx.timeout <= 0:
            raise ConfigError("--rlpx-concurrency must be at least 1 and --rlpx-timeout positive")
        NetRestrict.parse(self.netrestrict)

    def public_dict(self) -> dict[str, Any]:
        return {
            "bootnodes": len(self.bootnodes),
            "netrestrict": self.netrestrict,
            "duration": self.duration,
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "retries": self.retries,
            "bond_wait": self.bond_wait,
            "stale_limit": self.walk.stale_limit,
            "timeout_limit": self.walk.timeout_limit,
            "rlpx": self.rlpx.enabled,
            "rlpx_concurrency": self.rlpx.concurrency,
            "rlpx_timeout": self.rlpx.timeout,
        }


@dataclass(repr=False)
class CrawlOutcome:
    nodes: list[NodeRecord]
    meta: CrawlMeta
    engine: EngineResult[Peer, Visit]
    packets: Counter[str]

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
    settings.validate()
    netrestrict = NetRestrict.parse(settings.netrestrict)
    key = settings.key or PrivateKey.generate()
    service = Discv4Service(
        key,
        config=ServiceConfig(timeout=settings.timeout, retries=settings.retries, bond_wait=settings.bond_wait),
        now=clock,
    )
    host = _listen_host(settings, netrestrict)
    transport = await UDPTransport.open(service, host, settings.listen_port, netrestrict, service.stats)
    service.attach(transport, transport.local_address)
    ip_versions = frozenset({6}) if ":" in host else frozenset({4})
    driver = Discv4Driver(service, netrestrict, settings.walk, clock, ip_versions)
    engine: CrawlEngine[Peer, Visit] = CrawlEngine(
        driver, EngineConfig(concurrency=settings.concurrency, duration=settings.duration), on_progress=on_progress
    )

    def on_ping(peer: Peer) -> None:
        task = driver.pinged(peer)
        if task is not None and engine.running:
            engine.submit(task)

    service.on_ping = on_ping
    stage = RlpxStage(key, netrestrict, settings.rlpx) if settings.rlpx.enabled else None
    if stage is not None:
        driver.on_answered = stage.submit
    seeds = []
    for boot in settings.bootnodes:
        reason = admissible(boot.ip, boot.udp_port, netrestrict)
        if reason is None and boot.ip.version not in ip_versions:
            reason = f"ipv{boot.ip.version}_no_socket"
        if reason is not None:
            driver.filtered[f"bootnode_{reason}"] += 1
            continue
        seeds.append(Peer(boot.pubkey, str(boot.ip), boot.udp_port, boot.tcp_port))
    if not seeds:
        transport.close()
        raise CrawlError(f"no usable bootnode: all {len(settings.bootnodes)} are outside --netrestrict {netrestrict}")
    try:
        result = await engine.run(seeds)
        if stage is not None:
            await stage.finish(grace=settings.rlpx.timeout + 1.0)
    finally:
        await service.close()
        transport.close()
    answered = [v for v in result.results.values() if v.answered_ping]
    if not answered:
        raise CrawlError(
            f"no bootnode answered: {len(seeds)} tried with {1 + settings.retries} PINGs each "
            f"({settings.timeout:g}s timeout); check the network connection or --bootnodes"
        )
    dials = stage.results if stage is not None else {}
    nodes = discv4_records(result, clock(), dials)
    meta = _meta(settings, result, driver, service.stats, nodes)
    if stage is not None:
        meta = dataclasses.replace(meta, counters={**meta.counters, **stage.counters()})
    return CrawlOutcome(nodes, meta, result, service.stats)


def _meta(
    settings: CrawlSettings,
    result: EngineResult[Peer, Visit],
    driver: Discv4Driver,
    packets: Counter[str],
    nodes: list[NodeRecord],
) -> CrawlMeta:
    visits = list(result.results.values())
    counters: dict[str, int] = {
        "discovered": len(result.tasks),
        "contacted": len(visits),
        "not_contacted_deadline": len(result.tasks) - len(visits),
        "answered_ping": sum(v.answered_ping for v in visits),
        "answered_findnode": sum(v.findnode_answered > 0 for v in visits),
        "enr_fetched": sum(v.enr is not None for v in visits),
        "findnode_sent": sum(v.findnode_sent for v in visits),
        "revisits": result.revisits,
        "deadline_hit": int(result.deadline_hit),
    }
    for verdict in ("mainnet", "other", "unknown"):
        counters[f"network_{verdict}"] = sum(n.network == verdict for n in nodes)
    counters.update({f"packets_{k.replace(':', '_')}": v for k, v in sorted(packets.items())})
    counters.update({f"error_{k}": v for k, v in sorted(driver.errors.items())})
    return CrawlMeta(
        id=str(uuid.uuid4()),
        network=settings.network,
        started_at=result.started_at,
        ended_at=result.ended_at,
        tool_version=__version__,
        settings=settings.public_dict(),
        counters=counters,
        filtered=dict(driver.filtered),
    )
