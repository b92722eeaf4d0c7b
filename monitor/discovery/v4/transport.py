"""The only module that touches a socket: one asyncio UDP endpoint with the ``--netrestrict`` guard.

Everything above depends on the two small protocols below, so tests can swap in an in-memory pipe.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol, TypeAlias, cast

from monitor.errors import NetrestrictError, NetworkError

__all__ = ["Address", "IPNetwork", "Sender", "DatagramHandler", "NetRestrict", "UDPTransport", "RCVBUF_BYTES"]

log = logging.getLogger(__name__)

Address: TypeAlias = tuple[str, int]
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

# Bursts of NEIGHBORS from hundreds of concurrent FINDNODEs overflow Linux's default ~208 KiB receive buffer.
RCVBUF_BYTES = 4 * 1024 * 1024


class Sender(Protocol):
    def send(self, data: bytes, addr: Address) -> None:
        """Send one datagram; raise NetrestrictError if ``addr`` is outside the allowed networks."""


class DatagramHandler(Protocol):
    def datagram_received(self, data: bytes, addr: Address) -> None: ...


class NetRestrict:
    """The set of networks we may send to (``None``: anywhere)."""

    def __init__(self, networks: Sequence[IPNetwork] | None) -> None:
        self.networks = tuple(networks) if networks is not None else None

    @classmethod
    def parse(cls, text: str | None) -> NetRestrict:
        if not text:
            return cls(None)
        try:
            return cls([ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()])
        except ValueError as err:
            from monitor.errors import ConfigError

            raise ConfigError(f"--netrestrict: {err}") from err

    def allows(self, ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if self.networks is None:
            return True
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self.networks)

    def __str__(self) -> str:
        return ",".join(map(str, self.networks)) if self.networks is not None else "any"


class UDPTransport(asyncio.DatagramProtocol):
    """One UDP socket. Incoming datagrams go to ``handler``; outgoing ones pass the netrestrict guard first."""

    def __init__(self, handler: DatagramHandler, netrestrict: NetRestrict, counters: Counter[str]) -> None:
        self._handler = handler
        self._netrestrict = netrestrict
        self._counters = counters
        self._transport: asyncio.DatagramTransport | None = None
        self.closed = asyncio.Event()

    @classmethod
    async def open(
        cls,
        handler: DatagramHandler,
        host: str,
        port: int,
        netrestrict: NetRestrict,
        counters: Counter[str] | None = None,
    ) -> UDPTransport:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, RCVBUF_BYTES)
            sock.bind((host, port))
            sock.setblocking(False)
        except OSError as err:
            sock.close()
            raise NetworkError(f"cannot bind UDP {host}:{port}: {err.strerror or err}") from err
        shared = counters if counters is not None else Counter()
        _, protocol = await loop.create_datagram_endpoint(lambda: cls(handler, netrestrict, shared), sock=sock)
        return protocol

    # asyncio.DatagramProtocol ------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._counters["datagrams_in"] += 1
        try:
            self._handler.datagram_received(data, (str(addr[0]), int(addr[1])))
        except Exception:  # a bug in a handler must never stop the socket (STYLE rule 5); it is counted and logged
            self._counters["err:handler"] += 1
            log.exception("datagram handler failed")

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends: the request that caused it simply times out.
        self._counters["err:socket"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    # Sender ------------------------------------------------------------------------------------------------------

    def send(self, data: bytes, addr: Address) -> None:
        if not self._netrestrict.allows(addr[0]):
            self._counters["err:netrestrict"] += 1
            raise NetrestrictError(f"refused to send to {addr[0]}: outside --netrestrict {self._netrestrict}")
        if self._transport is None or self._transport.is_closing():
            raise NetworkError("transport is closed")
        self._counters["datagrams_out"] += 1
        self._transport.sendto(data, addr)

    @property
    def local_address(self) -> Address:
        if self._transport is None:
            raise NetworkError("transport is not open")
        sockname = self._transport.get_extra_info("sockname")
        return str(sockname[0]), int(sockname[1])

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
