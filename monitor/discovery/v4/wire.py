"""Sans-IO codec for discv4 packets (devp2p discv4.md, EIP-8, EIP-868).

    packet = hash || signature || packet-type || packet-data
    hash = keccak256(signature || packet-type || packet-data)
    signature = sign(keccak256(packet-type || packet-data))   # 65 bytes, recoverable

Decoding is liberal as EIP-8 asks: the PING version is not checked, extra list elements are kept in
``rest`` and any bytes after the first RLP value are ignored. Nothing here touches a socket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from monitor.errors import DecodeError, ExpiredError, SignatureError
from monitor.p2p import rlp
from monitor.p2p.keys import PrivateKey, PublicKey, keccak256, recover_pubkey
from monitor.p2p.rlp import as_bytes, as_list, as_uint, uint_bytes

__all__ = [
    "MAX_PACKET_SIZE",
    "MAX_DECODE_SIZE",
    "MAX_NEIGHBORS",
    "IPAddress",
    "Endpoint",
    "NodeEntry",
    "Ping",
    "Pong",
    "FindNode",
    "Neighbors",
    "ENRRequest",
    "ENRResponse",
    "Packet",
    "Decoded",
    "PACKET_TYPES",
    "encode",
    "decode",
    "check_expiration",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_PACKET_SIZE: Final = 1280  # what we send (discv4.md)
# What we accept: @ethereumjs/devp2p packs 16 neighbours into 1,371 bytes; being liberal costs nothing.
MAX_DECODE_SIZE: Final = 2048
HEAD_SIZE: Final = 32 + 65
# 12 IPv6 entries (3 + 18 + 3 + 3 + 66 bytes each) plus the list headers and expiration stay below 1,280 bytes.
MAX_NEIGHBORS: Final = 12


@dataclass(frozen=True, slots=True)
class Endpoint:
    ip: IPAddress | None  # None: the sender left it empty (allowed; the UDP source is what counts)
    udp: int
    tcp: int


@dataclass(frozen=True, slots=True)
class NodeEntry:
    ip: IPAddress | None
    udp: int
    tcp: int
    pubkey: PublicKey


@dataclass(frozen=True, slots=True)
class Ping:
    version: int
    sender: Endpoint  # the spec's "from"
    recipient: Endpoint  # the spec's "to"
    expiration: int
    enr_seq: int | None = None
    rest: tuple[Any, ...] = ()
    TYPE = 1


@dataclass(frozen=True, slots=True)
class Pong:
    recipient: Endpoint
    ping_hash: bytes
    expiration: int
    enr_seq: int | None = None
    rest: tuple[Any, ...] = ()
    TYPE = 2


@dataclass(frozen=True, slots=True)
class FindNode:
    target: bytes  # 64-byte public key; peers compare keccak256(target) with their table
    expiration: int
    rest: tuple[Any, ...] = ()
    TYPE = 3


@dataclass(frozen=True, slots=True)
class Neighbors:
    nodes: tuple[NodeEntry, ...]
    expiration: int
    rest: tuple[Any, ...] = ()
    TYPE = 4


@dataclass(frozen=True, slots=True)
class ENRRequest:
    expiration: int
    rest: tuple[Any, ...] = ()
    TYPE = 5


@dataclass(frozen=True, slots=True)
class ENRResponse:
    request_hash: bytes
    record: bytes  # the record's RLP encoding; parse with monitor.discovery.enr.ENR.from_rlp
    rest: tuple[Any, ...] = ()
    TYPE = 6


Packet: TypeAlias = Ping | Pong | FindNode | Neighbors | ENRRequest | ENRResponse
PACKET_TYPES: Final[dict[int, str]] = {
    1: "ping",
    2: "pong",
    3: "findnode",
    4: "neighbors",
    5: "enrrequest",
    6: "enrresponse",
}


@dataclass(frozen=True, slots=True)
class Decoded:
    packet: Packet
    pubkey: PublicKey  # the sender's key, recovered from the signature
    hash: bytes  # the packet hash (PONG and ENRRESPONSE echo it)


# -- encoding ---------------------------------------------------------------------------------------------------


def _ip_bytes(ip: IPAddress | None) -> bytes:
    return ip.packed if ip is not None else b""


def _endpoint(ep: Endpoint) -> list[bytes]:
    return [_ip_bytes(ep.ip), uint_bytes(ep.udp), uint_bytes(ep.tcp)]


def _payload(packet: Packet) -> list[Any]:
    if isinstance(packet, Ping):
        items: list[Any] = [uint_bytes(packet.version), _endpoint(packet.sender), _endpoint(packet.recipient)]
        items.append(uint_bytes(packet.expiration))
        if packet.enr_seq is not None:
            items.append(uint_bytes(packet.enr_seq))
    elif isinstance(packet, Pong):
        items = [_endpoint(packet.recipient), packet.ping_hash, uint_bytes(packet.expiration)]
        if packet.enr_seq is not None:
            items.append(uint_bytes(packet.enr_seq))
    elif isinstance(packet, FindNode):
        items = [packet.target, uint_bytes(packet.expiration)]
    elif isinstance(packet, Neighbors):
        nodes = [[_ip_bytes(n.ip), uint_bytes(n.udp), uint_bytes(n.tcp), bytes(n.pubkey)] for n in packet.nodes]
        items = [nodes, uint_bytes(packet.expiration)]
    elif isinstance(packet, ENRRequest):
        items = [uint_bytes(packet.expiration)]
    else:
        items = [packet.request_hash, rlp.decode(packet.record)]
    return items + list(packet.rest)


def encode(packet: Packet, key: PrivateKey) -> tuple[bytes, bytes]:
    """Sign and serialise ``packet``; return ``(datagram, packet_hash)``."""
    body = bytes([packet.TYPE]) + rlp.encode(_payload(packet))
    signature = key.sign_recoverable(keccak256(body))
    digest = keccak256(signature + body)
    return digest + signature + body, digest


# -- decoding ---------------------------------------------------------------------------------------------------


# Address objects are immutable and the same few thousand addresses recur in every NEIGHBORS answer: building one
# costs ~17 µs (ipaddress parses and validates), looking it up well under 1 µs. Bounded: cleared when full.
_IP_CACHE: dict[bytes, IPAddress] = {}
_IP_CACHE_MAX = 1 << 18


def _as_ip(item: Any, what: str) -> IPAddress | None:
    raw = as_bytes(item, what)
    known = _IP_CACHE.get(raw)
    if known is not None:
        return known
    ip: IPAddress
    if len(raw) == 4:
        ip = ipaddress.IPv4Address(raw)
    elif len(raw) == 16:
        ip = ipaddress.IPv6Address(raw)
    elif not raw:
        return None
    else:
        raise DecodeError(f"{what}: IP address of {len(raw)} bytes")
    if len(_IP_CACHE) >= _IP_CACHE_MAX:
        _IP_CACHE.clear()
    _IP_CACHE[raw] = ip
    return ip


def _as_endpoint(item: Any, what: str) -> Endpoint:
    ep = as_list(item, what, 3)
    return Endpoint(_as_ip(ep[0], what), as_uint(ep[1], f"{what} udp", 2), as_uint(ep[2], f"{what} tcp", 2))


def _opt_seq(items: list[Any], index: int) -> tuple[int | None, tuple[Any, ...]]:
    """EIP-868 enr-seq: optional; an element that is not a valid uint64 is kept as an unknown extra (EIP-8)."""
    if len(items) <= index:
        return None, ()
    item = items[index]
    if isinstance(item, bytes) and len(item) <= 8:
        return int.from_bytes(item, "big"), tuple(items[index + 1 :])
    return None, tuple(items[index:])


def _parse_ping(items: list[Any]) -> Ping:
    as_list(items, "ping", 4)
    seq, rest = _opt_seq(items, 4)
    return Ping(
        version=as_uint(items[0], "ping version", 32),
        sender=_as_endpoint(items[1], "ping from"),
        recipient=_as_endpoint(items[2], "ping to"),
        expiration=as_uint(items[3], "ping expiration"),
        enr_seq=seq,
        rest=rest,
    )


def _parse_pong(items: list[Any]) -> Pong:
    as_list(items, "pong", 3)
    ping_hash = as_bytes(items[1], "pong ping-hash")
    if len(ping_hash) != 32:
        raise DecodeError("pong ping-hash must be 32 bytes")
    seq, rest = _opt_seq(items, 3)
    return Pong(_as_endpoint(items[0], "pong to"), ping_hash, as_uint(items[2], "pong expiration"), seq, rest)


def _parse_findnode(items: list[Any]) -> FindNode:
    as_list(items, "findnode", 2)
    target = as_bytes(items[0], "findnode target")
    if len(target) != 64:
        raise DecodeError("findnode target must be 64 bytes")
    return FindNode(target, as_uint(items[1], "findnode expiration"), tuple(items[2:]))


def _parse_neighbors(items: list[Any]) -> Neighbors:
    as_list(items, "neighbors", 2)
    nodes = []
    for raw in as_list(items[0], "neighbors nodes", 0):
        # The common, well-formed entry in one test (the crawler's hottest loop: 16 per answer); anything else
        # takes the checked path below, which names what is wrong.
        if type(raw) is list and len(raw) >= 4:
            ip_raw, udp, tcp, pubkey = raw[0], raw[1], raw[2], raw[3]
            if type(pubkey) is bytes and len(pubkey) == 64 and len(udp) <= 2 and len(tcp) <= 2 and type(udp) is bytes:
                ip = _IP_CACHE.get(ip_raw) if type(ip_raw) is bytes else None
                if type(tcp) is bytes and (ip is not None or len(ip_raw) in (0, 4, 16)):
                    ip = ip if ip is not None else _as_ip(ip_raw, "neighbors node ip")
                    nodes.append(
                        NodeEntry(ip, int.from_bytes(udp, "big"), int.from_bytes(tcp, "big"), PublicKey(pubkey))
                    )
                    continue
        entry = as_list(raw, "neighbors node", 4)
        pubkey = as_bytes(entry[3], "neighbors node id")
        if len(pubkey) != 64:
            raise DecodeError("neighbors node id must be 64 bytes")
        ip = _as_ip(entry[0], "neighbors node ip")
        udp, tcp = as_uint(entry[1], "neighbors udp", 2), as_uint(entry[2], "neighbors tcp", 2)
        nodes.append(NodeEntry(ip, udp, tcp, PublicKey(pubkey)))
    return Neighbors(tuple(nodes), as_uint(items[1], "neighbors expiration"), tuple(items[2:]))


def _parse_enrrequest(items: list[Any]) -> ENRRequest:
    as_list(items, "enrrequest", 1)
    return ENRRequest(as_uint(items[0], "enrrequest expiration"), tuple(items[1:]))


def _parse_enrresponse(items: list[Any]) -> ENRResponse:
    as_list(items, "enrresponse", 2)
    request_hash = as_bytes(items[0], "enrresponse request-hash")
    if len(request_hash) != 32:
        raise DecodeError("enrresponse request-hash must be 32 bytes")
    record = as_list(items[1], "enrresponse record", 2)
    return ENRResponse(request_hash, rlp.encode(record), tuple(items[2:]))


_PARSERS: dict[int, Callable[[list[Any]], Packet]] = {
    1: _parse_ping,
    2: _parse_pong,
    3: _parse_findnode,
    4: _parse_neighbors,
    5: _parse_enrrequest,
    6: _parse_enrresponse,
}


def decode(data: bytes) -> Decoded:
    """Verify hash and signature, then parse. Raises DecodeError (or SignatureError) and nothing else."""
    if len(data) < HEAD_SIZE + 1:
        raise DecodeError(f"packet too small ({len(data)} bytes)")
    if len(data) > MAX_DECODE_SIZE:
        raise DecodeError(f"packet too large ({len(data)} bytes)")
    digest, signature, body = data[:32], data[32:HEAD_SIZE], data[HEAD_SIZE:]
    if keccak256(data[32:]) != digest:
        raise SignatureError("packet hash mismatch")
    pubkey = recover_pubkey(signature, keccak256(body))
    parser = _PARSERS.get(body[0])
    if parser is None:
        raise DecodeError(f"unknown packet type {body[0]}")
    try:
        items = rlp.decode(body[1:], strict=False)  # strict=False: ignore data after the first value (EIP-8)
    except DecodeError as err:
        raise DecodeError(f"{PACKET_TYPES[body[0]]}: invalid RLP ({err})") from err
    if not isinstance(items, list):
        raise DecodeError(f"{PACKET_TYPES[body[0]]}: packet data is not a list")
    try:
        packet = parser(items)
    except (ValueError, TypeError) as err:
        raise DecodeError(f"{PACKET_TYPES[body[0]]}: {err}") from err
    return Decoded(packet, pubkey, digest)


def check_expiration(packet: Packet, now: float) -> None:
    """Reject packets whose absolute expiration (UNIX seconds) has passed; ENRRESPONSE carries none."""
    expiration = getattr(packet, "expiration", None)
    if expiration is not None and expiration < now:
        raise ExpiredError(f"{PACKET_TYPES[packet.TYPE]} expired {now - expiration:.0f}s ago")
