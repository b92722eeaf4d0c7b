"""devp2p base protocol ("p2p") messages: Hello, Disconnect, Ping, Pong (devp2p rlpx.md, "P2P Capability").

A frame's data is ``msg-id || msg-data``: the id is an RLP integer, the data RLP, snappy-compressed once both
sides' Hello announced p2p version >= 5 (Hello itself is never compressed). Decoding follows EIP-8: extra list
elements are kept in ``rest`` and the Hello version is not checked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import rlp

from monitor.p2p import rlp as rlpitems
from monitor.p2p.keys import PublicKey
from monitor.rlpx import snappy
from monitor.rlpx.errors import MessageError

__all__ = [
    "P2P_VERSION",
    "SNAPPY_VERSION",
    "HELLO",
    "DISCONNECT",
    "PING",
    "PONG",
    "BASE_PROTOCOL_LENGTH",
    "Capability",
    "Hello",
    "DisconnectReason",
    "Disconnect",
    "Ping",
    "Pong",
    "P2PMessage",
    "split_frame",
    "join_frame",
    "decode_rlp",
    "encode_p2p",
    "decode_p2p",
    "as_uint",
    "as_bytes",
]

P2P_VERSION: Final = 5
SNAPPY_VERSION: Final = 5
HELLO: Final = 0x00
DISCONNECT: Final = 0x01
PING: Final = 0x02
PONG: Final = 0x03
BASE_PROTOCOL_LENGTH: Final = 0x10  # capability message ids start after the reserved p2p range


@dataclass(frozen=True, slots=True, order=True)
class Capability:
    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class Hello:
    version: int
    client_id: str
    capabilities: tuple[Capability, ...]
    listen_port: int
    node_pubkey: PublicKey
    rest: tuple[Any, ...] = ()


class DisconnectReason(enum.IntEnum):
    """Reason codes of rlpx.md; ``label`` is the snake-case name used as a metric label."""

    DISCONNECT_REQUESTED = 0x00
    TCP_ERROR = 0x01
    BREACH_OF_PROTOCOL = 0x02
    USELESS_PEER = 0x03
    TOO_MANY_PEERS = 0x04
    ALREADY_CONNECTED = 0x05
    INCOMPATIBLE_VERSION = 0x06
    NULL_NODE_IDENTITY = 0x07
    CLIENT_QUITTING = 0x08
    UNEXPECTED_IDENTITY = 0x09
    SAME_IDENTITY = 0x0A
    PING_TIMEOUT = 0x0B
    SUBPROTOCOL_ERROR = 0x10

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Disconnect:
    code: int  # kept as sent: unknown codes are not an error

    @property
    def reason(self) -> DisconnectReason | None:
        try:
            return DisconnectReason(self.code)
        except ValueError:
            return None

    @property
    def label(self) -> str:
        reason = self.reason
        return reason.label if reason is not None else "unknown"


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Pong:
    pass


P2PMessage: TypeAlias = Hello | Disconnect | Ping | Pong


def as_bytes(item: Any, what: str) -> bytes:
    return rlpitems.as_bytes(item, what, MessageError)


def as_uint(item: Any, what: str, max_bytes: int = 8) -> int:
    return rlpitems.as_uint(item, what, max_bytes, MessageError)


def decode_rlp(payload: bytes) -> Any:
    try:
        return rlp.decode(payload, strict=False)
    except (rlp.exceptions.RLPException, ValueError) as err:
        raise MessageError("message is not RLP") from err


def split_frame(frame_data: bytes) -> tuple[int, bytes]:
    """``(msg-id, msg-data)``; the id is an RLP-encoded integer (0 is the empty string 0x80)."""
    if not frame_data:
        raise MessageError("empty frame")
    first = frame_data[0]
    if first < 0x80:
        return first, frame_data[1:]
    size = first - 0x80
    if size > 4 or len(frame_data) < 1 + size or (size and frame_data[1] == 0):
        raise MessageError("message id is not a canonical RLP integer")
    return int.from_bytes(frame_data[1 : 1 + size], "big"), frame_data[1 + size :]


def join_frame(msg_id: int, payload: bytes) -> bytes:
    return bytes(rlp.encode(msg_id)) + payload


def encode_p2p(message: P2PMessage, *, compress: bool) -> bytes:
    """Frame data for a p2p message; ``compress`` applies to everything but Hello."""
    if isinstance(message, Hello):
        caps = [[c.name.encode(), c.version] for c in message.capabilities]
        body = [message.version, message.client_id.encode(), caps, message.listen_port, message.node_pubkey]
        return join_frame(HELLO, rlp.encode(body + list(message.rest)))
    if isinstance(message, Disconnect):
        msg_id, payload = DISCONNECT, rlp.encode([message.code])
    else:
        msg_id, payload = (PING if isinstance(message, Ping) else PONG), rlp.encode([])
    return join_frame(msg_id, snappy.compress(payload) if compress else payload)


def _hello(items: Any) -> Hello:
    if not isinstance(items, list) or len(items) < 5:
        raise MessageError("hello must be a list of at least 5 items")
    caps_raw = items[2]
    if not isinstance(caps_raw, list):
        raise MessageError("hello capabilities must be a list")
    caps = []
    for cap in caps_raw:
        if not isinstance(cap, list) or len(cap) < 2:
            raise MessageError("capability must be [name, version]")
        caps.append(Capability(as_bytes(cap[0], "capability name").decode("utf-8", "replace"), as_uint(cap[1], "cap")))
    pubkey = as_bytes(items[4], "node id")
    if len(pubkey) != 64:
        raise MessageError("hello node id must be 64 bytes")
    return Hello(
        version=as_uint(items[0], "hello version"),
        client_id=as_bytes(items[1], "client id").decode("utf-8", "replace"),
        capabilities=tuple(caps),
        listen_port=as_uint(items[3], "listen port", 2),
        node_pubkey=PublicKey(pubkey),
        rest=tuple(items[5:]),
    )


def _disconnect(payload: bytes, compressed: bool) -> Disconnect:
    # Peers disagree on the shape ([reason], a bare reason, or nothing) and, before the Hello exchange completes,
    # on whether it is compressed: try what was negotiated first, then the other way.
    attempts = [True, False] if compressed else [False, True]
    for use_snappy in attempts:
        try:
            raw = snappy.decompress(payload, max_length=1024) if use_snappy else payload
            item = rlp.decode(raw, strict=True) if raw else []  # strict: trailing bytes mean "wrong guess"
        except (rlp.exceptions.RLPException, ValueError, MessageError):
            continue
        if isinstance(item, list):
            item = item[0] if item else b""
        if isinstance(item, bytes) and len(item) <= 2:
            return Disconnect(int.from_bytes(item, "big"))
    raise MessageError("undecodable disconnect reason")


def decode_p2p(msg_id: int, payload: bytes, *, compressed: bool) -> P2PMessage:
    """Decode a p2p message (ids below 0x10); Hello is read uncompressed whatever ``compressed`` says."""
    if msg_id == HELLO:
        return _hello(decode_rlp(payload))
    if msg_id == DISCONNECT:
        return _disconnect(payload, compressed)
    if msg_id in (PING, PONG):
        if compressed:
            snappy.decompress(payload, max_length=1024)
        return Ping() if msg_id == PING else Pong()
    raise MessageError(f"unknown p2p message id {msg_id:#x}")
