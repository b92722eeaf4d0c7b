"""ECIES as RLPx uses it (devp2p rlpx.md, "ECIES Encryption").

    R = r * G                       ephemeral key of the sender, 65 bytes uncompressed on the wire
    S = Px where (Px, Py) = r * K   raw x coordinate of the ECDH point (no hashing, unlike libsecp256k1's default)
    kE || kM = KDF(S, 32)           NIST SP 800-56 concatenation KDF with SHA-256
    ciphertext = R || iv || AES-128-CTR(kE, iv, m) || HMAC-SHA256(sha256(kM), iv || c || shared-mac-data)

EIP-8 handshake packets pass their 2-byte size prefix as ``shared-mac-data``; legacy ones pass nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

import coincurve
from Crypto.Cipher import AES

from monitor.p2p.keys import PublicKey
from monitor.rlpx.errors import HandshakeError

__all__ = ["OVERHEAD", "ecdh_x", "concat_kdf", "encrypt", "decrypt"]

PUBKEY_SIZE: Final = 65
IV_SIZE: Final = 16
TAG_SIZE: Final = 32
OVERHEAD: Final = PUBKEY_SIZE + IV_SIZE + TAG_SIZE  # 113 bytes added to every plaintext


def ecdh_x(secret: bytes, pubkey: PublicKey) -> bytes:
    """The 32-byte x coordinate of ``secret * pubkey`` (raises HandshakeError for an invalid point)."""
    try:
        point = coincurve.PublicKey(b"\x04" + pubkey).multiply(secret)
    except (ValueError, TypeError) as err:
        raise HandshakeError("invalid secp256k1 public key in ECDH") from err
    return point.format(compressed=True)[1:]


def concat_kdf(key_material: bytes, length: int) -> bytes:
    out = b""
    counter = 1
    while len(out) < length:
        out += hashlib.sha256(counter.to_bytes(4, "big") + key_material).digest()
        counter += 1
    return out[:length]


def _keys(shared: bytes) -> tuple[bytes, bytes]:
    key = concat_kdf(shared, 32)
    return key[:16], hashlib.sha256(key[16:]).digest()


def encrypt(
    pubkey: PublicKey,
    plaintext: bytes,
    shared_mac_data: bytes = b"",
    *,
    ephemeral: bytes | None = None,
    iv: bytes | None = None,
) -> bytes:
    """Encrypt to ``pubkey``; ``ephemeral`` and ``iv`` are fixed only by tests (fresh random values otherwise)."""
    r = coincurve.PrivateKey(ephemeral) if ephemeral is not None else coincurve.PrivateKey()
    iv = iv if iv is not None else secrets.token_bytes(IV_SIZE)
    ekey, mkey = _keys(ecdh_x(r.secret, pubkey))
    ciphertext = AES.new(ekey, AES.MODE_CTR, initial_value=iv, nonce=b"").encrypt(plaintext)
    tag = hmac.new(mkey, iv + ciphertext + shared_mac_data, hashlib.sha256).digest()
    return r.public_key.format(compressed=False) + iv + ciphertext + tag


def decrypt(secret: bytes, data: bytes, shared_mac_data: bytes = b"") -> bytes:
    """Decrypt a message addressed to ``secret``; raise HandshakeError unless it authenticates."""
    if len(data) < OVERHEAD or data[0] != 0x04:
        raise HandshakeError(f"not an ECIES message ({len(data)} bytes)")
    iv = data[PUBKEY_SIZE : PUBKEY_SIZE + IV_SIZE]
    ciphertext = data[PUBKEY_SIZE + IV_SIZE : -TAG_SIZE]
    ekey, mkey = _keys(ecdh_x(secret, PublicKey(data[1:PUBKEY_SIZE])))
    expected = hmac.new(mkey, iv + ciphertext + shared_mac_data, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, data[-TAG_SIZE:]):
        raise HandshakeError("ECIES message tag does not verify")
    return AES.new(ekey, AES.MODE_CTR, initial_value=iv, nonce=b"").decrypt(ciphertext)
