"""Sans-IO codec for discv5.1 packets and messages (devp2p discv5/discv5-wire.md, "Protocol version v5.1").

    packet        = masking-iv || masked-header || message
    masked-header = aesctr_encrypt(dest-id[:16], masking-iv, header)
    header        = static-header || authdata
    static-header = "discv5" || 0x0001 || flag || nonce(12) || authdata-size(2)
    message       = aesgcm_encrypt(key, nonce, message-type || rlp(message-data), masking-iv || header)

Three packet kinds differ by ``flag`` and ``authdata``: an ordinary message (0: src-id), WHOAREYOU (1: id-nonce(16)
|| enr-seq(8), no message) and a handshake message (2: src-id || sig-size || eph-key-size || id-signature ||
eph-pubkey || record). Decoding is split: :func:`decode_packet` unmasks the header (needs only our node id), then
:func:`open_message` decrypts with the session key, which only the session layer knows. Both raise DecodeError (or
its SignatureError child) and nothing else. Messages live in :mod:`monitor.discovery.v5.messages`. Nothing here
touches a socket.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Final, TypeAlias

from monitor.discovery.v5.crypto import aes_ctr, gcm_decrypt, gcm_encrypt
from monitor.discovery.v5.messages import Message, decode_message
from monitor.errors import DecodeError

__all__ = [
    "PROTOCOL_ID",
    "MIN_PACKET_SIZE",
    "MAX_PACKET_SIZE",
    "FLAG_MESSAGE",
    "FLAG_WHOAREYOU",
    "FLAG_HANDSHAKE",
    "Ordinary",
    "WhoAreYou",
    "Handshake",
    "Packet",
    "encode_packet",
    "decode_packet",
    "seal",
    "open_message",
]

PROTOCOL_ID: Final = b"discv5"
VERSION: Final = b"\x00\x01"
MIN_PACKET_SIZE: Final = 63
MAX_PACKET_SIZE: Final = 1280
STATIC_HEADER_SIZE: Final = 23
IV_SIZE: Final = 16
NONCE_SIZE: Final = 12
FLAG_MESSAGE: Final = 0
FLAG_WHOAREYOU: Final = 1
FLAG_HANDSHAKE: Final = 2


# -- packets ----------------------------------------------------------------------------------------------------


def _static_header(flag: int, nonce: bytes, authdata_size: int) -> bytes:
    return PROTOCOL_ID + VERSION + bytes([flag]) + nonce + authdata_size.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class Ordinary:
    """An ordinary message packet; ``message`` is the GCM ciphertext (random bytes to start a handshake)."""

    src_id: bytes
    nonce: bytes
    masking_iv: bytes
    message: bytes = b""
    FLAG: ClassVar[int] = FLAG_MESSAGE

    def authdata(self) -> bytes:
        return self.src_id

    @property
    def ad(self) -> bytes:
        """The message's associated data: masking-iv || unmasked header."""
        return _ad(self)


@dataclass(frozen=True, slots=True)
class WhoAreYou:
    nonce: bytes  # the nonce of the packet that could not be decrypted
    id_nonce: bytes
    enr_seq: int  # the highest seq of the requester's record we know; 0 asks for the record
    masking_iv: bytes
    FLAG: ClassVar[int] = FLAG_WHOAREYOU

    def authdata(self) -> bytes:
        return self.id_nonce + self.enr_seq.to_bytes(8, "big")

    @property
    def challenge_data(self) -> bytes:
        """masking-iv || static-header || authdata: the input to key derivation and the id-signature."""
        return _ad(self)


@dataclass(frozen=True, slots=True)
class Handshake:
    src_id: bytes
    nonce: bytes
    masking_iv: bytes
    id_signature: bytes
    eph_pubkey: bytes  # 33-byte compressed secp256k1 key for the "v4" scheme
    record: bytes | None  # the sender's ENR (RLP) when the WHOAREYOU's enr-seq was stale
    message: bytes = b""
    FLAG: ClassVar[int] = FLAG_HANDSHAKE

    def authdata(self) -> bytes:
        head = self.src_id + bytes([len(self.id_signature), len(self.eph_pubkey)])
        return head + self.id_signature + self.eph_pubkey + (self.record or b"")

    @property
    def ad(self) -> bytes:
        return _ad(self)


