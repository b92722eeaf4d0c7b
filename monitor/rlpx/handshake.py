"""Sans-IO RLPx auth/ack handshake and secrets derivation (devp2p rlpx.md; EIP-8).

    auth-body (EIP-8) = rlp.list(sig, initiator-pubk, initiator-nonce, auth-vsn, ...) || random padding
    auth-packet       = auth-size || ecies.encrypt(recipient-pubk, auth-body, auth-size)
    ack-body  (EIP-8) = rlp.list(recipient-ephemeral-pubk, recipient-nonce, ack-vsn, ...) || random padding
    sig               = sign(ephemeral-privk, static-shared-secret ^ initiator-nonce)

We always send EIP-8 packets and accept the legacy fixed-size ones (307-byte auth, 210-byte ack), as EIP-8 asks.
A packet's format is told the way EIP-8 suggests: a buffer starting with 0x04 is first tried as a legacy packet,
anything else is read as a 2-byte size prefix. Functions take buffers and return how many bytes they consumed.
"""

from __future__ import annotations

import functools
import secrets as _secrets
from dataclasses import dataclass
from typing import Any, Final

import coincurve
import rlp

from monitor.errors import SignatureError
from monitor.p2p.keys import PrivateKey, PublicKey, keccak256, recover_pubkey
from monitor.rlpx import ecies
from monitor.rlpx.errors import HandshakeError

__all__ = [
    "AUTH_VERSION",
    "MAX_HANDSHAKE_SIZE",
    "LEGACY_AUTH_SIZE",
    "LEGACY_ACK_SIZE",
    "Auth",
    "Ack",
    "Secrets",
    "derive_secrets",
    "static_pubkey",
    "Initiator",
    "Recipient",
]

AUTH_VERSION: Final = 4
LEGACY_AUTH_SIZE: Final = 194 + ecies.OVERHEAD  # 307
LEGACY_ACK_SIZE: Final = 97 + ecies.OVERHEAD  # 210
# Real auth/ack packets are ~400-700 bytes (EIP-8 padding included). A larger size prefix means the peer is not
# speaking RLPx (an HTTP server answers "HT" = 18,516): fail at once instead of waiting for bytes that never come.
MAX_HANDSHAKE_SIZE: Final = 2048
_PADDING_RANGE: Final = (100, 250)  # EIP-8: at least 100 bytes of junk, a random amount varies the size


@dataclass(frozen=True, slots=True)
class Auth:
    """A decoded auth body; ``ephemeral_pubkey`` is recovered from the signature."""

    signature: bytes
    pubkey: PublicKey
    nonce: bytes
    version: int
    ephemeral_pubkey: PublicKey
    eip8: bool


@dataclass(frozen=True, slots=True)
class Ack:
    ephemeral_pubkey: PublicKey
    nonce: bytes
    version: int
    eip8: bool


@dataclass(frozen=True, slots=True)
class Secrets:
    """Session secrets of one side. The MAC seeds initialise the egress / ingress keccak256 running states."""

    remote_pubkey: PublicKey
    aes_secret: bytes
    mac_secret: bytes
    egress_mac_seed: bytes
    ingress_mac_seed: bytes


@functools.lru_cache(maxsize=64)
def static_pubkey(key: PrivateKey) -> PublicKey:
    """``key.pubkey``, computed once: a crawler dials thousands of peers with one key (keys.py derives it anew)."""
    return key.pubkey


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def derive_secrets(
    *,
    initiator: bool,
    ephemeral_secret: bytes,
    remote_ephemeral: PublicKey,
    local_nonce: bytes,
    remote_nonce: bytes,
    local_packet: bytes,
    remote_packet: bytes,
    remote_pubkey: PublicKey,
) -> Secrets:
    """rlpx.md "Secrets": both sides hash the nonces in the order (recipient-nonce, initiator-nonce)."""
    ephemeral_shared = ecies.ecdh_x(ephemeral_secret, remote_ephemeral)
    nonces = remote_nonce + local_nonce if initiator else local_nonce + remote_nonce
    shared_secret = keccak256(ephemeral_shared + keccak256(nonces))
    aes_secret = keccak256(ephemeral_shared + shared_secret)
    mac_secret = keccak256(ephemeral_shared + aes_secret)
    return Secrets(
        remote_pubkey=remote_pubkey,
        aes_secret=aes_secret,
        mac_secret=mac_secret,
        egress_mac_seed=_xor(mac_secret, remote_nonce) + local_packet,
        ingress_mac_seed=_xor(mac_secret, local_nonce) + remote_packet,
    )


