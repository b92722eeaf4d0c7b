"""discv4 codec: the EIP-8 packets, round trips, and robustness against arbitrary bytes."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.discovery.v4 import wire
from monitor.discovery.v4.wire import (
    Endpoint,
    ENRRequest,
    ENRResponse,
    FindNode,
    Neighbors,
    NodeEntry,
    Ping,
    Pong,
    check_expiration,
    decode,
    encode,
)
from monitor.errors import DecodeError, ExpiredError, SignatureError
from monitor.p2p.keys import PrivateKey, PublicKey, keccak256

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "eip8_discv4.json").read_text())
KEY = PrivateKey.from_hex(VECTORS["signer_private_key"])


def _ep(triple: list[Any]) -> Endpoint:
    return Endpoint(ipaddress.ip_address(triple[0]), triple[1], triple[2])


@pytest.mark.parametrize("vector", VECTORS["packets"], ids=[v["name"] for v in VECTORS["packets"]])
def test_eip8_vectors(vector: dict[str, Any]) -> None:
    decoded = decode(bytes.fromhex(vector["hex"]))
    want = vector["expect"]
    packet = decoded.packet
    assert decoded.pubkey.hex() == VECTORS["signer_pubkey"] == KEY.pubkey.hex()
    assert wire.PACKET_TYPES[packet.TYPE] == want["type"]
    assert len(packet.rest) == want["rest_count"]
    if isinstance(packet, Ping):
        assert (packet.version, packet.expiration, packet.enr_seq) == (
            want["version"],
            want["expiration"],
            want["enr_seq"],
        )
        assert packet.sender == _ep(want["from"]) and packet.recipient == _ep(want["to"])
    elif isinstance(packet, Pong):
        assert packet.recipient == _ep(want["to"]) and packet.ping_hash.hex() == want["ping_hash"]
        assert (packet.expiration, packet.enr_seq) == (want["expiration"], want["enr_seq"])
    elif isinstance(packet, FindNode):
        assert packet.target.hex() == want["target"] and packet.expiration == want["expiration"]
    else:
        assert isinstance(packet, Neighbors)
        got = [[str(n.ip), n.udp, n.tcp, n.pubkey.hex()] for n in packet.nodes]
        assert got == want["nodes"] and packet.expiration == want["expiration"]


def _samples() -> list[wire.Packet]:
    other = PrivateKey.from_seed(b"other").pubkey
    v4, v6 = ipaddress.IPv4Address("10.1.2.3"), ipaddress.IPv6Address("2001:db8::1")
    return [
        Ping(4, Endpoint(v4, 30303, 30304), Endpoint(v6, 1, 0), 1_900_000_000, enr_seq=7),
        Ping(4, Endpoint(None, 0, 0), Endpoint(v4, 65535, 65535), 1_900_000_000),
        Pong(Endpoint(v4, 30303, 0), bytes(range(32)), 1_900_000_000, enr_seq=2**64 - 1),
        FindNode(bytes(other), 1_900_000_000),
        Neighbors(tuple(NodeEntry(v6 if i % 2 else v4, 30303 + i, 30303, other) for i in range(12)), 1_900_000_000),
        Neighbors((), 1_900_000_000),
        ENRRequest(1_900_000_000),
        ENRResponse(bytes(32), bytes.fromhex("c5 01 02 03 04 05".replace(" ", ""))),
    ]


@pytest.mark.parametrize("packet", _samples(), ids=lambda p: type(p).__name__)
def test_round_trip(packet: wire.Packet) -> None:
    data, digest = encode(packet, KEY)
    assert len(data) <= wire.MAX_PACKET_SIZE
    decoded = decode(data)
    assert decoded.packet == packet
    assert decoded.pubkey == KEY.pubkey
    assert decoded.hash == digest == keccak256(data[32:])


def test_full_neighbors_of_ipv6_nodes_fits_in_1280_bytes() -> None:
    entry = NodeEntry(ipaddress.IPv6Address("2001:db8::ffff:ffff"), 65535, 65535, PublicKey(b"\xff" * 64))
    data, _ = encode(Neighbors((entry,) * wire.MAX_NEIGHBORS, 2**32 - 1), KEY)
    assert len(data) <= wire.MAX_PACKET_SIZE


def test_tampered_body_fails_hash_check() -> None:
    data = bytearray(encode(ENRRequest(1_900_000_000), KEY)[0])
    data[-1] ^= 1
    with pytest.raises(SignatureError):
        decode(bytes(data))


def test_resigned_hash_with_wrong_signature_recovers_other_key() -> None:
    """Swapping the body under a recomputed hash yields a different signer, never the original one."""
    data = encode(ENRRequest(1_900_000_000), KEY)[0]
    body = data[97:-1] + bytes([data[-1] ^ 1])
    forged = keccak256(data[32:97] + body) + data[32:97] + body
    with contextlib.suppress(DecodeError):  # equally acceptable: the signature does not recover at all
        assert decode(forged).pubkey != KEY.pubkey


def test_unknown_packet_type_is_rejected() -> None:
    sig_body = bytes(65) + b"\x09\xc0"
    with pytest.raises(DecodeError):
        decode(keccak256(sig_body) + sig_body)


def test_expiration() -> None:
    check_expiration(FindNode(bytes(64), 100), now=99.5)
    with pytest.raises(ExpiredError):
        check_expiration(FindNode(bytes(64), 100), now=100.5)
    check_expiration(ENRResponse(bytes(32), b"\xc0"), now=1e12)  # carries no expiration


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=1500))
def test_arbitrary_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=600), st.integers(min_value=1, max_value=6))
def test_validly_signed_garbage_raises_only_decode_error(payload: bytes, ptype: int) -> None:
    """Hash and signature are right, the RLP body is arbitrary: the parser must still fail cleanly."""
    body = bytes([ptype]) + payload
    sig = KEY.sign_recoverable(keccak256(body))
    data = keccak256(sig + body) + sig + body
    try:
        decoded = decode(data)
    except DecodeError:
        return
    assert decoded.pubkey == KEY.pubkey


_rlp_items = st.recursive(st.binary(max_size=70), lambda inner: st.lists(inner, max_size=6), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(st.lists(_rlp_items, max_size=6), st.integers(min_value=1, max_value=6))
def test_signed_structured_rlp_raises_only_decode_error(items: list[Any], ptype: int) -> None:
    """Well-formed RLP of the wrong shape (short lists, lists for ints, oversized fields) fails cleanly."""
    import rlp

    body = bytes([ptype]) + rlp.encode(items)
    sig = KEY.sign_recoverable(keccak256(body))
    with contextlib.suppress(DecodeError):
        decode(keccak256(sig + body) + sig + body)
