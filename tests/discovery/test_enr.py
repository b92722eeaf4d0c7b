"""EIP-778 node records: the spec vector, round trips, and every way a record can be malformed."""

from __future__ import annotations

import base64
import contextlib
import json
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.discovery.enr import ENR
from monitor.discovery.forkid import ForkId
from monitor.errors import DecodeError, SignatureError
from monitor.p2p.keys import PrivateKey, compress_pubkey, keccak256

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "enr.json").read_text())["vectors"]
KEY = PrivateKey.from_seed(b"test-enr")


def signed_raw(key: PrivateKey, seq: int, pairs: list[tuple[bytes, Any]], *, keep_order: bool = False) -> bytes:
    """Encode and sign a record by hand, so tests can build records our builder would refuse."""
    flat: list[Any] = [seq]
    for k, v in pairs if keep_order else sorted(pairs, key=lambda p: p[0]):
        flat.extend((k, v))
    signature = key.sign_compact(keccak256(rlp.encode(flat)))
    return rlp.encode([signature, *flat])


def base_pairs(key: PrivateKey = KEY) -> list[tuple[bytes, Any]]:
    return [(b"id", b"v4"), (b"ip", bytes([10, 0, 0, 1])), (b"secp256k1", compress_pubkey(key.pubkey))]


def to_text(raw: bytes) -> str:
    return "enr:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: v["name"])
def test_spec_vector_decodes(vec: dict[str, Any]) -> None:
    record = ENR.from_text(vec["text"])
    key = PrivateKey.from_hex(vec["private_key"])
    assert record.seq == vec["seq"]
    assert record.ip == IPv4Address(vec["ip"])
    assert record.udp == vec["udp"]
    assert record.tcp is None and record.ip6 is None and record.eth_fork_id is None
    assert record.identity_scheme == "v4"
    assert record.signature.hex() == vec["signature"]
    assert record.get("secp256k1") == bytes.fromhex(vec["secp256k1"])
    assert record.pubkey == key.pubkey
    assert record.node_id.hex() == vec["node_id"]
    assert record.fields_text() == {"id": "v4", "ip": "127.0.0.1", "secp256k1": "0x" + vec["secp256k1"], "udp": "30303"}


@pytest.mark.parametrize("vec", VECTORS, ids=lambda v: v["name"])
def test_spec_vector_round_trips_and_signs_identically(vec: dict[str, Any]) -> None:
    record = ENR.from_text(vec["text"])
    assert record.to_text() == vec["text"]
    assert ENR.from_rlp(record.to_rlp()) == record
    # RFC 6979 signatures are deterministic, so our builder reproduces the published record exactly.
    key = PrivateKey.from_hex(vec["private_key"])
    built = ENR.create(key, vec["seq"], ip=IPv4Address(vec["ip"]), udp=vec["udp"])
    assert built.to_text() == vec["text"]


def test_create_with_all_fields_round_trips() -> None:
    fid = ForkId(bytes.fromhex("07c9462e"), 0)
    record = ENR.create(
        KEY,
        7,
        ip=IPv4Address("203.0.113.5"),
        udp=30303,
        tcp=30304,
        ip6=IPv6Address("2001:db8::1"),
        udp6=30305,
        tcp6=30306,
        eth=fid,
        extra={"snap": (), b"zz": 5},
    )
    again = ENR.from_text(record.to_text())
    assert again == record
    assert (again.seq, again.ip, again.udp, again.tcp) == (7, IPv4Address("203.0.113.5"), 30303, 30304)
    assert (again.ip6, again.udp6, again.tcp6) == (IPv6Address("2001:db8::1"), 30305, 30306)
    assert again.eth_fork_id == fid
    assert again.node_id == KEY.node_id
    text = again.fields_text()
    assert text["eth"] == "0x07c9462e next=0"
    assert text["ip6"] == "2001:db8::1"
    assert text["snap"] == "[]"
    assert text["zz"] == "0x05"


def test_eth_entry_tolerates_trailing_items() -> None:
    eth = [[bytes.fromhex("07c9462e"), b"", b"future"], b"more", [b"x"]]
    record = ENR.from_rlp(signed_raw(KEY, 1, [*base_pairs(), (b"eth", eth)]))
    assert record.eth_fork_id == ForkId(bytes.fromhex("07c9462e"), 0)


@pytest.mark.parametrize(
    "eth",
    [b"\x01\x02", [], [b"notalist"], [[b"\x01\x02\x03", b""]], [[bytes(4), b"\x00\x01"]], [[bytes(4), bytes(9)]]],
)
def test_malformed_eth_entry_is_none_not_an_error(eth: Any) -> None:
    record = ENR.from_rlp(signed_raw(KEY, 1, [*base_pairs(), (b"eth", eth)]))
    assert record.eth_fork_id is None
    assert record.fields_text()["eth"].startswith(("0x", "["))


def test_malformed_well_known_values_read_as_none() -> None:
    pairs = [*base_pairs()[:1], (b"ip", b"\x01\x02\x03"), (b"secp256k1", compress_pubkey(KEY.pubkey))]
    pairs += [(b"tcp", b"\x00\x10"), (b"udp", b"\x01\x00\x00")]
    record = ENR.from_rlp(signed_raw(KEY, 1, pairs))
    assert (record.ip, record.tcp, record.udp) == (None, None, None)
    assert record.fields_text()["udp"] == "0x010000"


def test_tampered_signature_is_rejected() -> None:
    raw = bytearray(ENR.create(KEY, 1, udp=1).to_rlp())
    raw[5] ^= 0x01  # inside the 64-byte signature; the length prefixes are untouched
    with pytest.raises(SignatureError):
        ENR.from_rlp(bytes(raw))


