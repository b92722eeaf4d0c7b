"""Node identities: keccak256, secp256k1 keys (coincurve), node ids.

A node's public key is carried on the wire as the 64-byte uncompressed point without its 0x04 prefix;
its node id is keccak256 of those 64 bytes.
"""

from __future__ import annotations

import secrets
from typing import NewType

import coincurve
from Crypto.Hash import keccak as _keccak

from monitor.errors import DecodeError, SignatureError

__all__ = [
    "NodeID",
    "PublicKey",
    "PrivateKey",
    "keccak256",
    "node_id",
    "recover_pubkey",
    "verify_compact",
    "compress_pubkey",
    "decompress_pubkey",
    "log_distance",
]

NodeID = NewType("NodeID", bytes)
"""32-byte keccak256 of the 64-byte public key."""

PublicKey = NewType("PublicKey", bytes)
"""64-byte uncompressed secp256k1 point, without the 0x04 prefix."""


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


# A crawl meets each node id in many answers and packets; hashing its key again each time was ~3 % of the crawler's
# CPU. Bounded: cleared when full.
_IDS: dict[bytes, NodeID] = {}
_IDS_MAX = 1 << 17


def node_id(pubkey: PublicKey) -> NodeID:
    known = _IDS.get(pubkey)
    if known is None:
        known = NodeID(keccak256(pubkey))
        if type(pubkey) is bytes:  # hashable and immutable: safe to keep
            if len(_IDS) >= _IDS_MAX:
                _IDS.clear()
            _IDS[pubkey] = known
    return known


def log_distance(a: bytes, b: bytes) -> int:
    """Bit length of ``a XOR b`` (0 when equal, 256 for the farthest ids)."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_length()


def decompress_pubkey(data: bytes) -> PublicKey:
    """Accept a 33-byte compressed, 64-byte raw or 65-byte 0x04-prefixed key; return the 64-byte form."""
    if len(data) == 64:
        data = b"\x04" + data
    try:
        return PublicKey(coincurve.PublicKey(data).format(compressed=False)[1:])
    except (ValueError, TypeError) as err:
        raise DecodeError(f"invalid secp256k1 public key ({len(data)} bytes)") from err


def compress_pubkey(pubkey: PublicKey) -> bytes:
    return coincurve.PublicKey(b"\x04" + pubkey).format(compressed=True)


def recover_pubkey(signature: bytes, msg_hash: bytes) -> PublicKey:
    """Recover the signer of a 65-byte ``r || s || v`` signature (v in {0, 1}) over a 32-byte hash."""
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes, got {len(signature)}")
    try:
        key = coincurve.PublicKey.from_signature_and_message(signature, msg_hash, hasher=None)
    except (ValueError, TypeError, Exception) as err:  # coincurve raises bare Exception on bad recovery
        raise SignatureError("signature does not recover to a public key") from err
    return PublicKey(key.format(compressed=False)[1:])


def verify_compact(pubkey: PublicKey, signature64: bytes, msg_hash: bytes) -> bool:
    """Verify a 64-byte ``r || s`` signature (the ENR "v4" scheme) against a 32-byte hash."""
    if len(signature64) != 64:
        return False
    try:
        der = coincurve.ecdsa.cdata_to_der(coincurve.ecdsa.deserialize_compact(signature64))
        return coincurve.PublicKey(b"\x04" + pubkey).verify(der, msg_hash, hasher=None)
    except Exception:  # malformed point or signature: not valid, never an exception to the caller
        return False


class PrivateKey:
    """A secp256k1 private key with its derived public key and node id (derived once: signing is a hot path)."""

    __slots__ = ("_key", "node_id", "pubkey", "secret")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise ValueError("private key must be 32 bytes")
        self.secret = bytes(secret)
        self._key = coincurve.PrivateKey(self.secret)  # raises ValueError for 0 or >= the curve order
        self.pubkey = PublicKey(self._key.public_key.format(compressed=False)[1:])
        self.node_id = node_id(self.pubkey)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateKey) and other.secret == self.secret

    def __hash__(self) -> int:
        return hash(self.secret)

    def __repr__(self) -> str:
        return f"PrivateKey(node_id={self.node_id.hex()[:16]}...)"  # never the secret

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(coincurve.PrivateKey().secret)

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        """A deterministic key (for devnets and tests): keccak256 of the seed, retried until valid."""
        digest = keccak256(seed)
        while True:
            try:
                return cls(digest)
            except ValueError:
                digest = keccak256(digest)

    @classmethod
    def from_hex(cls, text: str) -> PrivateKey:
        return cls(bytes.fromhex(text.removeprefix("0x")))

    def sign_recoverable(self, msg_hash: bytes) -> bytes:
        """65-byte ``r || s || v`` signature over a 32-byte hash (RFC 6979, deterministic)."""
        signature: bytes = self._key.sign_recoverable(msg_hash, hasher=None)
        return signature

    def sign_compact(self, msg_hash: bytes) -> bytes:
        """64-byte ``r || s`` signature (ENR "v4" identity scheme)."""
        return self.sign_recoverable(msg_hash)[:64]


def random_bytes(n: int) -> bytes:
    return secrets.token_bytes(n)
