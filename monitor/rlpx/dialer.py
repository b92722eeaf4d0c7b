"""The only RLPx module that touches sockets: dial one peer, read its Hello and Status, disconnect politely.

One dial costs at most ``timeout`` seconds whatever the peer does (refuses, resets, sends garbage, never answers,
or stalls after its Hello) and ends in exactly one :data:`DialKind` from a fixed set, usable as a metric label.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, get_args

from monitor import __version__
from monitor.errors import DecodeError
from monitor.p2p.keys import PrivateKey, PublicKey, decompress_pubkey
from monitor.p2p.netpolicy import NetRestrict
from monitor.rlpx.errors import FrameError, HandshakeError, MessageError, RLPxError
from monitor.rlpx.eth import ETH68, ETH69, Status
from monitor.rlpx.handshake import static_pubkey
from monitor.rlpx.messages import P2P_VERSION, Capability, Disconnect, DisconnectReason, Hello
from monitor.rlpx.session import DisconnectReceived, HelloReceived, Session, StatusReceived

__all__ = ["DialKind", "DIAL_KINDS", "DialTarget", "DialResult", "DEFAULT_CLIENT_ID", "our_hello", "dial", "dial_many"]

DialTarget: TypeAlias = tuple[PublicKey, str, int]  # (public key, IP literal, TCP port)

DialKind = Literal[
    "ok",  # Hello and Status read
    "no_eth",  # Hello read; no eth version in common, so no Status
    "no_status",  # Hello read; the peer closed or stalled before its Status
    "too_many_peers",  # Disconnect "too many peers" (with the Hello when it came first)
    "disconnected",  # any other Disconnect before the Status
    "refused",  # TCP connection refused
    "unreachable",  # no route to host / network unreachable
    "timeout",  # nothing useful within the timeout (no connect, no ack, or no Hello)
    "reset",  # connection reset by the peer
    "closed",  # the peer closed the connection before its Hello
    "garbage",  # the bytes in place of the ack are not an RLPx ack (do not decrypt or parse)
    "handshake_failed",  # the ack decrypted, but the frames or Hello that followed did not authenticate or decode
    "protocol_error",  # after the Hello: a malformed message (e.g. a Status that does not decode)
    "netrestrict",  # the address is outside --netrestrict; no packet was sent
    "error",  # any other socket error
]
DIAL_KINDS: Final[tuple[str, ...]] = get_args(DialKind)
DEFAULT_CLIENT_ID: Final = f"eth-hosting-monitor/v{__version__}/crawler"
_READ_SIZE: Final = 65536
_CLOSE_GRACE: Final = 0.5


@dataclass(frozen=True, slots=True)
class DialResult:
    pubkey: PublicKey
    ip: str
    tcp_port: int
    kind: DialKind
    hello: Hello | None = None
    status: Status | None = None
    disconnect: Disconnect | None = None
    duration: float = 0.0
    detail: str = ""  # for logs only, never a metric label

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def our_hello(
    key: PrivateKey,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    capabilities: tuple[Capability, ...] = (ETH68, ETH69),
    listen_port: int = 0,
) -> Hello:
    return Hello(P2P_VERSION, client_id, capabilities, listen_port, static_pubkey(key))


def _echo(status: Status, version: int) -> Status:
    # We mirror the peer's chain: a crawler has no chain, and a matching Status lets it keep talking until our
    # polite Disconnect instead of dropping us for a Status mismatch.
    return Status(
        version=version,
        network_id=status.network_id,
        genesis=status.genesis,
        fork_id=status.fork_id,
        head=status.head,
        total_difficulty=status.total_difficulty if status.total_difficulty is not None else 0,
        earliest_block=status.earliest_block or 0,
        latest_block=status.latest_block or 0,
    )


class _Dial:
    """State of one dial: what has been learnt so far decides the kind when it ends early."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.hello: Hello | None = None
        self.status: Status | None = None
        self.disconnect: Disconnect | None = None

    def ended_early(self) -> DialKind:
        """The kind for a connection that closed (or stalled) before we were done."""
        return "no_status" if self.hello is not None else "closed"

    async def run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> DialKind:
        writer.write(self.session.start())
        while True:
            data = await reader.read(_READ_SIZE)
            if not data:
                return self.ended_early()
            for event in self.session.receive_data(data):
                if isinstance(event, HelloReceived):
                    self.hello = event.hello
                    if self.session.eth is None:
                        self.session.send_disconnect(DisconnectReason.USELESS_PEER)
                        writer.write(self.session.data_to_send())
                        return "no_eth"
                elif isinstance(event, StatusReceived):
                    self.status = event.status
                    negotiated = self.session.eth
                    assert negotiated is not None
                    self.session.send_status(_echo(event.status, negotiated[0].version))
                    self.session.send_disconnect(DisconnectReason.DISCONNECT_REQUESTED)
                    writer.write(self.session.data_to_send())
                    return "ok"
                elif isinstance(event, DisconnectReceived):
                    self.disconnect = event.disconnect
                    too_many = event.disconnect.code == DisconnectReason.TOO_MANY_PEERS
                    return "too_many_peers" if too_many else "disconnected"
            writer.write(self.session.data_to_send())
            await writer.drain()


