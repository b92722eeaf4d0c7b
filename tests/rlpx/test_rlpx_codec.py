"""Round trips of every RLPx codec layer: ECIES, handshake, frames, snappy, p2p messages, eth Status."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.discovery.forkid import MAINNET, MAINNET_GENESIS_HASH, Filter, ForkId, fork_id
from monitor.p2p.keys import PrivateKey
from monitor.rlpx import ecies, snappy
from monitor.rlpx.errors import FrameError, HandshakeError, MessageError
from monitor.rlpx.eth import ETH68, ETH69, Status, decode_status, encode_status, negotiate, status_verdict
from monitor.rlpx.frame import FrameCodec
from monitor.rlpx.handshake import Initiator, Recipient, Secrets
from monitor.rlpx.messages import (
    DISCONNECT,
    Capability,
    Disconnect,
    DisconnectReason,
    Hello,
    Ping,
    Pong,
    decode_p2p,
    encode_p2p,
    join_frame,
    split_frame,
)

KEY_A = PrivateKey.from_seed(b"rlpx-test-a")
KEY_B = PrivateKey.from_seed(b"rlpx-test-b")


def _handshake(eip8: bool = True) -> tuple[Secrets, Secrets]:
    initiator, recipient = Initiator(KEY_A, KEY_B.pubkey), Recipient(KEY_B)
    read = recipient.read_auth(initiator.auth(eip8=eip8))
    assert read is not None
    ack_packet, b_secrets = recipient.ack()
    got = initiator.read_ack(ack_packet)
    assert got is not None
    return got[1], b_secrets


def test_ecies_round_trip_and_tamper() -> None:
    sealed = ecies.encrypt(KEY_B.pubkey, b"hello", b"\x01\x02")
    assert len(sealed) == 5 + ecies.OVERHEAD
    assert ecies.decrypt(KEY_B.secret, sealed, b"\x01\x02") == b"hello"
    with pytest.raises(HandshakeError):
        ecies.decrypt(KEY_B.secret, sealed, b"\x01\x03")  # shared-mac-data is authenticated
    with pytest.raises(HandshakeError):
        ecies.decrypt(KEY_A.secret, sealed, b"\x01\x02")
    with pytest.raises(HandshakeError):
        ecies.decrypt(KEY_B.secret, sealed[:-1] + bytes([sealed[-1] ^ 1]), b"\x01\x02")


def test_concat_kdf_spans_several_blocks() -> None:
    assert len(ecies.concat_kdf(b"x", 80)) == 80
    assert ecies.concat_kdf(b"x", 80)[:32] == ecies.concat_kdf(b"x", 32)


@pytest.mark.parametrize("eip8", [True, False], ids=["eip8", "legacy"])
def test_handshake_round_trip_gives_mirrored_secrets(eip8: bool) -> None:
    a, b = _handshake(eip8)
    assert (a.aes_secret, a.mac_secret) == (b.aes_secret, b.mac_secret)
    assert a.egress_mac_seed == b.ingress_mac_seed and a.ingress_mac_seed == b.egress_mac_seed
    assert a.remote_pubkey == KEY_B.pubkey and b.remote_pubkey == KEY_A.pubkey


def test_ack_encrypted_to_another_key_is_a_handshake_error() -> None:
    initiator = Initiator(KEY_A, KEY_B.pubkey)
    initiator.auth()
    recipient = Recipient(KEY_B)
    other = PrivateKey.from_seed(b"someone else")
    assert recipient.read_auth(Initiator(other, KEY_B.pubkey).auth()) is not None
    ack, _ = recipient.ack()  # encrypted to `other`, not to A
    with pytest.raises(HandshakeError):
        initiator.read_ack(ack)


def test_eip8_size_below_ecies_overhead_is_rejected() -> None:
    initiator = Initiator(KEY_A, KEY_B.pubkey)
    initiator.auth()
    with pytest.raises(HandshakeError, match="overhead"):
        initiator.read_ack(b"\x00\x10" + bytes(16))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=6), st.integers(1, 97))
def test_frames_round_trip_in_any_chunking(messages: list[bytes], chunk: int) -> None:
    a, b = _handshake()
    sender, receiver = FrameCodec(a), FrameCodec(b)
    stream = b"".join(sender.encode(m) for m in messages)
    got = []
    for i in range(0, len(stream), chunk):
        receiver.feed(stream[i : i + chunk])
        while (frame := receiver.next_frame()) is not None:
            got.append(frame)
    assert got == messages
    # and the other direction, whose MAC and AES streams are independent
    back = FrameCodec(b).encode(b"pong")
    codec_a = FrameCodec(a)
    codec_a.feed(back)
    assert codec_a.next_frame() == b"pong"


def test_frame_tampering_and_oversize_are_frame_errors() -> None:
    a, b = _handshake()
    frame = FrameCodec(a).encode(b"x" * 40)
    for index in (0, 20, 40, len(frame) - 1):
        receiver = FrameCodec(b)
        receiver.feed(frame[:index] + bytes([frame[index] ^ 0x80]) + frame[index + 1 :])
        with pytest.raises(FrameError):
            receiver.next_frame()
    small = FrameCodec(b, max_frame_size=16)
    small.feed(frame)
    with pytest.raises(FrameError, match="exceeds"):
        small.next_frame()


# Outputs of snappyjs 0.7.0 (the compressor @ethereumjs/devp2p uses), decoded by ours.
SNAPPYJS = [
    (b"", "00"),
    (b"a", "010061"),
    (b"a" * 106, "6a0061fe0100a20100"),
    (
        b"Wikipedia is a free, web-based, collaborative, multilingual encyclopedia project. "
        b"Wikipedia Wikipedia is a free encyclopedia",
        "7cf04257696b697065646961206973206120667265652c207765622d62617365642c20636f6c6c61626f7261746976652c206d756c"
        "74696c696e6775616c20656e6379636c6f093f2c70726f6a6563742e2057696b0d52190a155c3020656e6379636c6f7065646961",
    ),
    (
        b"abcdefghabcdefghabcdefghabcdefgh0123456789" * 40,
        "900d1c61626364656667685e080024303132333435363738395e22001118" + "fe2a00" * 25 + "092a",
    ),
]


@pytest.mark.parametrize(("plain", "compressed"), SNAPPYJS, ids=range(len(SNAPPYJS)))
def test_snappy_reads_snappyjs_output(plain: bytes, compressed: str) -> None:
    assert snappy.decompress(bytes.fromhex(compressed)) == plain


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=5000), st.lists(st.sampled_from([b"ab", b"abcd", b"\x00" * 7]), max_size=400).map(b"".join)
    )
)
def test_snappy_round_trip(data: bytes) -> None:
    assert snappy.decompress(snappy.compress(data)) == data


def test_snappy_compresses_repetitive_data_and_bounds_output() -> None:
    data = b"\x00" * 10_000
    packed = snappy.compress(data)
    assert len(packed) < 600
    with pytest.raises(MessageError, match="exceeds"):
        snappy.decompress(packed, max_length=9_999)
    with pytest.raises(MessageError):
        snappy.decompress(packed[:-1])


HELLO = Hello(5, "Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2", (ETH68, ETH69), 30303, KEY_A.pubkey)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("message", [HELLO, Disconnect(4), Disconnect(0x42), Ping(), Pong()], ids=repr)
def test_p2p_round_trip(message: Hello | Disconnect | Ping | Pong, compress: bool) -> None:
    msg_id, payload = split_frame(encode_p2p(message, compress=compress))
    assert decode_p2p(msg_id, payload, compressed=compress) == message


def test_disconnect_shapes_and_labels() -> None:
    # [reason], a bare reason, an empty payload; compressed or not, whatever was negotiated.
    for payload in (b"\xc1\x04", b"\x04", snappy.compress(b"\xc1\x04"), snappy.compress(b"\x04")):
        for compressed in (True, False):
            assert decode_p2p(DISCONNECT, payload, compressed=compressed) == Disconnect(4)
    assert decode_p2p(DISCONNECT, b"", compressed=False) == Disconnect(0)
    assert Disconnect(4).label == "too_many_peers" and Disconnect(4).reason is DisconnectReason.TOO_MANY_PEERS
    assert Disconnect(0x42).label == "unknown" and Disconnect(0x42).reason is None


def test_message_ids_are_rlp_integers() -> None:
    assert split_frame(join_frame(0, b"x")) == (0, b"x")
    assert split_frame(join_frame(0x10, b"")) == (0x10, b"")
    assert split_frame(join_frame(0x1234, b"y")) == (0x1234, b"y")
    for bad in (b"", b"\x81\x00", b"\x82\x01"):
        with pytest.raises(MessageError):
            split_frame(bad)


STATUS68 = Status(68, 1, MAINNET_GENESIS_HASH, ForkId(bytes.fromhex("07c9462e"), 0), b"\x11" * 32, 58750 * 10**18)
STATUS69 = Status(69, 1, MAINNET_GENESIS_HASH, ForkId(bytes.fromhex("cba2a1c0"), 1767747671), b"\x22" * 32, None, 0, 21)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("status", [STATUS68, STATUS69], ids=["eth68", "eth69"])
def test_status_round_trip(status: Status, compress: bool) -> None:
    assert decode_status(encode_status(status, compress=compress), compressed=compress) == status


def test_negotiate_picks_highest_common_version_and_offsets() -> None:
    ours = (ETH68, ETH69, Capability("snap", 1))
    assert negotiate(ours, (ETH68,)) == {"eth": (ETH68, 0x10)}
    assert negotiate(ours, (ETH68, ETH69, Capability("les", 4))) == {"eth": (ETH69, 0x10)}
    assert negotiate(ours, (ETH68, Capability("snap", 1))) == {
        "eth": (ETH68, 0x10),
        "snap": (Capability("snap", 1), 0x21),
    }
    assert negotiate(ours, (Capability("eth", 66),)) == {}


def test_status_verdict() -> None:
    head_time = 1_770_000_000  # after BPO2 (2026-01-07)
    filt = Filter(MAINNET, head_block=24_000_000, head_time=head_time)
    current = fork_id(MAINNET, 24_000_000, head_time)
    verdict, reason = status_verdict(Status(68, 1, MAINNET_GENESIS_HASH, current, b"\x00" * 32, 0), filt)
    assert verdict == "mainnet" and "verified" in reason
    assert status_verdict(Status(68, 61, MAINNET_GENESIS_HASH, current, b"\x00" * 32, 0), filt)[0] == "other"
    assert status_verdict(Status(68, 1, b"\x01" * 32, current, b"\x00" * 32, 0), filt)[0] == "other"
    stale = Status(68, 1, MAINNET_GENESIS_HASH, ForkId(bytes.fromhex("c376cf8b"), 0), b"\x00" * 32, 0)
    verdict, reason = status_verdict(stale, filt)  # Prague without announcing Osaka: stale
    assert verdict == "other" and "incompatible" in reason