def _split_packet(buf: bytes, legacy_size: int, secret: bytes) -> tuple[bytes, bytes, bool] | None:
    """``(plaintext, packet, eip8)`` for the first handshake packet in ``buf``, or None if more bytes are needed."""
    if len(buf) < 2:
        return None
    if buf[0] == 0x04:
        # Either a legacy packet (ECIES starts with the 0x04 point prefix) or an EIP-8 one of >= 1,024 bytes.
        if len(buf) < legacy_size:
            return None
        try:
            return ecies.decrypt(secret, buf[:legacy_size]), buf[:legacy_size], False
        except HandshakeError:
            pass
    size = int.from_bytes(buf[:2], "big")
    if size < ecies.OVERHEAD:
        raise HandshakeError(f"handshake packet size {size} is below the ECIES overhead")
    if size > MAX_HANDSHAKE_SIZE:
        raise HandshakeError(f"handshake packet size {size} exceeds {MAX_HANDSHAKE_SIZE}")
    if len(buf) < size + 2:
        return None
    packet = buf[: size + 2]
    return ecies.decrypt(secret, packet[2:], packet[:2]), packet, True


def _rlp_items(plaintext: bytes, min_items: int) -> list[Any]:
    try:
        items = rlp.decode(plaintext, strict=False)  # strict=False: the padding after the list is ignored
    except (rlp.exceptions.RLPException, ValueError) as err:
        raise HandshakeError("handshake body is not RLP") from err
    if not isinstance(items, list) or len(items) < min_items:
        raise HandshakeError("handshake body is not a list of the expected size")
    return items


def _blob(item: Any, size: int, what: str) -> bytes:
    if not isinstance(item, bytes) or len(item) != size:
        raise HandshakeError(f"{what} must be {size} bytes")
    return item


def _version(item: Any) -> int:
    if not isinstance(item, bytes) or len(item) > 8:
        raise HandshakeError("handshake version must be a small integer")
    return int.from_bytes(item, "big")


def _pad(padding: bytes | None) -> bytes:
    if padding is not None:
        return padding
    low, high = _PADDING_RANGE
    return _secrets.token_bytes(low + _secrets.randbelow(high - low + 1))


def _eip8_packet(remote: PublicKey, body: bytes) -> bytes:
    prefix = (len(body) + ecies.OVERHEAD).to_bytes(2, "big")
    return prefix + ecies.encrypt(remote, body, prefix)


class Initiator:
    """The dialing side: ``auth()`` makes the first packet, ``read_ack(buf)`` finishes the handshake."""

    def __init__(
        self, key: PrivateKey, remote: PublicKey, *, ephemeral: PrivateKey | None = None, nonce: bytes | None = None
    ) -> None:
        self.key = key
        self.remote = remote
        # One coincurve key object for the ephemeral key: it signs once and never needs its public key in EIP-8.
        self._ephemeral = coincurve.PrivateKey(ephemeral.secret if ephemeral is not None else None)
        self.nonce = nonce if nonce is not None else _secrets.token_bytes(32)
        self.auth_packet = b""

    def auth(self, *, eip8: bool = True, padding: bytes | None = None) -> bytes:
        static_shared = ecies.ecdh_x(self.key.secret, self.remote)
        sig = self._ephemeral.sign_recoverable(_xor(static_shared, self.nonce), hasher=None)
        pubkey = static_pubkey(self.key)
        if eip8:
            body = rlp.encode([sig, pubkey, self.nonce, AUTH_VERSION]) + _pad(padding)
            self.auth_packet = _eip8_packet(self.remote, body)
        else:
            ephemeral_pubkey = self._ephemeral.public_key.format(compressed=False)[1:]
            body = sig + keccak256(ephemeral_pubkey) + pubkey + self.nonce + b"\x00"
            self.auth_packet = ecies.encrypt(self.remote, body)
        return self.auth_packet

    def read_ack(self, buf: bytes) -> tuple[Ack, Secrets, int] | None:
        """``(ack, secrets, bytes consumed)``, or None until ``buf`` holds the whole ack."""
        if not self.auth_packet:
            raise RuntimeError("auth() must be called before read_ack()")
        split = _split_packet(buf, LEGACY_ACK_SIZE, self.key.secret)
        if split is None:
            return None
        plaintext, packet, eip8 = split
        if eip8:
            items = _rlp_items(plaintext, 2)
            eph, nonce = _blob(items[0], 64, "ephemeral key"), _blob(items[1], 32, "nonce")
            version = _version(items[2]) if len(items) > 2 else 0
        else:
            eph, nonce, version = plaintext[:64], plaintext[64:96], AUTH_VERSION
        ack = Ack(PublicKey(eph), nonce, version, eip8)
        secrets = derive_secrets(
            initiator=True,
            ephemeral_secret=self._ephemeral.secret,
            remote_ephemeral=ack.ephemeral_pubkey,
            local_nonce=self.nonce,
            remote_nonce=ack.nonce,
            local_packet=self.auth_packet,
            remote_packet=packet,
            remote_pubkey=self.remote,
        )
        return ack, secrets, len(packet)


