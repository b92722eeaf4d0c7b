"""Mainnet consensus fork digests (computed, checked against the digests clients print) and the network verdict."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from monitor.discovery.enr_entries import FAR_FUTURE_EPOCH, ENRForkID
from monitor.discovery.forkdigest import (
    GRACE_SECONDS,
    MAINNET,
    BlobParameters,
    ConsensusConfig,
    Fork,
    compute_fork_data_root,
    consensus_verdict,
)

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "consensus_fork_digests.json").read_text())
POINTS = {p.name: p for p in MAINNET.digest_points()}
FULU = bytes.fromhex("06000000")


def at(name: str, offset: float = 0) -> float:
    """Wall-clock time ``offset`` seconds after the first slot of the named digest point's epoch."""
    return MAINNET.epoch_start(POINTS[name].epoch) + offset


def eth2(digest: str, next_version: str = "06000000", next_epoch: int = FAR_FUTURE_EPOCH) -> ENRForkID:
    return ENRForkID(bytes.fromhex(digest), bytes.fromhex(next_version), next_epoch)


@pytest.mark.parametrize("vec", VECTORS["digests"], ids=lambda v: v["name"])
def test_mainnet_digest_matches_the_published_one(vec: dict[str, Any]) -> None:
    assert MAINNET.fork_digest(vec["epoch"]).hex() == vec["digest"]
    assert MAINNET.fork_digest(vec["epoch"] + 1000).hex() == vec["digest"]  # no two changes are 1000 epochs apart
    point = POINTS[vec["name"]]
    assert (point.epoch, point.version.hex(), point.digest.hex()) == (vec["epoch"], vec["version"], vec["digest"])


def test_schedule_lists_every_digest_change_once_in_order() -> None:
    assert [p.name for p in MAINNET.digest_points()] == [v["name"] for v in VECTORS["digests"]]
    assert MAINNET.genesis_validators_root.hex() == VECTORS["genesis_validators_root"]


def test_pre_genesis_digest_is_the_genesis_version_with_a_zero_root() -> None:
    assert MAINNET.pre_genesis_digest().hex() == VECTORS["pre_genesis_digest"]


def test_digest_changes_exactly_at_each_boundary() -> None:
    points = MAINNET.digest_points()
    for before, after in itertools.pairwise(points):
        assert MAINNET.fork_digest(after.epoch - 1) == before.digest
        assert MAINNET.fork_digest(after.epoch) == after.digest


def test_fork_data_root_is_the_two_chunk_merkle_root() -> None:
    version, root = bytes.fromhex("01020304"), bytes(range(32))
    # hash_tree_root of a two-field container: the fields' chunks are the leaves of a depth-1 tree.
    chunk0 = version + bytes(28)
    assert compute_fork_data_root(version, root) == hashlib.sha256(chunk0 + root).digest()
    with pytest.raises(ValueError):
        compute_fork_data_root(version[:3], root)


def toy_config(blob_schedule: tuple[BlobParameters, ...]) -> ConsensusConfig:
    forks = (Fork("g", 0, bytes(4)), Fork("e", 10, bytes.fromhex("05000000")), Fork("f", 20, FULU))
    return ConsensusConfig("toy", bytes(32), 0, forks, blob_schedule, BlobParameters(10, 9), fulu_epoch=20)


def test_fulu_digest_mixes_the_blob_parameters_in_force() -> None:
    cfg = toy_config((BlobParameters(30, 12),))
    base = compute_fork_data_root(FULU, bytes(32))

    def masked(epoch: int, blobs: int) -> bytes:
        mask = hashlib.sha256(epoch.to_bytes(8, "little") + blobs.to_bytes(8, "little")).digest()
        return bytes(a ^ b for a, b in zip(base[:4], mask[:4], strict=True))

    assert cfg.fork_digest(19) == compute_fork_data_root(bytes.fromhex("05000000"), bytes(32))[:4]
    assert cfg.fork_digest(20) == masked(10, 9)  # Electra's parameters until the first BPO entry
    assert cfg.fork_digest(30) == cfg.fork_digest(99) == masked(30, 12)
    assert [p.name for p in cfg.digest_points()] == ["g", "e", "f", "bpo1"]


