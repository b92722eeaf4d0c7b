"""Arbitrary bytes from a peer raise only our own errors (RLPxError, a DecodeError), at every decoding layer."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.p2p.keys import PrivateKey
from monitor.rlpx import snappy
from monitor.rlpx.dialer import our_hello
from monitor.rlpx.errors import RLPxError
from monitor.rlpx.eth import decode_status
from monitor.rlpx.frame import FrameCodec
from monitor.rlpx.handshake import Initiator, Recipient
from monitor.rlpx.messages import decode_p2p, split_frame
from monitor.rlpx.session import Session

KEY_A = PrivateKey.from_seed(b"fuzz-a")
KEY_B = PrivateKey.from_seed(b"fuzz-b")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that look like a handshake: a plausible EIP-8 size prefix or the legacy 0x04 point prefix.
handshake_bytes = st.one_of(
    st.binary(max_size=700),
    st.tuples(st.integers(0, 700), st.binary(max_size=700)).map(lambda t: t[0].to_bytes(2, "big") + t[1]),
    st.binary(min_size=300, max_size=320).map(lambda b: b"\x04" + b),
)


@FUZZ
@given(handshake_bytes)
def test_read_ack_raises_only_rlpx_errors(data: bytes) -> None:
    initiator = Initiator(KEY_A, KEY_B.pubkey)
    initiator.auth()
    with contextlib.suppress(RLPxError):
        initiator.read_ack(data)


@FUZZ
@given(handshake_bytes)
def test_read_auth_raises_only_rlpx_errors(data: bytes) -> None:
    with contextlib.suppress(RLPxError):
        Recipient(KEY_B).read_auth(data)


@pytest.fixture(scope="module")
def codec_secrets() -> object:
    initiator, recipient = Initiator(KEY_A, KEY_B.pubkey), Recipient(KEY_B)
    recipient.read_auth(initiator.auth())
    return recipient.ack()[1]


@FUZZ
@given(data=st.binary(max_size=400))
def test_frame_reader_raises_only_rlpx_errors(codec_secrets: object, data: bytes) -> None:
    codec = FrameCodec(codec_secrets, max_frame_size=1024)  # type: ignore[arg-type]
    codec.feed(data)
    try:
        while codec.next_frame() is not None:
            pass
    except RLPxError:
        pass


@FUZZ
@given(st.binary(max_size=300), st.booleans())
def test_message_decoders_raise_only_rlpx_errors(data: bytes, compressed: bool) -> None:
    try:
        msg_id, payload = split_frame(data)
        decode_p2p(msg_id % 4, payload, compressed=compressed)
    except RLPxError:
        pass
    with contextlib.suppress(RLPxError):
        decode_status(data, compressed=compressed)
    with contextlib.suppress(RLPxError):
        snappy.decompress(data)


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=5))
def test_session_raises_only_rlpx_errors(chunks: list[bytes]) -> None:
    session = Session.initiator(KEY_A, KEY_B.pubkey, our_hello(KEY_A))
    session.start()
    try:
        for chunk in chunks:
            session.receive_data(chunk)
    except RLPxError:
        pass


def _established() -> tuple[Session, Session]:
    dialer = Session.initiator(KEY_A, KEY_B.pubkey, our_hello(KEY_A))
    listener = Session.recipient(KEY_B, our_hello(KEY_B))
    listener.receive_data(dialer.start())
    dialer.receive_data(listener.data_to_send())
    listener.receive_data(dialer.data_to_send())
    return dialer, listener


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 0x30), st.binary(max_size=300)), min_size=1, max_size=4))
def test_authentic_frames_with_arbitrary_messages_raise_only_rlpx_errors(frames: list[tuple[int, bytes]]) -> None:
    # Frames that pass the MAC but carry anything: the message layer (Hello, Disconnect, Status, snappy) is exposed.
    dialer, listener = _established()
    for msg_id, payload in frames:
        listener.send_message(msg_id, payload)
    with contextlib.suppress(RLPxError):
        dialer.receive_data(listener.data_to_send())