class Recipient:
    """The listening side: ``read_auth(buf)`` then ``ack()`` (used by tests and local test servers)."""

    def __init__(self, key: PrivateKey, *, ephemeral: PrivateKey | None = None, nonce: bytes | None = None) -> None:
        self.key = key
        self.ephemeral = ephemeral if ephemeral is not None else PrivateKey.generate()
        self.nonce = nonce if nonce is not None else _secrets.token_bytes(32)
        self.auth: Auth | None = None
        self.auth_packet = b""

    def read_auth(self, buf: bytes) -> tuple[Auth, int] | None:
        split = _split_packet(buf, LEGACY_AUTH_SIZE, self.key.secret)
        if split is None:
            return None
        plaintext, packet, eip8 = split
        if eip8:
            items = _rlp_items(plaintext, 3)
            sig, pubkey = _blob(items[0], 65, "signature"), _blob(items[1], 64, "public key")
            nonce = _blob(items[2], 32, "nonce")
            version = _version(items[3]) if len(items) > 3 else 0
        else:
            sig, pubkey, nonce, version = plaintext[:65], plaintext[97:161], plaintext[161:193], AUTH_VERSION
        static_shared = ecies.ecdh_x(self.key.secret, PublicKey(pubkey))
        try:
            ephemeral = recover_pubkey(sig, _xor(static_shared, nonce))
        except SignatureError as err:
            raise HandshakeError("auth signature does not recover") from err
        if not eip8 and keccak256(ephemeral) != plaintext[65:97]:
            raise HandshakeError("legacy auth: ephemeral key hash mismatch")
        self.auth = Auth(sig, PublicKey(pubkey), nonce, version, ephemeral, eip8)
        self.auth_packet = packet
        return self.auth, len(packet)

    def ack(self, *, eip8: bool | None = None, padding: bytes | None = None) -> tuple[bytes, Secrets]:
        """The ack packet (EIP-8 if the auth was, unless told) and this side's secrets."""
        if self.auth is None:
            raise RuntimeError("read_auth() must succeed before ack()")
        auth = self.auth
        if eip8 if eip8 is not None else auth.eip8:
            body = rlp.encode([self.ephemeral.pubkey, self.nonce, AUTH_VERSION]) + _pad(padding)
            packet = _eip8_packet(auth.pubkey, body)
        else:
            packet = ecies.encrypt(auth.pubkey, self.ephemeral.pubkey + self.nonce + b"\x00")
        secrets = derive_secrets(
            initiator=False,
            ephemeral_secret=self.ephemeral.secret,
            remote_ephemeral=auth.ephemeral_pubkey,
            local_nonce=self.nonce,
            remote_nonce=auth.nonce,
            local_packet=packet,
            remote_packet=self.auth_packet,
            remote_pubkey=auth.pubkey,
        )
        return packet, secrets
