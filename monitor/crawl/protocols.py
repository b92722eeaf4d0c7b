"""One discovery protocol's part of a crawl: its socket, service, driver and engine, opened and closed together.

A crawl runs one part per protocol (``--discovery v4|v5|both``), each on its own UDP socket, concurrently and under
one deadline. One socket each rather than one shared: geth shares a port by telling the packet formats apart, but a
crawler gains nothing from that and would lose the per-protocol receive buffer, counters and rate accounting; it
costs one more local port (the discv5 socket binds the discv4 port + 1 when a port is given).
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from monitor.crawl import discv4, discv5
from monitor.crawl.budget import DEFAULT_LIMITS, Limits, Vouching
from monitor.crawl.driverbase import DriverBase
from monitor.crawl.engine import CrawlEngine, EngineConfig, EngineProgress, EngineResult
from monitor.crawl.rlpx_stage import RlpxStage
from monitor.discovery.enode import Enode
from monitor.discovery.v4.service import Discv4Service
from monitor.discovery.v4.service import Peer as Peer4
from monitor.discovery.v4.service import ServiceConfig as Service4Config
from monitor.discovery.v5.service import Discv5Service
from monitor.discovery.v5.service import Peer as Peer5
from monitor.discovery.v5.service import ServiceConfig as Service5Config
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.pacing import Pacer
from monitor.p2p.udp import UDPTransport

__all__ = ["ProtocolPart", "ProgressSum", "Timing", "open_discv4", "open_discv5", "PROTOCOLS"]

PROTOCOLS = ("discv4", "discv5")
T = TypeVar("T")
R = TypeVar("R")
PeerT = TypeVar("PeerT", Peer4, Peer5)


@dataclass(frozen=True)
class Timing:
    concurrency: int
    duration: float | None
    timeout: float
    retries: int
    bond_wait: float = 0.0
    max_nodes: int | None = None  # per protocol: the node table and frontier cap (engine ``max_tasks``)
    min_timeout: float | None = 0.2  # adaptive timeouts (None: fixed)
    send_rate: float | None = None  # requests per second, per protocol (None: unlimited)


@dataclass(repr=False)
class ProtocolPart(Generic[T, R]):
    """A protocol ready to crawl: ``run()`` walks from the seeds, ``close()`` releases the socket."""

    name: str
    engine: CrawlEngine[T, R]
    seeds: list[T]
    stats: Counter[str]  # packets and errors of the service and its socket
    filtered: Counter[str]  # reason -> distinct nodes not contacted
    errors: Counter[str]  # failure kind -> visits
    transport: UDPTransport
    service: Any
    result: EngineResult[T, R] | None = field(default=None)
    vouching: Vouching | None = None  # the driver's per-IP / per-referrer limits, for their counters
    pacer: Pacer | None = None  # adapted to the event loop's lag while the engine runs

    async def run(self) -> EngineResult[T, R]:
        governor = asyncio.create_task(self.pacer.govern()) if self.pacer is not None else None
        try:
            self.result = await self.engine.run(self.seeds)
        finally:
            if governor is not None:
                governor.cancel()
                await asyncio.gather(governor, return_exceptions=True)
        return self.result

    async def close(self) -> None:
        await self.service.close()
        self.transport.close()


class ProgressSum:
    """One progress report for several engines running at once: the sum of each one's latest report."""

    def __init__(self, sink: Callable[[EngineProgress], None] | None, parts: int) -> None:
        self._sink = sink
        self._latest: list[EngineProgress | None] = [None] * parts
        self._next = 0

    def part(self) -> Callable[[EngineProgress], None] | None:
        if self._sink is None:
            return None
        index = self._next
        self._next += 1

        def report(progress: EngineProgress) -> None:
            self._latest[index] = progress
            known = [p for p in self._latest if p is not None]
            if self._sink is not None:
                self._sink(
                    EngineProgress(
                        found=sum(p.found for p in known),
                        visited=sum(p.visited for p in known),
                        answered=sum(p.answered for p in known),
                        in_flight=sum(p.in_flight for p in known),
                        queued=sum(p.queued for p in known),
                        elapsed=max(p.elapsed for p in known),
                    )
                )

        return report


def _pacer(timing: Timing) -> Pacer | None:
    return Pacer(timing.send_rate) if timing.send_rate is not None else None


def _ip_versions(host: str) -> frozenset[int]:
    return frozenset({6}) if ":" in host else frozenset({4})


async def _socket(service: Any, host: str, port: int, netrestrict: NetRestrict) -> UDPTransport:
    """The protocol's own UDP socket, attached to its service (refusals counted in the service's stats)."""
    transport = await UDPTransport.open(service, host, port, netrestrict, service.stats)
    service.attach(transport, transport.local_address)
    return transport


def _engine(driver: Any, timing: Timing, on_progress: Callable[[EngineProgress], None] | None) -> Any:
    config = EngineConfig(concurrency=timing.concurrency, duration=timing.duration, max_tasks=timing.max_nodes)
    return CrawlEngine(driver, config, on_progress=on_progress)