def _os_error_kind(err: OSError) -> DialKind:
    if isinstance(err, ConnectionRefusedError):
        return "refused"
    if isinstance(err, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "reset"
    if err.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    if err.errno == errno.ETIMEDOUT:
        return "timeout"
    return "error"


async def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.TimeoutError, RuntimeError):
        await asyncio.wait_for(writer.drain(), _CLOSE_GRACE)
    writer.close()
    with contextlib.suppress(OSError, asyncio.TimeoutError, RuntimeError):
        await asyncio.wait_for(writer.wait_closed(), _CLOSE_GRACE)


async def dial(
    pubkey: PublicKey,
    ip: str,
    tcp_port: int,
    key: PrivateKey,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 -- one budget per dial, the crawl engine's knob
    netrestrict: NetRestrict | None = None,
    hello: Hello | None = None,
) -> DialResult:
    """Dial ``ip:tcp_port`` expecting node ``pubkey``; never raises for anything the peer does.

    ``hello`` is the Hello we send (default: :func:`our_hello` of ``key``, offering eth/68 and eth/69).
    """
    started = time.monotonic()
    if netrestrict is not None and not netrestrict.allows(ip):
        return DialResult(pubkey, ip, tcp_port, "netrestrict", detail=f"{ip} outside {netrestrict}")
    try:
        decompress_pubkey(pubkey)  # a bad key from a record is our input's fault, not the peer's "garbage"
    except DecodeError as err:
        return DialResult(pubkey, ip, tcp_port, "error", detail=str(err))
    state = _Dial(Session.initiator(key, pubkey, hello if hello is not None else our_hello(key)))
    writer: asyncio.StreamWriter | None = None
    kind: DialKind
    detail = ""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(ip, tcp_port)
            kind = await state.run(reader, writer)
    except TimeoutError:
        kind = "no_status" if state.hello is not None else "timeout"
    except HandshakeError as err:
        kind, detail = "garbage", str(err)
    except (FrameError, MessageError, RLPxError) as err:
        kind, detail = ("protocol_error" if state.hello is not None else "handshake_failed"), str(err)
    except OSError as err:
        kind, detail = _os_error_kind(err), f"{type(err).__name__}: {err}"
        if kind == "reset" and state.hello is not None:
            kind = "no_status"
    finally:
        if writer is not None:
            await _close(writer)
    return DialResult(
        pubkey,
        ip,
        tcp_port,
        kind,
        hello=state.hello,
        status=state.status,
        disconnect=state.disconnect,
        duration=time.monotonic() - started,
        detail=detail,
    )


async def dial_many(
    targets: Iterable[DialTarget],
    key: PrivateKey,
    *,
    concurrency: int = 64,
    timeout: float = 10.0,  # noqa: ASYNC109 -- per dial, as in dial()
    netrestrict: NetRestrict | None = None,
    hello: Hello | None = None,
) -> list[DialResult]:
    """Dial each distinct node once, at most ``concurrency`` at a time; results in completion order.

    A node listed twice is dialled once: two connections from one id at the same time make a peer drop the
    second as "already connected".
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    our = hello if hello is not None else our_hello(key)
    unique = list({pubkey: (pubkey, ip, port) for pubkey, ip, port in targets}.values())
    slots = asyncio.Semaphore(concurrency)
    results: list[DialResult] = []

    async def one(target: DialTarget) -> None:
        async with slots:
            results.append(await dial(*target, key, timeout=timeout, netrestrict=netrestrict, hello=our))

    async with asyncio.TaskGroup() as group:
        for target in unique:
            group.create_task(one(target))
    return results
