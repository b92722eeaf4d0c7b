"""The EIP-8 RLPx handshake vectors: auth and ack in both formats, the derived secrets and ingress MAC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from Crypto.Hash import keccak

from monitor.p2p.keys import PrivateKey
from monitor.rlpx.handshake import Initiator, Recipient, derive_secrets
from monitor.rlpx.messages import HELLO, Hello, decode_p2p

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "eip8_rlpx.json").read_text())
KEY_A = PrivateKey.from_hex(VECTORS["static_key_a"])
KEY_B = PrivateKey.from_hex(VECTORS["static_key_b"])
EPH_A = PrivateKey.from_hex(VECTORS["ephemeral_key_a"])
EPH_B = PrivateKey.from_hex(VECTORS["ephemeral_key_b"])
NONCE_A = bytes.fromhex(VECTORS["nonce_a"])
NONCE_B = bytes.fromhex(VECTORS["nonce_b"])


def _packet(vectors: list[dict[str, Any]], name: str) -> bytes:
    return bytes.fromhex(next(v["hex"] for v in vectors if v["name"] == name))


def _recipient() -> Recipient:
    return Recipient(KEY_B, ephemeral=EPH_B, nonce=NONCE_B)


def _initiator() -> Initiator:
    initiator = Initiator(KEY_A, KEY_B.pubkey, ephemeral=EPH_A, nonce=NONCE_A)
    initiator.auth()
    return initiator


@pytest.mark.parametrize("vector", VECTORS["auth"], ids=[v["name"] for v in VECTORS["auth"]])
def test_auth_vectors_decode(vector: dict[str, Any]) -> None:
    packet = bytes.fromhex(vector["hex"])
    read = _recipient().read_auth(packet)
    assert read is not None
    auth, used = read
    assert used == len(packet)
    assert auth.eip8 is (vector["format"] == "eip8")
    assert auth.version == vector["version"]
    assert auth.pubkey == KEY_A.pubkey
    assert auth.nonce == NONCE_A
    assert auth.ephemeral_pubkey == EPH_A.pubkey


@pytest.mark.parametrize("vector", VECTORS["ack"], ids=[v["name"] for v in VECTORS["ack"]])
def test_ack_vectors_decode(vector: dict[str, Any]) -> None:
    packet = bytes.fromhex(vector["hex"])
    read = _initiator().read_ack(packet)
    assert read is not None
    ack, _secrets, used = read
    assert used == len(packet)
    assert ack.eip8 is (vector["format"] == "eip8")
    assert ack.version == vector["version"]
    assert ack.ephemeral_pubkey == EPH_B.pubkey
    assert ack.nonce == NONCE_B


@pytest.mark.parametrize("vectors", ["auth", "ack"])
def test_packets_arriving_in_pieces_wait_for_the_rest(vectors: str) -> None:
    for vector in VECTORS[vectors]:
        packet = bytes.fromhex(vector["hex"])
        for cut in (0, 1, 2, 100, len(packet) - 1):
            if vectors == "auth":
                assert _recipient().read_auth(packet[:cut]) is None
            else:
                assert _initiator().read_ack(packet[:cut]) is None


def test_secrets_of_auth2_ack2_as_derived_by_b() -> None:
    expected = VECTORS["secrets_auth2_ack2"]
    auth2, ack2 = _packet(VECTORS["auth"], "Auth2"), _packet(VECTORS["ack"], "Ack2")
    secrets = derive_secrets(
        initiator=False,
        ephemeral_secret=EPH_B.secret,
        remote_ephemeral=EPH_A.pubkey,
        local_nonce=NONCE_B,
        remote_nonce=NONCE_A,
        local_packet=ack2,
        remote_packet=auth2,
        remote_pubkey=KEY_A.pubkey,
    )
    assert secrets.aes_secret.hex() == expected["aes_secret"]
    assert secrets.mac_secret.hex() == expected["mac_secret"]
    ingress = keccak.new(digest_bits=256, data=secrets.ingress_mac_seed + b"foo")
    assert ingress.hexdigest() == expected["ingress_mac_foo"]


def test_recipient_reading_auth2_derives_the_same_secrets() -> None:
    expected = VECTORS["secrets_auth2_ack2"]
    recipient = _recipient()
    assert recipient.read_auth(_packet(VECTORS["auth"], "Auth2")) is not None
    _ack, secrets = recipient.ack()
    assert secrets.aes_secret.hex() == expected["aes_secret"]
    assert secrets.mac_secret.hex() == expected["mac_secret"]
    # B's ingress MAC starts from A's auth, which is fixed: the vector holds for B's own (random) ack too.
    assert (
        keccak.new(digest_bits=256, data=secrets.ingress_mac_seed + b"foo").hexdigest() == expected["ingress_mac_foo"]
    )


def test_initiator_reading_ack2_agrees_with_b() -> None:
    expected = VECTORS["secrets_auth2_ack2"]
    read = _initiator().read_ack(_packet(VECTORS["ack"], "Ack2"))
    assert read is not None
    _ack, secrets, _used = read
    assert secrets.aes_secret.hex() == expected["aes_secret"]
    assert secrets.mac_secret.hex() == expected["mac_secret"]


def test_eip8_hello_with_extra_elements() -> None:
    expected = VECTORS["hello"]
    message = decode_p2p(HELLO, bytes.fromhex(expected["hex"]), compressed=False)
    assert isinstance(message, Hello)
    assert message.version == expected["version"]
    assert message.client_id == expected["client_id"]
    assert [str(c) for c in message.capabilities] == expected["capabilities"]
    assert message.listen_port == expected["listen_port"]
    assert message.node_pubkey.hex() == expected["node_pubkey"]
    assert message.rest == ([b"foo", b"bar"], b"\x03", b"\x04")  # extra elements kept, not rejected (EIP-8)