Packet: TypeAlias = Ordinary | WhoAreYou | Handshake


def _ad(packet: Packet) -> bytes:
    authdata = packet.authdata()
    return packet.masking_iv + _static_header(packet.FLAG, packet.nonce, len(authdata)) + authdata


def encode_packet(packet: Packet, dest_id: bytes) -> bytes:
    """Mask the header with the destination's id and append the (already sealed) message."""
    header = _ad(packet)[IV_SIZE:]
    message = b"" if isinstance(packet, WhoAreYou) else packet.message
    return packet.masking_iv + aes_ctr(dest_id[:16], packet.masking_iv, header) + message


def seal(packet: Ordinary | Handshake, key: bytes, plaintext: bytes) -> Ordinary | Handshake:
    """Encrypt ``plaintext`` (message-type || message-data) into the packet, bound to its header."""
    return dataclasses.replace(packet, message=gcm_encrypt(key, packet.nonce, plaintext, packet.ad))


def decode_packet(data: bytes, local_id: bytes) -> Packet:
    """Unmask and parse a datagram addressed to ``local_id``. The message stays encrypted."""
    if len(data) < MIN_PACKET_SIZE:
        raise DecodeError(f"packet too small ({len(data)} bytes)")
    if len(data) > MAX_PACKET_SIZE:
        raise DecodeError(f"packet too large ({len(data)} bytes)")
    iv, key = data[:IV_SIZE], local_id[:16]
    static = aes_ctr(key, iv, data[IV_SIZE : IV_SIZE + STATIC_HEADER_SIZE])
    if static[:6] != PROTOCOL_ID:
        raise DecodeError("not a discv5 packet (protocol-id mismatch)")
    if static[6:8] != VERSION:
        raise DecodeError(f"unsupported discv5 version 0x{static[6:8].hex()}")
    flag, nonce = static[8], static[9:21]
    end = IV_SIZE + STATIC_HEADER_SIZE + int.from_bytes(static[21:23], "big")
    if end > len(data):
        raise DecodeError("authdata-size runs past the end of the packet")
    authdata = aes_ctr(key, iv, data[IV_SIZE:end])[STATIC_HEADER_SIZE:]
    message = data[end:]
    if flag == FLAG_MESSAGE:
        if len(authdata) != 32:
            raise DecodeError(f"message authdata must be 32 bytes, got {len(authdata)}")
        return Ordinary(authdata, nonce, iv, message)
    if flag == FLAG_WHOAREYOU:
        if len(authdata) != 24:
            raise DecodeError(f"WHOAREYOU authdata must be 24 bytes, got {len(authdata)}")
        return WhoAreYou(nonce, authdata[:16], int.from_bytes(authdata[16:], "big"), iv)
    if flag == FLAG_HANDSHAKE:
        return _handshake(authdata, nonce, iv, message)
    raise DecodeError(f"unknown packet flag {flag}")


def _handshake(authdata: bytes, nonce: bytes, iv: bytes, message: bytes) -> Handshake:
    if len(authdata) < 34:
        raise DecodeError(f"handshake authdata of {len(authdata)} bytes is shorter than its 34-byte head")
    sig_size, key_size = authdata[32], authdata[33]
    record_at = 34 + sig_size + key_size
    if record_at > len(authdata):
        raise DecodeError("handshake signature and key sizes run past the authdata")
    record = authdata[record_at:]
    return Handshake(
        src_id=authdata[:32],
        nonce=nonce,
        masking_iv=iv,
        id_signature=authdata[34 : 34 + sig_size],
        eph_pubkey=authdata[34 + sig_size : record_at],
        record=record or None,
        message=message,
    )


def open_message(packet: Ordinary | Handshake, key: bytes) -> Message:
    """Authenticate, decrypt and parse the packet's message (SignatureError when the key is wrong)."""
    return decode_message(gcm_decrypt(key, packet.nonce, packet.message, packet.ad))
