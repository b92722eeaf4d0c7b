"""Run a discv4 crawl end to end: socket, service, driver, engine -> node records and crawl metadata."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor import __version__
from monitor.crawl.discv4 import Discv4Driver, Visit, WalkConfig
from monitor.crawl.engine import CrawlEngine, EngineConfig, EngineProgress, EngineResult
from monitor.crawl.rlpx_stage import RlpxSettings, RlpxStage
from monitor.discovery.enode import Enode
from monitor.discovery.network import classify_network, mainnet_filter
from monitor.discovery.v4.service import Discv4Service, Peer, ServiceConfig
from monitor.errors import ConfigError, CrawlError
from monitor.p2p.keys import NodeID, PrivateKey
from monitor.p2p.netpolicy import NetRestrict, admissible
from monitor.p2p.udp import UDPTransport
from monitor.rlpx.dialer import DialResult
from monitor.rlpx.eth import status_verdict
from monitor.snapshot import CrawlMeta, ForkIdInfo, NodeRecord

__all__ = ["CrawlSettings", "CrawlOutcome", "run_crawl", "build_records"]

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
    nodes = build_records(result, clock(), dials)
    meta = _meta(settings, result, driver, service.stats, nodes)
    if stage is not None:
        meta = dataclasses.replace(meta, counters={**meta.counters, **stage.counters()})
    return CrawlOutcome(nodes, meta, result, service.stats)


def build_records(
    result: EngineResult[Peer, Visit], now: float, dials: Mapping[NodeID, DialResult] | None = None
) -> list[NodeRecord]:
    filt = mainnet_filter(now)
    dials = dials or {}
    records = []
    for key, peer in result.tasks.items():
        visit = result.results.get(key)
        enr = visit.enr if visit is not None else None
        dialled = dials.get(peer.id)
        verdict, reason = classify_network(enr, filt)
        if dialled is not None and dialled.status is not None:
            verdict, reason = status_verdict(dialled.status, filt)  # the peer's own word over RLPx beats its ENR
        elif visit is None:
            reason = "crawl deadline reached before its visit completed"
        elif not visit.answered_ping:
            reason = f"no answer to PING ({visit.failure})"
        fork = enr.eth_fork_id if enr is not None else None
        first_seen = result.first_seen.get(key, now)
        records.append(
            NodeRecord(
                node_id=peer.id.hex(),
                pubkey=peer.pubkey.hex(),
                ip=peer.ip,
                udp_port=peer.udp,
                tcp_port=peer.tcp or None,
                advertised_ip=str(enr.ip or enr.ip6) if enr is not None and (enr.ip or enr.ip6) else None,
                enr=enr.to_text() if enr is not None else None,
                enr_seq=enr.seq if enr is not None else (visit.pong_enr_seq if visit else None),
                enr_fields=enr.fields_text() if enr is not None else {},
                fork_id=ForkIdInfo(fork.hash.hex(), fork.next) if fork is not None else None,
                first_seen=first_seen,
                last_seen=visit.ended if visit is not None and visit.answered_ping else first_seen,
                answered_ping=bool(visit and visit.answered_ping),
                bonded=bool(visit and visit.answered_ping and visit.pinged_us),
                answered_findnode=bool(visit and visit.findnode_answered),
                neighbors_returned=len(visit.seen) if visit is not None else 0,
                network=verdict,
                network_reason=reason,
                client=dialled.client if dialled is not None else None,
                rlpx=dialled.kind if dialled is not None else None,
            )
        )
    return records


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
