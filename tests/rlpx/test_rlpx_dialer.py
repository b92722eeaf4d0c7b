"""The dialer against local asyncio servers on 127.0.0.1: every misbehaviour costs one bounded timeout at most and
ends in its own kind; a well-behaved in-process RLPx peer (our own Session, recipient side) yields Hello + Status."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from monitor.crawl.records import dial_client
from monitor.discovery.forkid import MAINNET_GENESIS_HASH, ForkId
from monitor.p2p.keys import PrivateKey, PublicKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.rlpx.dialer import DIAL_KINDS, DialResult, dial, dial_many, our_hello
from monitor.rlpx.eth import ETH68, Status
from monitor.rlpx.frame import FrameCodec
from monitor.rlpx.handshake import Recipient
from monitor.rlpx.messages import Capability, Disconnect, DisconnectReason, encode_p2p
from monitor.rlpx.session import AuthReceived, HelloReceived, Session

pytestmark = pytest.mark.timeout(30)

SERVER_KEY = PrivateKey.from_seed(b"dialer-test-server")
DIALER_KEY = PrivateKey.from_seed(b"dialer-test-client")
GETH_ID = "Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2"
STATUS = Status(68, 1, MAINNET_GENESIS_HASH, ForkId(bytes.fromhex("07c9462e"), 0), b"\x33" * 32, 58750 * 10**18)
TIMEOUT = 0.6
Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_auth(reader: asyncio.StreamReader) -> bytes:
    return await reader.read(65536)  # the dialer's auth arrives in one write


async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_auth(reader)
    writer.close()


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_auth(reader)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close -> RST
    writer.transport.abort()


async def http_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_auth(reader)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await asyncio.sleep(5)


async def sized_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_auth(reader)
    writer.write(b"\x01\x00" + bytes(range(256)))  # a plausible EIP-8 size, then bytes that do not decrypt
    await asyncio.sleep(5)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_auth(reader)
    await asyncio.sleep(5)


def _peer(
    *,
    caps: tuple[Capability, ...] = (ETH68,),
    then: str = "status",
    client_id: str = GETH_ID,
    key: PrivateKey = SERVER_KEY,
) -> Behaviour:
    """An in-process RLPx peer: Hello, then ``then`` (status | disconnect | nothing | bad_status | close)."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session.recipient(key, our_hello(key, client_id=client_id, capabilities=caps))
        while data := await reader.read(65536):
            for event in session.receive_data(data):
                if not isinstance(event, HelloReceived):
                    continue
                if then == "status":
                    session.send_status(STATUS)
                elif then == "disconnect":
                    session.send_disconnect(DisconnectReason.TOO_MANY_PEERS)
                elif then == "bad_status":
                    negotiated = session.eth
                    assert negotiated is not None
                    session.send_message(negotiated[1], b"\xc3\x01\x02\x03")  # a Status of 3 small ints
            writer.write(session.data_to_send())
            if then == "close" and session.remote_hello is not None:
                break
        writer.close()

    return behaviour


async def disconnect_before_hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    recipient = Recipient(SERVER_KEY)
    assert recipient.read_auth(await _read_auth(reader)) is not None
    ack, secrets = recipient.ack()
    writer.write(ack + FrameCodec(secrets).encode(encode_p2p(Disconnect(4), compress=False)))
    await asyncio.sleep(5)


