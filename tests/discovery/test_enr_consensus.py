"""Consensus-layer ENR entries (eth2, attnets, syncnets, quic, nfd, cgc) and EIP-7636 ``client``: real records,
hand-built ones, malformed values, and the mainnet consensus bootnode list in seeds/."""

from __future__ import annotations

import json
from collections import Counter
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
import rlp

from monitor.discovery.enr import ENR
from monitor.discovery.enr_entries import FAR_FUTURE_EPOCH, ClientEntry, ENRForkID, decode_bitvector, encode_bitvector
from monitor.discovery.forkdigest import MAINNET
from monitor.discovery.network import classify_consensus
from monitor.p2p.keys import PrivateKey, compress_pubkey, keccak256

ROOT = Path(__file__).parent.parent.parent
RECORDS = json.loads((ROOT / "tests" / "vectors" / "consensus_enrs.json").read_text())["records"]
KEY = PrivateKey.from_seed(b"test-enr-consensus")


def with_entries(**entries: Any) -> ENR:
    """A record signed by hand with the given raw entry values (bytes or nested lists), even malformed ones."""
    pairs = [(b"id", b"v4"), (b"ip", bytes([10, 0, 0, 1])), (b"secp256k1", compress_pubkey(KEY.pubkey))]
    flat: list[Any] = [1]
    for k, v in sorted(pairs + [(k.encode(), v) for k, v in entries.items()], key=lambda p: p[0]):
        flat.extend((k, v))
    return ENR.from_rlp(rlp.encode([KEY.sign_compact(keccak256(rlp.encode(flat))), *flat]))


@pytest.mark.parametrize("vec", RECORDS, ids=lambda v: v["name"])
def test_real_record(vec: dict[str, Any]) -> None:
    record = ENR.from_text(vec["text"])
    assert record.ip == IPv4Address(vec["ip"]) and record.udp == vec["udp"]
    if vec["client"] is None:
        assert record.client is None
    else:
        assert record.client == ClientEntry(*vec["client"])
    if vec["eth2"] is None:
        assert record.eth2 is None
    else:
        e = vec["eth2"]
        want = ENRForkID(bytes.fromhex(e["fork_digest"]), bytes.fromhex(e["next_fork_version"]), e["next_fork_epoch"])
        assert record.eth2 == want
    assert record.attnets == (None if vec["attnets"] is None else frozenset(vec["attnets"]))


def test_eip7636_example_renders_as_text() -> None:
    assert ENR.from_text(RECORDS[0]["text"]).fields_text()["client"] == "Nethermind/1.9.53/7fcb567"


def test_eth2_is_little_endian_ssz() -> None:
    raw = bytes.fromhex("8c9f62fe") + bytes.fromhex("07000000") + (0x0102030405060708).to_bytes(8, "little")
    record = with_entries(eth2=raw)
    assert record.eth2 == ENRForkID(bytes.fromhex("8c9f62fe"), bytes.fromhex("07000000"), 0x0102030405060708)
    assert record.fields_text()["eth2"] == "0x8c9f62fe (next 0x07000000 at epoch 72623859790382856)"
    assert record.eth2 is not None and record.eth2.to_ssz() == raw


@pytest.mark.parametrize("raw", [b"", bytes(15), bytes(17), [bytes(16)]], ids=["empty", "15", "17", "list"])
def test_malformed_eth2_reads_as_absent_but_record_stays_valid(raw: Any) -> None:
    record = with_entries(eth2=raw)
    assert record.eth2 is None
    assert record.ip == IPv4Address("10.0.0.1")


def test_attnets_and_syncnets_bit_order() -> None:
    # SSZ bitvectors: bit i lives in byte i // 8 at position i % 8 (least significant first).
    record = with_entries(attnets=bytes([0b0000_0101, 0, 0, 0, 0, 0, 0, 0b1000_0000]), syncnets=bytes([0b1001]))
    assert record.attnets == frozenset({0, 2, 63})
    assert record.syncnets == frozenset({0, 3})
    assert record.fields_text()["attnets"] == "0,2,63"
    assert with_entries(attnets=bytes(8)).fields_text()["attnets"] == "none"


