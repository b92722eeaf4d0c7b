"""The only module that touches a socket: one asyncio UDP endpoint with the ``--netrestrict`` guard.

Everything above depends on the two small protocols below, so tests can swap in an in-memory pipe.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from typing import Protocol, TypeAlias

from monitor.errors import NetrestrictError, NetworkError
from monitor.p2p.netpolicy import NetRestrict

__all__ = ["Address", "Sender", "DatagramHandler", "UDPTransport", "RCVBUF_BYTES"]

log = logging.getLogger(__name__)

Address: TypeAlias = tuple[str, int]

# Bursts of NEIGHBORS from hundreds of concurrent FINDNODEs overflow Linux's default ~208 KiB receive buffer.
RCVBUF_BYTES = 4 * 1024 * 1024
MAX_DATAGRAM = 65535  # read whole datagrams; oversized ones are rejected by the codec, not truncated here


class Sender(Protocol):
    def send(self, data: bytes, addr: Address) -> None:
        """Send one datagram; raise NetrestrictError if ``addr`` is outside the allowed networks."""


class DatagramHandler(Protocol):
    def datagram_received(self, data: bytes, addr: Address) -> None: ...


class UDPTransport:
    """One UDP socket. Incoming datagrams go to ``handler``; outgoing ones pass the netrestrict guard first.

    The socket is read directly with ``loop.add_reader`` rather than through asyncio's datagram transport, which
    delivers one datagram per event-loop iteration: with hundreds of requests in flight, replies then queued in
    the kernel past their timeout (measured in bench/crawl.py: 2,696 PING timeouts on a loss-free loopback crawl
    of 2,000 nodes, 77 once the reader drains up to ``READ_BATCH`` datagrams per wake-up).
    """

    READ_BATCH = 64

    def __init__(
        self, handler: DatagramHandler, netrestrict: NetRestrict, counters: Counter[str], sock: socket.socket
    ) -> None:
        self._handler = handler
        self._netrestrict = netrestrict
        self._counters = counters
        self._sock: socket.socket | None = sock
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    async def open(
        cls,
        handler: DatagramHandler,
        host: str,
        port: int,
        netrestrict: NetRestrict,
        counters: Counter[str] | None = None,
    ) -> UDPTransport:
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
        return cls(handler, netrestrict, counters if counters is not None else Counter(), sock)

    def _readable(self) -> None:
        sock = self._sock
        for _ in range(self.READ_BATCH):
            if sock is None:
                return
            try:
                data, addr = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # ICMP port unreachable and friends surface here on Linux: the request simply times out.
                self._counters["err:socket"] += 1
                continue
            self._counters["datagrams_in"] += 1
            try:
                self._handler.datagram_received(data, (str(addr[0]), int(addr[1])))
            except Exception:  # a handler bug must never stop the socket (docs/ARCHITECTURE.md): counted and logged
                self._counters["err:handler"] += 1
                log.exception("datagram handler failed")

    # Sender ------------------------------------------------------------------------------------------------------

    def send(self, data: bytes, addr: Address) -> None:
        if not self._netrestrict.allows(addr[0]):
            self._counters["err:netrestrict"] += 1
            raise NetrestrictError(f"refused to send to {addr[0]}: outside --netrestrict {self._netrestrict}")
        if self._sock is None:
            raise NetworkError("transport is closed")
        try:
            self._sock.sendto(data, addr)
        except BlockingIOError:
            self._counters["err:send_buffer_full"] += 1  # dropped like a lost packet: the request retries
            return
        except OSError:
            self._counters["err:socket"] += 1  # unreachable network and the like: the request times out
            return
        self._counters["datagrams_out"] += 1

    @property
    def local_address(self) -> Address:
        if self._sock is None:
            raise NetworkError("transport is closed")
        sockname = self._sock.getsockname()
        return str(sockname[0]), int(sockname[1])

    def close(self) -> None:
        if self._sock is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
