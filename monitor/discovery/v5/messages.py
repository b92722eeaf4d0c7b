"""discv5.1 messages (devp2p discv5/discv5-wire.md "Protocol Messages"): message-type || rlp(message-data).

Frozen dataclasses with :func:`encode_message` / :func:`decode_message`. The first element of every message is a
request id of at most 8 bytes, kept as bytes (leading zeros matter). NODES carries records as their RLP encodings,
split out of the message without decoding them: verifying them (ENR.from_rlp) is the receiver's choice.
Decoding raises DecodeError and nothing else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, TypeAlias

import rlp

from monitor.errors import DecodeError
from monitor.p2p.rlp import as_bytes, as_list, as_uint, uint_bytes

__all__ = [
    "Ping",
    "Pong",
    "FindNode",
    "Nodes",
    "TalkReq",
    "TalkResp",
    "Message",
    "MESSAGE_NAMES",
    "encode_message",
    "decode_message",
]

MAX_REQUEST_ID: Final = 8

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Ping:
    request_id: bytes
    enr_seq: int
    TYPE: ClassVar[int] = 1
    REQUEST: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Pong:
    request_id: bytes
    enr_seq: int
    ip: IPAddress  # the UDP envelope address the responder saw us at
    port: int
    TYPE: ClassVar[int] = 2
    REQUEST: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class FindNode:
    request_id: bytes
    distances: tuple[int, ...]  # log2 distances from the recipient; 0 asks for its own record
    TYPE: ClassVar[int] = 3
    REQUEST: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Nodes:
    request_id: bytes
    total: int  # how many NODES messages answer the request
    records: tuple[bytes, ...]  # RLP-encoded ENRs; verify with monitor.discovery.enr.ENR.from_rlp
    TYPE: ClassVar[int] = 4
    REQUEST: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class TalkReq:
    request_id: bytes
    protocol: bytes
    request: bytes
    TYPE: ClassVar[int] = 5
    REQUEST: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class TalkResp:
    request_id: bytes
    response: bytes
    TYPE: ClassVar[int] = 6
    REQUEST: ClassVar[bool] = False


Message: TypeAlias = Ping | Pong | FindNode | Nodes | TalkReq | TalkResp
MESSAGE_NAMES: Final[dict[int, str]] = {1: "ping", 2: "pong", 3: "findnode", 4: "nodes", 5: "talkreq", 6: "talkresp"}


def _items(message: Ping | Pong | FindNode | TalkReq | TalkResp) -> list[Any]:
    if isinstance(message, Ping):
        return [message.request_id, uint_bytes(message.enr_seq)]
    if isinstance(message, Pong):
        return [message.request_id, uint_bytes(message.enr_seq), message.ip.packed, uint_bytes(message.port)]
    if isinstance(message, FindNode):
        return [message.request_id, [uint_bytes(d) for d in message.distances]]
    if isinstance(message, TalkReq):
        return [message.request_id, message.protocol, message.request]
    return [message.request_id, message.response]


def encode_message(message: Message) -> bytes:
    """message-pt = message-type || rlp(message-data)."""
    if isinstance(message, Nodes):
        # The records are RLP already: splice them in rather than decode and re-encode each (a serving hot path).
        records = b"".join(message.records)
        head: bytes = rlp.encode(message.request_id) + rlp.encode(uint_bytes(message.total))
        body = head + _prefix(len(records), 0xC0) + records
        return bytes([message.TYPE]) + _prefix(len(body), 0xC0) + body
    encoded: bytes = rlp.encode(_items(message))
    return bytes([message.TYPE]) + encoded


def _prefix(length: int, offset: int) -> bytes:
    """RLP header of a string (offset 0x80) or list (0xC0) payload of ``length`` bytes."""
    if length < 56:
        return bytes([offset + length])
    size = uint_bytes(length)
    return bytes([offset + 55 + len(size)]) + size


def _item(data: bytes, pos: int, end: int) -> tuple[int, int, bool]:
    """(payload start, item end, is a list) of the RLP item at ``pos``; DecodeError if it runs past ``end``."""
    if pos >= end:
        raise DecodeError("RLP item missing")
    first = data[pos]
    if first < 0x80:
        return pos, pos + 1, False
    is_list = first >= 0xC0
    short = first - (0xC0 if is_list else 0x80)
    if short < 56:
        start, length = pos + 1, short
    else:
        size = short - 55
        start = pos + 1 + size
        if start > end:
            raise DecodeError("RLP length runs past the data")
        length = int.from_bytes(data[pos + 1 : start], "big")
    if start + length > end:
        raise DecodeError("RLP item runs past the data")
    return start, start + length, is_list


def _raw_list(data: bytes, pos: int, end: int) -> list[bytes]:
    """The raw encodings of the elements of the RLP list at ``pos``, which must end exactly at ``end``."""
    start, stop, is_list = _item(data, pos, end)
    if not is_list or stop != end:
        raise DecodeError("expected one RLP list")
    items = []
    while start < stop:
        _payload, item_end, _ = _item(data, start, stop)
        items.append(data[start:item_end])
        start = item_end
    return items


def _decode_nodes(data: bytes) -> Nodes:
    items = _raw_list(data, 0, len(data))
    if len(items) < 3:
        raise DecodeError(f"nodes: expected at least 3 elements, got {len(items)}")
    head = [rlp.decode(items[0]), rlp.decode(items[1])]
    records = _raw_list(items[2], 0, len(items[2]))
    if any(_item(r, 0, len(r))[2] is False for r in records):
        raise DecodeError("nodes: a record is not an RLP list")
    return Nodes(_request_id(head), as_uint(head[1], "nodes total"), tuple(records))


def _request_id(items: list[Any]) -> bytes:
    request_id = as_bytes(items[0], "request-id")
    if len(request_id) > MAX_REQUEST_ID:
        raise DecodeError(f"request-id of {len(request_id)} bytes (at most {MAX_REQUEST_ID})")
    return request_id


def _ping(items: list[Any]) -> Ping:
    as_list(items, "ping", 2)
    return Ping(_request_id(items), as_uint(items[1], "ping enr-seq"))


def _pong(items: list[Any]) -> Pong:
    as_list(items, "pong", 4)
    raw_ip = as_bytes(items[2], "pong recipient-ip")
    if len(raw_ip) not in (4, 16):
        raise DecodeError(f"pong recipient-ip of {len(raw_ip)} bytes")
    ip: IPAddress = ipaddress.IPv4Address(raw_ip) if len(raw_ip) == 4 else ipaddress.IPv6Address(raw_ip)
    return Pong(_request_id(items), as_uint(items[1], "pong enr-seq"), ip, as_uint(items[3], "pong port", 2))


def _findnode(items: list[Any]) -> FindNode:
    as_list(items, "findnode", 2)
    distances = tuple(as_uint(d, "findnode distance", 2) for d in as_list(items[1], "findnode distances", 0))
    if any(d > 256 for d in distances):
        raise DecodeError("findnode distance above 256")
    return FindNode(_request_id(items), distances)


def _talkreq(items: list[Any]) -> TalkReq:
    as_list(items, "talkreq", 3)
    return TalkReq(_request_id(items), as_bytes(items[1], "talkreq protocol"), as_bytes(items[2], "talkreq request"))


def _talkresp(items: list[Any]) -> TalkResp:
    as_list(items, "talkresp", 2)
    return TalkResp(_request_id(items), as_bytes(items[1], "talkresp response"))


_PARSERS: dict[int, Callable[[list[Any]], Message]] = {
    1: _ping,
    2: _pong,
    3: _findnode,
    5: _talkreq,
    6: _talkresp,
}


def decode_message(plaintext: bytes) -> Message:
    """Parse message-type || rlp(message-data); extra list elements are ignored for forward compatibility."""
    if not plaintext:
        raise DecodeError("empty message")
    if plaintext[0] == Nodes.TYPE:
        try:
            return _decode_nodes(plaintext[1:])
        except (ValueError, rlp.exceptions.RLPException) as err:
            raise DecodeError(f"nodes: {err}") from err
    parser = _PARSERS.get(plaintext[0])
    if parser is None:
        raise DecodeError(f"unknown message type {plaintext[0]}")
    name = MESSAGE_NAMES[plaintext[0]]
    try:
        items = rlp.decode(plaintext[1:], strict=True)
    except rlp.exceptions.DecodingError as err:
        raise DecodeError(f"{name}: invalid RLP") from err
    if not isinstance(items, list):
        raise DecodeError(f"{name}: message data is not a list")
    try:
        return parser(items)
    except (ValueError, rlp.exceptions.RLPException) as err:
        raise DecodeError(f"{name}: {err}") from err
