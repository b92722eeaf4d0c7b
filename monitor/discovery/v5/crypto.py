"""The cryptography of discv5.1 with the "v4" identity scheme (devp2p discv5-theory.md "Handshake Steps").

    secret         = ecdh(dest-pubkey, ephemeral-key)          # 33 bytes: compressed shared point
    prk            = HKDF-Extract(salt=challenge-data, ikm=secret)
    key-data       = HKDF-Expand(prk, "discovery v5 key agreement" || node-id-A || node-id-B, 32)
    initiator-key  = key-data[:16], recipient-key = key-data[16:]
    id-signature   = sign(sha256("discovery v5 identity proof" || challenge-data || ephemeral-pubkey || node-id-B))

AES-128-CTR masks packet headers; AES-128-GCM (16-byte tag appended) encrypts messages. Every failure surfaces as
our own DecodeError (bad key material) or SignatureError (a tag or signature that does not verify).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

import coincurve
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from monitor.errors import DecodeError, SignatureError
from monitor.p2p.keys import PrivateKey, PublicKey, decompress_pubkey, verify_compact

__all__ = [
    "KEY_AGREEMENT_INFO",
    "ID_PROOF_TEXT",
    "SessionKeys",
    "ecdh",
    "derive_keys",
    "id_sign",
    "id_verify",
    "aes_ctr",
    "gcm_encrypt",
    "gcm_decrypt",
]

KEY_AGREEMENT_INFO: Final = b"discovery v5 key agreement"
ID_PROOF_TEXT: Final = b"discovery v5 identity proof"
GCM_TAG_SIZE: Final = 16


@dataclass(frozen=True, slots=True)
class SessionKeys:
    initiator_key: bytes  # the handshake initiator (node A) writes with this one
    recipient_key: bytes  # node B writes with this one


def _point(pubkey: bytes) -> coincurve.PublicKey:
    raw = decompress_pubkey(pubkey)  # accepts 33/64/65-byte forms; DecodeError otherwise
    return coincurve.PublicKey(b"\x04" + raw)


def ecdh(pubkey: bytes, secret: bytes) -> bytes:
    """The 33-byte compressed point ``pubkey * secret`` (the spec's ``y || eph.x``, not a hash of it)."""
    try:
        shared: bytes = _point(pubkey).multiply(secret).format(compressed=True)
    except (ValueError, TypeError) as err:
        raise DecodeError("ECDH failed: invalid private key") from err
    return shared


def derive_keys(shared_secret: bytes, node_id_a: bytes, node_id_b: bytes, challenge_data: bytes) -> SessionKeys:
    """HKDF-SHA256 with the WHOAREYOU challenge as salt; A is the initiator, B sent the challenge."""
    info = KEY_AGREEMENT_INFO + node_id_a + node_id_b
    key_data = HKDF(shared_secret, 32, challenge_data, SHA256, context=info)
    assert isinstance(key_data, bytes)  # num_keys=1 returns a single byte string
    return SessionKeys(key_data[:16], key_data[16:])


def _id_hash(challenge_data: bytes, ephemeral_pubkey: bytes, node_id_b: bytes) -> bytes:
    return hashlib.sha256(ID_PROOF_TEXT + challenge_data + ephemeral_pubkey + node_id_b).digest()


def id_sign(key: PrivateKey, challenge_data: bytes, ephemeral_pubkey: bytes, node_id_b: bytes) -> bytes:
    """64-byte ``r || s`` proof that the initiator holds its static key, bound to this very challenge."""
    return key.sign_compact(_id_hash(challenge_data, ephemeral_pubkey, node_id_b))


def id_verify(
    pubkey: PublicKey, signature: bytes, challenge_data: bytes, ephemeral_pubkey: bytes, node_id_b: bytes
) -> None:
    if not verify_compact(pubkey, signature, _id_hash(challenge_data, ephemeral_pubkey, node_id_b)):
        raise SignatureError("handshake id-signature does not verify")


def aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CTR with a full 16-byte initial counter block (the masking-iv); encrypts and decrypts."""
    cipher = AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=iv)
    out: bytes = cipher.encrypt(data)
    return out


def gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=GCM_TAG_SIZE)
    cipher.update(ad)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return bytes(ciphertext) + bytes(tag)


def gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    """Authenticate and decrypt; a wrong key, nonce or associated data raises SignatureError."""
    if len(ciphertext) < GCM_TAG_SIZE:
        raise DecodeError(f"message of {len(ciphertext)} bytes is shorter than the GCM tag")
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=GCM_TAG_SIZE)
    cipher.update(ad)
    try:
        plaintext: bytes = cipher.decrypt_and_verify(ciphertext[:-GCM_TAG_SIZE], ciphertext[-GCM_TAG_SIZE:])
    except ValueError as err:
        raise SignatureError("message does not authenticate under the session key") from err
    return plaintext