@pytest.mark.parametrize(
    ("key", "raw"),
    [("attnets", bytes(7)), ("attnets", bytes(9)), ("syncnets", bytes([0x10])), ("syncnets", bytes(2))],
    ids=["attnets-short", "attnets-long", "syncnets-padding-bit", "syncnets-long"],
)
def test_malformed_bitvectors_read_as_absent(key: str, raw: bytes) -> None:
    record = with_entries(**{key: raw})
    assert getattr(record, key) is None


def test_bitvector_round_trip() -> None:
    assert decode_bitvector(encode_bitvector({1, 5, 63}, 64), 64) == frozenset({1, 5, 63})
    with pytest.raises(ValueError):
        encode_bitvector({4}, 4)


def test_quic_ports_nfd_and_cgc() -> None:
    record = with_entries(quic=(9001).to_bytes(2, "big"), quic6=(9002).to_bytes(2, "big"), nfd=bytes(4), cgc=b"\x80")
    assert (record.quic, record.quic6) == (9001, 9002)
    assert record.next_fork_digest == bytes(4)
    assert record.custody_group_count == 128
    assert record.fields_text()["quic6"] == "9002" and record.fields_text()["cgc"] == "128"
    assert with_entries(cgc=b"").custody_group_count == 0  # zero is the empty string
    bad = with_entries(quic=bytes(3), nfd=bytes(5), cgc=b"\x00\x01")
    assert (bad.quic, bad.next_fork_digest, bad.custody_group_count) == (None, None, None)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ([b"Geth", b"1.10.0"], ClientEntry("Geth", "1.10.0")),
        ([b"Lighthouse", b"v8.0.0", b"abc", b"future"], ClientEntry("Lighthouse", "v8.0.0", "abc")),
        ([b"Geth"], None),
        (b"Geth/1.10.0", None),  # the EIP's withdrawn first draft used a plain string
        ([b"Gr\xc3\xa9", b"1"], None),  # not ASCII
        ([[b"x"], b"1"], None),
    ],
    ids=["two", "extra-items", "one", "string", "non-ascii", "nested"],
)
def test_client_entry(raw: Any, want: ClientEntry | None) -> None:
    assert with_entries(client=raw).client == want


def test_create_accepts_consensus_values() -> None:
    fork = ENRForkID(MAINNET.fork_digest(419072), bytes.fromhex("06000000"), FAR_FUTURE_EPOCH)
    made = ENR.create(
        KEY, 3, ip=IPv4Address("127.52.0.1"), udp=22000, extra={"eth2": fork, "client": ClientEntry("m", "1")}
    )
    again = ENR.from_text(made.to_text())
    assert again.eth2 == fork and again.client == ClientEntry("m", "1") and again.udp == 22000


def bootnode_lines() -> list[str]:
    text = (ROOT / "seeds" / "consensus-bootnodes.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_consensus_bootnodes_decode_verify_and_carry_only_mainnet_digests() -> None:
    lines = bootnode_lines()
    assert len(lines) >= 10
    known = {p.digest: p.name for p in MAINNET.digest_points()} | {MAINNET.pre_genesis_digest(): "pre-genesis"}
    seen: Counter[str] = Counter()
    for line in lines:
        record = ENR.from_text(line)  # raises on a bad signature or encoding
        assert record.ip is not None and record.udp is not None
        if record.eth2 is None:
            seen["no eth2 entry"] += 1
        else:
            assert record.eth2.fork_digest in known, f"{record.ip}: digest not mainnet's"
            seen[known[record.eth2.fork_digest]] += 1
    # Bootnodes rarely re-sign their records; counted, not failed: most have no entry or a stale digest.
    assert sum(seen.values()) == len(lines)
    assert seen["no eth2 entry"] < len(lines)
    assert len({ENR.from_text(line).node_id for line in lines}) == len(lines)


def test_classify_consensus_reads_the_record() -> None:
    now = MAINNET.epoch_start(419072) + 86400
    current = ENRForkID(MAINNET.fork_digest(419072), bytes.fromhex("06000000"), FAR_FUTURE_EPOCH)
    assert classify_consensus(None, now) == ("unknown", "no ENR")
    assert classify_consensus(with_entries(), now) == ("unknown", "ENR has no eth2 entry")
    assert classify_consensus(with_entries(eth2=bytes(3)), now) == ("unknown", "ENR eth2 entry is malformed")
    assert classify_consensus(with_entries(eth2=current.to_ssz()), now)[0] == "mainnet"
    assert classify_consensus(with_entries(eth2=bytes(16)), now)[0] == "other"
