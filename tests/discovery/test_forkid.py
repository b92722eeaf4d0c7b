"""EIP-2124 fork ids (spec and go-ethereum vectors), the mainnet schedule, and network classification."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
import rlp

from monitor.discovery.enr import ENR
from monitor.discovery.forkid import (
    MAINNET,
    MAINNET_GENESIS_HASH,
    REASON_INCOMPATIBLE,
    REASON_LOCAL_SYNCING,
    REASON_REMOTE_STALE,
    REASON_REMOTE_SYNCING,
    REASON_SAME_FORK,
    ChainConfig,
    Filter,
    ForkId,
    fork_id,
)
from monitor.discovery.network import (
    MERGE_BLOCK,
    MERGE_TIMESTAMP,
    classify_network,
    estimate_mainnet_block,
    mainnet_filter,
)
from monitor.errors import DecodeError
from monitor.p2p.keys import PrivateKey

DATA = json.loads((Path(__file__).parent.parent / "vectors" / "eip2124.json").read_text())
KEY = PrivateKey.from_seed(b"test-forkid")


def config(name: str) -> ChainConfig:
    spec = DATA["configs"][name]
    if spec.get("use") == "monitor.discovery.forkid.MAINNET":
        return MAINNET
    return ChainConfig(name, bytes.fromhex(spec["genesis_hash"]), tuple(spec["block_forks"]), tuple(spec["time_forks"]))


def remote_id(spec: dict[str, Any]) -> ForkId:
    if "extends" in spec:
        checksum = zlib.crc32(spec["with_fork"].to_bytes(8, "big"), int(spec["extends"], 16))
        return ForkId(checksum.to_bytes(4, "big"), spec["next"])
    return ForkId(bytes.fromhex(spec["hash"]), spec["next"])


def case_id(case: dict[str, Any]) -> str:
    return f"{case['config']}-{case['head_block']}-{case['head_time']}"


@pytest.mark.parametrize("case", DATA["creation"], ids=case_id)
def test_fork_id_creation_vectors(case: dict[str, Any]) -> None:
    have = fork_id(config(case["config"]), case["head_block"], case["head_time"])
    assert have == ForkId(bytes.fromhex(case["hash"]), case["next"]), case.get("comment")


@pytest.mark.parametrize("case", DATA["validation"], ids=lambda c: f"{case_id(c)}-{c['remote'].get('hash', 'x')}")
def test_fork_id_validation_vectors(case: dict[str, Any]) -> None:
    filt = Filter(config(case["config"]), case["head_block"], case["head_time"])
    compatible, reason = filt.check(remote_id(case["remote"]))
    if case["error"] is None:
        assert compatible, (reason, case.get("comment"))
    else:
        assert not compatible
        assert reason == case["error"]


@pytest.mark.parametrize("case", DATA["encoding"], ids=lambda c: c["rlp"])
def test_fork_id_rlp_encoding_vectors(case: dict[str, Any]) -> None:
    fid = ForkId(bytes.fromhex(case["hash"]), case["next"])
    assert rlp.encode(fid.to_rlp_item()).hex() == case["rlp"]
    assert ForkId.from_rlp_item(rlp.decode(bytes.fromhex(case["rlp"]))) == fid


def test_vectors_name_their_sources() -> None:
    assert "EIP-2124" in DATA["source"]["eip"] and "forkid_test.go" in DATA["source"]["geth"]
    assert all(c["source"] for c in DATA["creation"] + DATA["validation"] + DATA["encoding"])


def test_mainnet_genesis_checksum_matches_eip_example() -> None:
    # EIP-2124 Specification: forkhash0 = CRC32(genesis hash) = 0xfc64ec04.
    assert zlib.crc32(MAINNET_GENESIS_HASH) == 0xFC64EC04
    assert MAINNET.checksums[0] == 0xFC64EC04


def test_mainnet_schedule_is_deduplicated_and_ordered() -> None:
    assert len(MAINNET.block_forks) == 12  # Constantinople and Petersburg share a block
    assert MAINNET.block_forks[-1] == 15_050_000
    assert MAINNET.time_forks == (1681338455, 1710338135, 1746612311, 1764798551, 1765290071, 1767747671)
    assert len(MAINNET.checksums) == len(MAINNET.forks) + 1


def test_mainnet_fork_id_on_2026_11_27_is_bpo2() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC).timestamp()
    filt = mainnet_filter(now)
    assert filt.local == ForkId(bytes.fromhex("07c9462e"), 0)


def test_time_forks_at_or_before_genesis_are_not_forks() -> None:
    # go-ethereum TestTimeBasedForkInGenesis: time forks active at genesis leave the genesis checksum alone.
    genesis = bytes(range(32))
    for shanghai, cancun in [(999, 1001), (1000, 1001), (1001, 1002)]:
        cfg = ChainConfig("dev", genesis, (), (shanghai, cancun), genesis_time=1000)
        assert fork_id(cfg, 0, 1000) == ForkId(zlib.crc32(genesis).to_bytes(4, "big"), 1001)


@pytest.mark.parametrize(
    ("remote", "reason"),
    [
        (ForkId(bytes.fromhex("07c9462e"), 0), REASON_SAME_FORK),
        (ForkId(bytes.fromhex("c376cf8b"), 1764798551), REASON_REMOTE_SYNCING),  # Prague node, knows Osaka
        (ForkId(bytes.fromhex("fc64ec04"), 1150000), REASON_REMOTE_SYNCING),  # fresh node at genesis
        (ForkId(bytes.fromhex("c376cf8b"), 0), REASON_REMOTE_STALE),  # Prague node that never heard of Osaka
        (ForkId(bytes.fromhex("5167e2a6"), 1765290071), REASON_REMOTE_SYNCING),
        (ForkId(bytes.fromhex("deadbeef"), 0), REASON_INCOMPATIBLE),
    ],
)
def test_mainnet_filter_reasons_today(remote: ForkId, reason: str) -> None:
    assert mainnet_filter(datetime(2026, 11, 27, tzinfo=UTC).timestamp()).check(remote)[1] == reason


def test_local_syncing_reason() -> None:
    assert Filter(MAINNET, 15_050_000, 0).check(ForkId(bytes.fromhex("07c9462e"), 0)) == (True, REASON_LOCAL_SYNCING)


@pytest.mark.parametrize("item", [b"", [b"\x00" * 4], [b"\x00" * 3, b""], [b"\x00" * 4, b"\x00"], [[], b""]])
def test_fork_id_from_bad_rlp_item(item: Any) -> None:
    with pytest.raises(DecodeError):
        ForkId.from_rlp_item(item)


def test_fork_id_rejects_bad_fields() -> None:
    with pytest.raises(ValueError):
        ForkId(b"\x00" * 5, 0)
    with pytest.raises(ValueError):
        ForkId(b"\x00" * 4, 2**64)


def test_head_block_estimate() -> None:
    assert estimate_mainnet_block(MERGE_TIMESTAMP) == MERGE_BLOCK
    assert estimate_mainnet_block(MERGE_TIMESTAMP + 120) == MERGE_BLOCK + 10
    assert estimate_mainnet_block(0) == MERGE_BLOCK  # clamped, never before the Merge
    # Past every block fork, so the estimate's error cannot change the fork id.
    assert estimate_mainnet_block(MERGE_TIMESTAMP) > MAINNET.block_forks[-1]


def test_classify_network_verdicts() -> None:
    filt = mainnet_filter(datetime(2026, 11, 27, tzinfo=UTC).timestamp())
    ip = IPv4Address("192.0.2.1")
    assert classify_network(None, filt) == ("unknown", "no ENR")
    assert classify_network(ENR.create(KEY, 1, ip=ip, udp=1), filt) == ("unknown", "ENR has no eth entry")

    bad = ENR.create(KEY, 1, ip=ip, udp=1, extra={"eth": (b"junk",)})
    assert classify_network(bad, filt) == ("unknown", "ENR eth entry is malformed")

    good = ENR.create(KEY, 1, ip=ip, udp=1, eth=ForkId(bytes.fromhex("07c9462e"), 0))
    verdict, reason = classify_network(good, filt)
    assert verdict == "mainnet"
    assert reason == "fork id 0x07c9462e next=0 compatible (same fork state)"

    stale = ENR.create(KEY, 1, ip=ip, udp=1, eth=ForkId(bytes.fromhex("c376cf8b"), 0))
    assert classify_network(stale, filt) == ("other", "fork id 0xc376cf8b next=0 incompatible: remote stale")

    etc = ENR.create(KEY, 1, ip=ip, udp=1, eth=ForkId(bytes.fromhex("be46d57c"), 0))
    verdict, reason = classify_network(etc, filt)
    assert verdict == "other"
    assert reason.startswith("fork id 0xbe46d57c next=0 incompatible: local incompatible or needs update")
    assert "another chain" in reason