async def bad_frames(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    session = Session.recipient(SERVER_KEY, our_hello(SERVER_KEY))
    for event in session.receive_data(await _read_auth(reader)):
        assert isinstance(event, AuthReceived)
    out = session.data_to_send()
    writer.write(out[:-40] + bytes(40))  # the ack is fine, the Hello frame's tail (and MAC) is not
    await asyncio.sleep(5)


@contextlib.asynccontextmanager
async def serving(behaviour: Behaviour) -> AsyncIterator[int]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Behaviours that stall are cancelled when the server closes; that is their normal end here.
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await behaviour(reader, writer)
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def _dial(port: int, **kwargs: object) -> DialResult:
    return await dial(SERVER_KEY.pubkey, "127.0.0.1", port, DIALER_KEY, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]


CASES: list[tuple[str, Behaviour, set[str], bool]] = [
    ("close_at_once", close_at_once, {"closed"}, False),
    ("reset", reset, {"reset"}, False),
    ("http_garbage", http_garbage, {"garbage"}, False),
    ("sized_garbage", sized_garbage, {"garbage"}, False),
    ("silent", silent, {"timeout"}, False),
    ("disconnect_before_hello", disconnect_before_hello, {"too_many_peers"}, False),
    ("bad_frames", bad_frames, {"handshake_failed"}, False),
    ("ok", _peer(), {"ok"}, True),
    ("too_many_peers_after_hello", _peer(then="disconnect"), {"too_many_peers"}, True),
    ("no_eth", _peer(caps=(Capability("snap", 1),)), {"no_eth"}, True),
    ("no_status_stall", _peer(then="nothing"), {"no_status"}, True),
    ("no_status_close", _peer(then="close"), {"no_status"}, True),
    ("bad_status", _peer(then="bad_status"), {"protocol_error"}, True),
]


@pytest.mark.parametrize(("name", "behaviour", "kinds", "with_hello"), CASES, ids=[c[0] for c in CASES])
async def test_each_behaviour_has_its_kind(name: str, behaviour: Behaviour, kinds: set[str], with_hello: bool) -> None:
    async with serving(behaviour) as port:
        result = await _dial(port)
    assert result.kind in kinds, (result.kind, result.detail)
    assert result.kind in DIAL_KINDS
    assert (result.hello is not None) is with_hello
    assert result.duration < TIMEOUT + 1.0  # one bounded timeout at most (plus the close grace)
    if with_hello:
        client = dial_client(result)
        assert client is not None and client.raw == result.hello.client_id


async def test_ok_reads_client_and_status() -> None:
    async with serving(_peer()) as port:
        result = await _dial(port)
    assert result.ok and result.status == STATUS
    client = dial_client(result)
    assert client is not None
    assert (client.name, client.version, client.os, client.language) == (
        "geth",
        "1.14.11-stable-f3c696fa",
        "linux-amd64",
        "go",
    )
    assert (
        client.network_id == 1 and client.genesis == MAINNET_GENESIS_HASH.hex() and client.capabilities == ("eth/68",)
    )


async def test_too_many_peers_keeps_the_hello_and_reason() -> None:
    async with serving(_peer(then="disconnect")) as port:
        result = await _dial(port)
    assert result.kind == "too_many_peers" and result.disconnect == Disconnect(4)
    client = dial_client(result)
    assert client is not None and client.disconnect_reason == "too_many_peers"


async def test_refused_and_netrestrict() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    assert (await _dial(port)).kind == "refused"
    accepted = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    async with serving(count) as port:
        result = await _dial(port, netrestrict=NetRestrict.parse("10.0.0.0/8"))
        await asyncio.sleep(0.05)
    assert result.kind == "netrestrict" and accepted == 0


async def test_misbehaving_peers_concurrently_each_cost_one_timeout() -> None:
    async with contextlib.AsyncExitStack() as stack:
        ports = [await stack.enter_async_context(serving(c[1])) for c in CASES]
        started = time.monotonic()
        results = await asyncio.gather(*(_dial(port) for port in ports))
        elapsed = time.monotonic() - started
    counted = Counter(r.kind for r in results)
    expected = Counter(next(iter(c[2])) for c in CASES)
    assert counted == expected
    assert elapsed < TIMEOUT + 1.0  # in parallel: the whole batch costs about one timeout


async def test_invalid_pubkey_is_our_error_not_the_peers() -> None:
    result = await dial(PublicKey(b"\x01" * 64), "127.0.0.1", 9, DIALER_KEY, timeout=TIMEOUT)
    assert result.kind == "error" and "public key" in result.detail


async def test_dial_many_dials_each_node_once_within_the_bound() -> None:
    active = peak = 0
    keys = [PrivateKey.from_seed(f"dial-many-{i}".encode()) for i in range(5)]

    def counting(key: PrivateKey) -> Behaviour:
        async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                await asyncio.sleep(0.05)  # hold the slot long enough for dials to overlap
                await _peer(key=key)(reader, writer)
            finally:
                active -= 1

        return behaviour

    async with contextlib.AsyncExitStack() as stack:
        ports = [await stack.enter_async_context(serving(counting(key))) for key in keys]
        targets = [(key.pubkey, "127.0.0.1", port) for key, port in zip(keys, ports, strict=True)]
        results = await dial_many(targets + targets[:2], DIALER_KEY, concurrency=2, timeout=2.0)
    assert sorted(r.tcp_port for r in results) == sorted(ports)  # the two duplicates were dialled once
    assert all(r.kind == "ok" for r in results)
    assert peak == 2
