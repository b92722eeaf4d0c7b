"""discv5.1 codec: the devp2p wire test vectors (decoded and re-encoded byte for byte), message round trips and
robustness against arbitrary bytes."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.discovery.enr import ENR
from monitor.discovery.v5.crypto import aes_ctr, derive_keys, ecdh, gcm_decrypt, gcm_encrypt, id_sign, id_verify
from monitor.discovery.v5.messages import (
    FindNode,
    Message,
    Nodes,
    Ping,
    Pong,
    TalkReq,
    TalkResp,
    decode_message,
    encode_message,
)
from monitor.discovery.v5.wire import (
    Handshake,
    Ordinary,
    WhoAreYou,
    decode_packet,
    encode_packet,
    open_message,
    seal,
)
from monitor.errors import DecodeError, SignatureError
from monitor.p2p.keys import PrivateKey, compress_pubkey

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "discv5_wire.json").read_text())
KEY_A = PrivateKey.from_hex(VECTORS["node_a_key"])
KEY_B = PrivateKey.from_hex(VECTORS["node_b_key"])
ID_A, ID_B = bytes.fromhex(VECTORS["src_node_id"]), bytes.fromhex(VECTORS["dest_node_id"])
PACKETS = {v["name"]: v for v in VECTORS["packets"]}


def test_vector_node_ids_are_the_keys_ids() -> None:
    assert KEY_A.node_id == ID_A and KEY_B.node_id == ID_B


def test_ping_message_packet_vector() -> None:
    vector = PACKETS["ping message packet (flag 0)"]
    data = bytes.fromhex(vector["hex"])
    packet = decode_packet(data, ID_B)
    assert isinstance(packet, Ordinary)
    assert packet.src_id == ID_A and packet.nonce.hex() == vector["nonce"]
    message = open_message(packet, bytes.fromhex(vector["read_key"]))
    assert message == Ping(bytes.fromhex(vector["ping_req_id"]), vector["ping_enr_seq"])
    rebuilt = seal(Ordinary(ID_A, packet.nonce, packet.masking_iv), bytes(16), encode_message(message))
    assert encode_packet(rebuilt, ID_B) == data


def test_whoareyou_packet_vector() -> None:
    vector = PACKETS["WHOAREYOU packet (flag 1)"]
    data = bytes.fromhex(vector["hex"])
    packet = decode_packet(data, ID_B)
    assert isinstance(packet, WhoAreYou)
    assert packet.nonce.hex() == vector["request_nonce"] and packet.id_nonce.hex() == vector["id_nonce"]
    assert packet.enr_seq == vector["enr_seq"]
    assert packet.challenge_data.hex() == vector["challenge_data"]
    assert encode_packet(WhoAreYou(packet.nonce, packet.id_nonce, packet.enr_seq, packet.masking_iv), ID_B) == data


@pytest.mark.parametrize("name", ["ping handshake packet (flag 2)", "ping handshake message packet (flag 2, with ENR)"])
def test_handshake_packet_vectors(name: str) -> None:
    vector: dict[str, Any] = PACKETS[name]
    data = bytes.fromhex(vector["hex"])
    packet = decode_packet(data, ID_B)
    assert isinstance(packet, Handshake)
    assert packet.src_id == ID_A and packet.eph_pubkey.hex() == vector["ephemeral_pubkey"]
    assert (packet.record is not None) == vector["has_record"]
    challenge = bytes.fromhex(vector["challenge_data"])
    # Node B's side: derive the keys from the ephemeral key, check the signature, decrypt.
    keys = derive_keys(ecdh(packet.eph_pubkey, KEY_B.secret), ID_A, ID_B, challenge)
    assert keys.initiator_key.hex() == vector["read_key"]
    id_verify(KEY_A.pubkey, packet.id_signature, challenge, packet.eph_pubkey, ID_B)
    message = open_message(packet, keys.initiator_key)
    assert message == Ping(bytes.fromhex(vector["ping_req_id"]), vector["ping_enr_seq"])
    if packet.record is not None:
        record = ENR.from_rlp(packet.record)
        assert record.node_id == ID_A and record.seq == 1
    # Node A's side: the same inputs rebuild the same bytes (signatures are deterministic, RFC 6979).
    eph = PrivateKey.from_hex(vector["ephemeral_key"])
    eph_pub = compress_pubkey(eph.pubkey)
    assert eph_pub == packet.eph_pubkey
    secret = ecdh(compress_pubkey(KEY_B.pubkey), eph.secret)
    assert derive_keys(secret, ID_A, ID_B, challenge) == keys
    unsealed = Handshake(
        ID_A, packet.nonce, packet.masking_iv, id_sign(KEY_A, challenge, eph_pub, ID_B), eph_pub, packet.record
    )
    assert encode_packet(seal(unsealed, keys.initiator_key, encode_message(message)), ID_B) == data


def test_handshake_signature_over_another_challenge_is_rejected() -> None:
    vector = PACKETS["ping handshake packet (flag 2)"]
    packet = decode_packet(bytes.fromhex(vector["hex"]), ID_B)
    assert isinstance(packet, Handshake)
    other = bytes.fromhex(PACKETS["ping handshake message packet (flag 2, with ENR)"]["challenge_data"])
    with pytest.raises(SignatureError):
        id_verify(KEY_A.pubkey, packet.id_signature, other, packet.eph_pubkey, ID_B)


def test_ecdh_vector() -> None:
    v = VECTORS["ecdh"]
    assert ecdh(bytes.fromhex(v["public_key"]), bytes.fromhex(v["secret_key"])).hex() == v["shared_secret"]


def test_key_derivation_vector() -> None:
    v = VECTORS["key_derivation"]
    secret = ecdh(bytes.fromhex(v["dest_pubkey"]), bytes.fromhex(v["ephemeral_key"]))
    keys = derive_keys(
        secret, bytes.fromhex(v["node_id_a"]), bytes.fromhex(v["node_id_b"]), bytes.fromhex(v["challenge_data"])
    )
    assert (keys.initiator_key.hex(), keys.recipient_key.hex()) == (v["initiator_key"], v["recipient_key"])


def test_id_nonce_signing_vector_both_ways() -> None:
    v = VECTORS["id_nonce_signing"]
    key = PrivateKey.from_hex(v["static_key"])
    args = (bytes.fromhex(v["challenge_data"]), bytes.fromhex(v["ephemeral_pubkey"]), bytes.fromhex(v["node_id_b"]))
    assert id_sign(key, *args).hex() == v["id_signature"]
    id_verify(key.pubkey, bytes.fromhex(v["id_signature"]), *args)


def test_encryption_vector_both_ways() -> None:
    v = {k: bytes.fromhex(x) for k, x in VECTORS["encryption"].items()}
    assert gcm_encrypt(v["encryption_key"], v["nonce"], v["pt"], v["ad"]) == v["message_ciphertext"]
    assert gcm_decrypt(v["encryption_key"], v["nonce"], v["message_ciphertext"], v["ad"]) == v["pt"]
    with pytest.raises(SignatureError):
        gcm_decrypt(v["encryption_key"], v["nonce"], v["message_ciphertext"], v["ad"] + b"\x00")


def test_aes_ctr_is_its_own_inverse() -> None:
    key, iv = bytes(range(16)), bytes(range(16, 32))
    assert aes_ctr(key, iv, aes_ctr(key, iv, b"header bytes")) == b"header bytes"


def _records() -> tuple[bytes, ...]:
    return tuple(
        ENR.create(
            PrivateKey.from_seed(bytes([i])), i + 1, ip=ipaddress.IPv4Address(f"10.0.0.{i + 1}"), udp=9000
        ).to_rlp()
        for i in range(3)
    )


MESSAGES: list[Message] = [
    Ping(b"\x00\x00\x00\x01", 2),
    Ping(b"", 0),
    Pong(b"\x01", 2**64 - 1, ipaddress.IPv4Address("127.0.0.1"), 5000),
    Pong(b"\x01" * 8, 3, ipaddress.IPv6Address("2001:db8::1"), 65535),
    FindNode(b"\x07", (256, 255, 0)),
    FindNode(b"\x07", ()),
    Nodes(b"\x02", 1, ()),
    Nodes(b"\x02", 3, _records()),
    TalkReq(b"\x03", b"portal", b"\x00\x01"),
    TalkResp(b"\x03", b""),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_message_round_trip(message: Message) -> None:
    assert decode_message(encode_message(message)) == message


def test_spec_message_encodings() -> None:
    v = VECTORS["message_encodings"]
    ping, pong, nodes = v["ping"], v["pong"], v["nodes_empty"]
    pong_message = Pong(
        bytes.fromhex(pong["id"]), pong["enr_seq"], ipaddress.ip_address(pong["recipient_ip"]), pong["recipient_port"]
    )
    cases = [
        (Ping(bytes.fromhex(ping["id"]), ping["enr_seq"]), ping["rlp"]),
        (pong_message, pong["rlp"]),
        (Nodes(bytes.fromhex(nodes["id"]), nodes["total"], ()), nodes["rlp"]),
    ]
    for message, expected in cases:
        assert encode_message(message).hex() == expected
        assert decode_message(bytes.fromhex(expected)) == message


def test_packet_round_trip_and_wrong_key() -> None:
    key = bytes(range(16))
    packet = seal(Ordinary(ID_A, b"\x01" * 12, b"\x02" * 16), key, encode_message(FindNode(b"\x09", (256,))))
    decoded = decode_packet(encode_packet(packet, ID_B), ID_B)
    assert decoded == packet
    assert isinstance(decoded, Ordinary)
    with pytest.raises(SignatureError):
        open_message(decoded, bytes(16))
    with pytest.raises(DecodeError, match="protocol-id"):
        decode_packet(encode_packet(packet, ID_B), ID_A)  # masked for someone else


@pytest.mark.parametrize(
    ("data", "match"),
    [(b"\x00" * 62, "too small"), (b"\x00" * 1281, "too large")],
)
def test_size_limits(data: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decode_packet(data, ID_B)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=1400))
def test_arbitrary_bytes_raise_only_decode_errors(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_packet(data, ID_B)


def _valid_header_then(rest: bytes, flag: int) -> bytes:
    """A well-formed masked header for B with arbitrary authdata and message: reaches the deeper parsers."""
    iv = b"\x05" * 16
    header = b"discv5\x00\x01" + bytes([flag]) + b"\x06" * 12 + len(rest).to_bytes(2, "big") + rest
    return iv + aes_ctr(ID_B[:16], iv, header)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 3), st.binary(min_size=0, max_size=400), st.binary(min_size=0, max_size=200))
def test_arbitrary_authdata_and_messages_raise_only_decode_errors(flag: int, authdata: bytes, tail: bytes) -> None:
    data = _valid_header_then(authdata, flag) + tail
    try:
        packet = decode_packet(data, ID_B)
    except DecodeError:
        return
    if isinstance(packet, Ordinary | Handshake):
        with pytest.raises(DecodeError):
            open_message(packet, bytes(16))


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_arbitrary_plaintext_raises_only_decode_errors(plaintext: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_message(plaintext)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.recursive(st.binary(max_size=40), lambda c: st.lists(c, max_size=5), max_leaves=12))
def test_arbitrary_rlp_messages_raise_only_decode_errors(kind: int, item: Any) -> None:
    import rlp

    with contextlib.suppress(DecodeError):
        decode_message(bytes([kind]) + rlp.encode(item))
