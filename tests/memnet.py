"""An in-memory datagram network for protocol tests: no sockets, no sleeping for delivery.

Each endpoint gets a fake address; ``send`` hands the bytes to the destination's handler on the next loop
iteration (like a real socket would), through an optional filter that can drop or record datagrams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.discovery.v4.service import Discv4Service, Peer, ServiceConfig
from monitor.errors import NetrestrictError
from monitor.p2p.keys import PrivateKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.p2p.udp import Address, DatagramHandler


@dataclass
class MemNet:
    handlers: dict[Address, DatagramHandler] = field(default_factory=dict)
    log: list[tuple[Address, Address, bytes]] = field(default_factory=list)  # (src, dst, data)
    drop: Callable[[Address, Address, bytes], bool] = lambda _s, _d, _b: False

    def endpoint(self, addr: Address, handler: DatagramHandler, netrestrict: str | None = None) -> MemSender:
        self.handlers[addr] = handler
        return MemSender(self, addr, NetRestrict.parse(netrestrict))

    def deliver(self, src: Address, dst: Address, data: bytes) -> None:
        self.log.append((src, dst, data))
        if self.drop(src, dst, data):
            return
        handler = self.handlers.get(dst)
        if handler is not None:
            asyncio.get_running_loop().call_soon(handler.datagram_received, data, src)


@dataclass
class MemSender:
    net: MemNet
    addr: Address
    netrestrict: NetRestrict
    refused: int = 0

    def send(self, data: bytes, addr: Address) -> None:
        if not self.netrestrict.allows(addr[0]):
            self.refused += 1
            raise NetrestrictError(f"refused {addr[0]}")
        self.net.deliver(self.addr, addr, data)


class Clock:
    """A settable clock for expirations and bond ages."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_service(
    net: MemNet,
    seed: str,
    addr: Address,
    clock: Clock,
    config: ServiceConfig | None = None,
    **kwargs: object,
) -> Discv4Service:
    key = PrivateKey.from_seed(seed.encode())
    svc = Discv4Service(key, addr[1], config or ServiceConfig(timeout=0.2, retries=0, bond_wait=0.05), clock, **kwargs)  # type: ignore[arg-type]
    svc.attach(net.endpoint(addr, svc), addr)
    return svc


def peer_of(svc: Discv4Service) -> Peer:
    ip, port = svc.local_address
    return Peer(svc.key.pubkey, ip, port, svc.tcp_port)