def test_blob_entry_at_a_regular_fork_is_that_fork_not_a_bpo() -> None:
    cfg = toy_config((BlobParameters(20, 12), BlobParameters(40, 15)))
    assert [(p.name, p.epoch) for p in cfg.digest_points()] == [("g", 0), ("e", 10), ("f", 20), ("bpo1", 40)]


def test_epoch_at_counts_384_second_epochs_from_genesis() -> None:
    assert MAINNET.epoch_at(MAINNET.genesis_time - 5) == 0
    assert MAINNET.epoch_at(MAINNET.genesis_time + 383) == 0
    assert MAINNET.epoch_at(MAINNET.genesis_time + 384) == 1
    # consensus-specs configs/mainnet.yaml: FULU_FORK_EPOCH 411392 is "December 3, 2025, 09:49:11pm UTC".
    assert MAINNET.epoch_start(411392) == 1764798551


# -- verdicts ------------------------------------------------------------------------------------------------


def test_no_entry_is_unknown() -> None:
    assert consensus_verdict(None, at("bpo2", 86400)) == ("unknown", "no eth2 entry")


def test_current_digest_is_mainnet_and_says_how_the_next_fork_is_announced() -> None:
    verdict, reason = consensus_verdict(eth2("8c9f62fe"), at("bpo2", 86400 * 300))
    assert verdict == "mainnet" and "bpo2" in reason and "no next fork, as scheduled" in reason
    verdict, reason = consensus_verdict(eth2("8c9f62fe", "07000000", 500000), at("bpo2", 86400))
    assert verdict == "mainnet" and "not in our schedule" in reason


def test_before_a_bpo_fork_the_current_digest_should_announce_it() -> None:
    now = at("bpo2", -86400)
    assert consensus_verdict(eth2("cb0d1acc", "06000000", 419072), now) == (
        "mainnet",
        "mainnet bpo1 digest 0xcb0d1acc; next fork bpo2 announced as scheduled",
    )
    verdict, reason = consensus_verdict(eth2("cb0d1acc"), now)
    assert verdict == "mainnet" and "announces no next fork (bpo2 is scheduled at epoch 419072)" in reason


def test_previous_digest_within_grace_counts_only_if_it_announced_the_fork() -> None:
    now = at("bpo2", 600)
    verdict, reason = consensus_verdict(eth2("cb0d1acc", "06000000", 419072), now)
    assert verdict == "mainnet" and "600 s after bpo2" in reason
    verdict, reason = consensus_verdict(eth2("cb0d1acc"), now)
    assert verdict == "other" and "never announced bpo2" in reason


def test_previous_digest_after_grace_is_stale() -> None:
    verdict, reason = consensus_verdict(eth2("cb0d1acc", "06000000", 419072), at("bpo2", GRACE_SECONDS + 1))
    assert verdict == "other" and reason.startswith("stale mainnet digest 0xcb0d1acc (bpo1)")
    assert consensus_verdict(eth2("cb0d1acc", "06000000", 419072), at("bpo2", GRACE_SECONDS))[0] == "mainnet"


def test_next_digest_just_before_its_epoch_is_a_clock_ahead() -> None:
    verdict, reason = consensus_verdict(eth2("8c9f62fe"), at("bpo2", -60))
    assert verdict == "mainnet" and "clock ahead" in reason
    verdict, reason = consensus_verdict(eth2("8c9f62fe"), at("bpo2", -GRACE_SECONDS - 1))
    assert verdict == "other" and reason.startswith("future mainnet digest 0x8c9f62fe (bpo2)")


def test_boundary_second_belongs_to_the_new_digest() -> None:
    assert consensus_verdict(eth2("6a95a1a9"), at("deneb"))[1].startswith("mainnet deneb digest")
    assert consensus_verdict(eth2("bba4da96"), at("deneb", -1))[1].startswith("mainnet capella digest")


def test_older_mainnet_digests_are_stale_and_named() -> None:
    now = at("bpo2", 86400 * 30)
    assert consensus_verdict(eth2("b5303f2a", "01000000", 74240), now)[1].startswith(
        "stale mainnet digest 0xb5303f2a (phase0)"
    )
    assert "(pre-genesis)" in consensus_verdict(eth2("f5a5fd42", "00000000"), now)[1]


def test_foreign_digest_is_other() -> None:
    verdict, reason = consensus_verdict(eth2("deadbeef"), at("bpo2", 86400))
    assert verdict == "other"
    assert "0xdeadbeef is not mainnet's" in reason and "after bpo2" in reason