def _seeds(driver: DriverBase[Any, PeerT, Any, Any], candidates: Iterable[PeerT]) -> list[PeerT]:
    """The bootnodes we may contact; the others counted as ``bootnode_<reason>``."""
    seeds = []
    for peer in candidates:
        reason = driver.refusal(_ip_or_none(peer.ip), peer.udp)
        if reason is None:
            seeds.append(peer)
        else:
            driver.filtered[f"bootnode_{reason}"] += 1
    return seeds


def _assemble(
    name: str,
    engine: Any,
    seeds: list[PeerT],
    driver: DriverBase[Any, PeerT, Any, Any],
    transport: UDPTransport,
    pacer: Pacer | None,
) -> ProtocolPart[Any, Any]:
    service = driver.service
    part: ProtocolPart[Any, Any] = ProtocolPart(
        name, engine, seeds, service.stats, driver.filtered, driver.errors, transport, service, pacer=pacer
    )
    part.vouching = driver.vouching
    return part


async def open_discv4(
    key: PrivateKey,
    bootnodes: Sequence[Enode],
    host: str,
    port: int,
    netrestrict: NetRestrict,
    timing: Timing,
    walk: discv4.WalkConfig,
    clock: Callable[[], float] = time.time,
    on_progress: Callable[[EngineProgress], None] | None = None,
    rlpx: RlpxStage | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ProtocolPart[Peer4, discv4.Visit]:
    config = Service4Config(
        timeout=timing.timeout, retries=timing.retries, bond_wait=timing.bond_wait, min_timeout=timing.min_timeout
    )
    pacer = _pacer(timing)
    service = Discv4Service(key, config=config, now=clock, pacer=pacer)
    transport = await _socket(service, host, port, netrestrict)
    driver = discv4.Discv4Driver(service, netrestrict, walk, clock, _ip_versions(host), limits)
    engine: CrawlEngine[Peer4, discv4.Visit] = _engine(driver, timing, on_progress)

    def on_ping(peer: Peer4) -> None:
        task = driver.pinged(peer)
        if task is not None and engine.running:
            # A record only once the sender answered our own PING from the address it pinged us from (issue 16).
            service.verify_then(task, lambda: _submit_if_running(engine, task))

    service.on_ping = on_ping
    if rlpx is not None:
        driver.on_answered = lambda peer: rlpx.submit(peer.pubkey, peer.ip, peer.tcp)
    seeds = _seeds(driver, (Peer4(b.pubkey, str(b.ip), b.udp_port, b.tcp_port) for b in bootnodes))
    return _assemble("discv4", engine, seeds, driver, transport, pacer)


def _submit_if_running(engine: CrawlEngine[T, R], task: T) -> None:
    if engine.running:
        engine.submit(task)


def _dial_execution(rlpx: RlpxStage, peer: Peer5) -> None:
    """Execution clients run discv5 too: dial those whose record has an ``eth`` entry and a TCP port."""
    record = peer.enr
    if record is not None and record.get(b"eth") is not None:
        rlpx.submit(peer.pubkey, peer.ip, record.tcp)


async def open_discv5(
    key: PrivateKey,
    bootnodes: Sequence[Enode],
    host: str,
    port: int,
    netrestrict: NetRestrict,
    timing: Timing,
    walk: discv5.WalkConfig,
    clock: Callable[[], float] = time.time,
    on_progress: Callable[[EngineProgress], None] | None = None,
    rlpx: RlpxStage | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ProtocolPart[Peer5, discv5.Visit]:
    config = Service5Config(timeout=timing.timeout, retries=timing.retries, min_timeout=timing.min_timeout)
    pacer = _pacer(timing)
    service = Discv5Service(key, enr=None, config=config, now=clock, pacer=pacer)
    transport = await _socket(service, host, port, netrestrict)
    ip_versions = _ip_versions(host)
    driver = discv5.Discv5Driver(service, netrestrict, walk, clock, ip_versions, limits)
    engine: CrawlEngine[Peer5, discv5.Visit] = _engine(driver, timing, on_progress)

    def on_ping(peer: Peer5) -> None:
        task = driver.pinged(peer)
        if task is not None and engine.running:
            engine.submit(task)

    service.on_ping = on_ping
    if rlpx is not None:
        driver.on_answered = lambda peer: _dial_execution(rlpx, peer)
    seeds = _seeds(driver, (_v5_seed(boot, 6 in ip_versions) for boot in bootnodes))
    return _assemble("discv5", engine, seeds, driver, transport, pacer)


def _v5_seed(boot: Enode, ipv6: bool) -> Peer5:
    """A record gives the endpoint discv5 listens on (consensus clients: often not the discv4 port)."""
    peer = Peer5.from_enr(boot.enr, ipv6=ipv6) if boot.enr is not None else None
    if peer is None or not peer.ip:
        peer = Peer5(boot.pubkey, str(boot.ip), boot.udp_port, boot.enr)
    return peer


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