def test_tampered_content_is_rejected() -> None:
    good = ENR.create(KEY, 1, ip=IPv4Address("10.0.0.1"), udp=30303)
    forged = ENR(
        seq=good.seq,
        pairs=tuple((k, b"\x76\x60" if k == b"udp" else v) for k, v in good.pairs),
        signature=good.signature,
    )
    with pytest.raises(SignatureError):
        ENR.from_rlp(forged.to_rlp())


def test_signature_by_another_key_is_rejected() -> None:
    other = PrivateKey.from_seed(b"someone else")
    flat: list[Any] = [1]
    for k, v in base_pairs(KEY):
        flat.extend((k, v))
    raw = rlp.encode([other.sign_compact(keccak256(rlp.encode(flat))), *flat])
    with pytest.raises(SignatureError):
        ENR.from_rlp(raw)


def test_record_over_300_bytes_is_rejected() -> None:
    raw = signed_raw(KEY, 1, [*base_pairs(), (b"zpad", b"\xaa" * 200)])
    assert len(raw) > 300
    with pytest.raises(DecodeError, match="300"):
        ENR.from_rlp(raw)
    with pytest.raises(DecodeError, match="300"):
        ENR.from_text(to_text(raw))
    with pytest.raises(ValueError, match="300"):
        ENR.create(KEY, 1, extra={"zpad": b"\xaa" * 200})


def test_record_of_exactly_300_bytes_is_accepted() -> None:
    sizes = {n: signed_raw(KEY, 1, [*base_pairs(), (b"zpad", b"\xaa" * n)]) for n in range(150, 220)}
    raw = next(r for r in sizes.values() if len(r) == 300)
    assert ENR.from_rlp(raw).get("zpad") is not None


def test_unsorted_keys_are_rejected() -> None:
    pairs = base_pairs()
    pairs[0], pairs[1] = pairs[1], pairs[0]
    with pytest.raises(DecodeError, match="sorted"):
        ENR.from_rlp(signed_raw(KEY, 1, pairs, keep_order=True))


def test_duplicate_keys_are_rejected() -> None:
    pairs = [*base_pairs(), (b"udp", b"\x01"), (b"udp", b"\x02")]
    with pytest.raises(DecodeError, match="unique"):
        ENR.from_rlp(signed_raw(KEY, 1, pairs))


def test_direct_construction_enforces_key_order() -> None:
    with pytest.raises(ValueError):
        ENR(seq=1, pairs=((b"b", b""), (b"a", b"")), signature=b"")


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (rlp.encode(b"just bytes"), "list"),
        (rlp.encode([b"sig"]), "pairs"),
        (rlp.encode([b"s" * 64, 1, b"id"]), "pairs"),
        (rlp.encode([b"s" * 64, b"\x00\x01", b"id", b"v4"]), "seq"),
        (rlp.encode([b"s" * 64, b"\x01" * 9, b"id", b"v4"]), "seq"),
        (rlp.encode([[b"sig"], 1, b"id", b"v4"]), "signature"),
        (rlp.encode([b"s" * 64, 1, [b"k"], b"v"]), "keys"),
        (rlp.encode([b"s" * 64, 1, b"ip", b"\x01\x02\x03\x04"]), "identity scheme"),
        (rlp.encode([b"s" * 64, 1, b"id", b"v5"]), "unsupported"),
        (rlp.encode([b"s" * 64, 1, b"id", b"v4"]), "secp256k1"),
        (rlp.encode([b"s" * 64, 1, b"id", b"v4", b"secp256k1", b"\x02" + b"\xff" * 32]), "public key"),
        (rlp.encode([b"s" * 64, 1, b"id", b"v4"]) + b"\x00", "RLP"),
        (b"\xf8", "RLP"),
        (b"", "RLP"),
    ],
)
def test_malformed_records_raise_decode_error(raw: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        ENR.from_rlp(raw)


@pytest.mark.parametrize("text", ["", "enr", "enode://abc", "enr:!!!!", "enr:a", "enr:abc+/", "enr:é", "ENR:-IS4"])
def test_malformed_text_raises_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        ENR.from_text(text)


def test_text_with_padding_is_tolerated() -> None:
    record = ENR.create(KEY, 3, udp=9)
    text = record.to_text()
    padded = text + "=" * (-(len(text) - 4) % 4)
    assert ENR.from_text(padded) == record


@given(st.binary(max_size=400))
@settings(max_examples=300)
def test_from_rlp_on_arbitrary_bytes_raises_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        ENR.from_rlp(data)


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_from_text_on_arbitrary_text_raises_only_decode_error(text: str) -> None:
    for candidate in (text, "enr:" + text):
        with contextlib.suppress(DecodeError):
            ENR.from_text(candidate)


rlp_items = st.recursive(st.binary(max_size=40), lambda inner: st.lists(inner, max_size=5), max_leaves=20)


@given(st.lists(rlp_items, max_size=10), st.booleans())
@settings(max_examples=300)
def test_from_rlp_on_arbitrary_rlp_lists_raises_only_decode_error(items: list[Any], with_key: bool) -> None:
    # Well-formed RLP reaches the structural and signature checks that random bytes rarely get past.
    if with_key:
        items = [b"s" * 64, 1, b"id", b"v4", b"secp256k1", compress_pubkey(KEY.pubkey), *items]
    with contextlib.suppress(DecodeError):
        ENR.from_rlp(rlp.encode(items))
