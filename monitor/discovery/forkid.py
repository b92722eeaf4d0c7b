"""EIP-2124 fork identifiers and the validation filter, with the mainnet fork schedule.

A fork id is ``[FORK_HASH, FORK_NEXT]``: FORK_HASH is the IEEE CRC32 of the genesis hash followed by every fork
activation point already passed (each as an 8-byte big-endian integer, ascending, duplicates once), and FORK_NEXT
the next known activation point or 0. Nodes advertise it in their ENR's ``eth`` entry, which is how a crawler can
tell a mainnet node from another chain without opening an RLPx connection.

Since the Merge, forks activate by block *timestamp* rather than block number. Following go-ethereum's
``core/forkid`` (the de-facto reference, which the EIP text predates), block forks are checksummed first, then
time forks; a fork id's ``next`` is a block number while the head is still before the last block fork and a
timestamp afterwards. Forks active at genesis (block 0, or a time at or before the genesis time) are not forks.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from monitor.errors import DecodeError
from monitor.p2p.rlp import uint_bytes

__all__ = [
    "NetworkVerdict",
    "ForkId",
    "ChainConfig",
    "Filter",
    "MAINNET",
    "MAINNET_GENESIS_HASH",
    "TIMESTAMP_THRESHOLD",
    "REASON_SAME_FORK",
    "REASON_REMOTE_SYNCING",
    "REASON_LOCAL_SYNCING",
    "REASON_REMOTE_STALE",
    "REASON_INCOMPATIBLE",
    "checksum_update",
    "fork_id",
]

NetworkVerdict = Literal["mainnet", "other", "unknown"]
"""Which network a node serves, as judged from a record or a handshake (the snapshot stores the same three words)."""

_UINT64_MAX = 2**64 - 1

# go-ethereum's heuristic to tell a FORK_NEXT timestamp from a block number during the block -> time transition
# (core/forkid timestampThreshold, which it calls the mainnet genesis time: 2015-07-30 15:26:13 UTC). No chain will
# reach that many blocks.
TIMESTAMP_THRESHOLD = 1438269973

REASON_SAME_FORK = "same fork state"
REASON_REMOTE_SYNCING = "remote behind, announces our next fork"
REASON_LOCAL_SYNCING = "remote ahead on our own future forks"
REASON_REMOTE_STALE = "remote stale"
REASON_INCOMPATIBLE = "local incompatible or needs update"


@dataclass(frozen=True, slots=True)
class ForkId:
    """``hash`` is the 4-byte CRC32 checksum; ``next`` the next fork's block number or timestamp (0: none known)."""

    hash: bytes
    next: int

    def __post_init__(self) -> None:
        if len(self.hash) != 4:
            raise ValueError(f"fork hash must be 4 bytes, got {len(self.hash)}")
        if not 0 <= self.next <= _UINT64_MAX:
            raise ValueError(f"fork next out of uint64 range: {self.next}")

    @classmethod
    def from_rlp_item(cls, item: object) -> ForkId:
        """Decode the RLP list ``[hash, next]``; trailing extra items are ignored (forward compatibility)."""
        if not isinstance(item, (list, tuple)) or len(item) < 2:
            raise DecodeError("fork id must be a list [hash, next]")
        raw_hash, raw_next = item[0], item[1]
        if not isinstance(raw_hash, bytes) or len(raw_hash) != 4:
            raise DecodeError("fork hash must be a 4-byte string")
        # RLP integers are canonical: no leading zero bytes, at most 8 bytes for a uint64.
        if not isinstance(raw_next, bytes) or len(raw_next) > 8 or raw_next[:1] == b"\x00":
            raise DecodeError("fork next must be a canonical uint64")
        return cls(raw_hash, int.from_bytes(raw_next, "big"))

    def to_rlp_item(self) -> list[bytes]:
        return [self.hash, uint_bytes(self.next)]

    def __str__(self) -> str:
        return f"0x{self.hash.hex()} next={self.next}"


def checksum_update(checksum: int, fork: int) -> int:
    """Extend a CRC32 with one fork point, as if ``fork`` (8 bytes, big endian) were appended to the input."""
    return zlib.crc32(fork.to_bytes(8, "big"), checksum)


def _normalise(points: Sequence[int], active_at_genesis: int) -> tuple[int, ...]:
    # Forks sharing one activation point are checksummed once; those active at genesis are the genesis ruleset.
    return tuple(sorted({p for p in points if p > active_at_genesis}))


@dataclass(frozen=True, slots=True)
class ChainConfig:
    """A chain's genesis hash and fork schedule; duplicates and genesis-active forks are dropped on creation."""

    name: str
    genesis_hash: bytes
    block_forks: tuple[int, ...]
    time_forks: tuple[int, ...] = ()
    genesis_time: int = 0
    checksums: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.genesis_hash) != 32:
            raise ValueError("genesis hash must be 32 bytes")
        object.__setattr__(self, "block_forks", _normalise(self.block_forks, 0))
        object.__setattr__(self, "time_forks", _normalise(self.time_forks, self.genesis_time))
        sums = [zlib.crc32(self.genesis_hash)]
        for fork in self.forks:
            sums.append(checksum_update(sums[-1], fork))
        object.__setattr__(self, "checksums", tuple(sums))

    @property
    def forks(self) -> tuple[int, ...]:
        """Block forks, then time forks: the order in which they enter the checksum."""
        return self.block_forks + self.time_forks


def _hash_bytes(checksum: int) -> bytes:
    return checksum.to_bytes(4, "big")


def fork_id(config: ChainConfig, head_block: int, head_time: int) -> ForkId:
    """The fork id a node of ``config`` advertises at this head (block number and timestamp)."""
    passed = 0
    for fork in config.block_forks:
        if fork > head_block:
            return ForkId(_hash_bytes(config.checksums[passed]), fork)
        passed += 1
    for fork in config.time_forks:
        if fork > head_time:
            return ForkId(_hash_bytes(config.checksums[passed]), fork)
        passed += 1
    return ForkId(_hash_bytes(config.checksums[passed]), 0)


class Filter:
    """Validates remote fork ids against the local chain at a fixed head, by EIP-2124's rules.

    The head is fixed at construction (a crawl classifies records against one notion of "now"); build a new
    filter to move it.
    """

    __slots__ = ("_head", "_index", "_sums", "config", "head_block", "head_time", "local")

    def __init__(self, config: ChainConfig, head_block: int, head_time: int) -> None:
        self.config = config
        self.head_block = head_block
        self.head_time = head_time
        self.local = fork_id(config, head_block, head_time)
        self._sums = [_hash_bytes(s) for s in config.checksums]
        # The first fork the local head has not passed; index len(forks) is a sentinel that is never passed.
        self._index = next((i for i, f in enumerate(config.forks) if self._head_for(i) < f), len(config.forks))
        self._head = self._head_for(self._index)

    def _head_for(self, index: int) -> int:
        """The head to compare with fork ``index``: block number for block forks, timestamp for time forks."""
        n_block = len(self.config.block_forks)
        if index < n_block or (index == len(self.config.forks) and not self.config.time_forks):
            # A purely block-based chain keeps comparing block numbers even at the sentinel.
            return self.head_block
        return self.head_time

    def check(self, remote: ForkId) -> tuple[bool, str]:
        """``(compatible, reason)``; the reason is one of the ``REASON_*`` constants."""
        forks, sums, index, head = self.config.forks, self._sums, self._index, self._head
        if sums[index] == remote.hash:
            # Rule 1: same fork state. 1a: the remote's announced next fork is already behind us, so our chains
            # diverged there (the second test catches a timestamp `next` while we still count blocks).
            passed_next = remote.next > 0 and (
                head >= remote.next or (remote.next > TIMESTAMP_THRESHOLD and self.head_time >= remote.next)
            )
            return (False, REASON_INCOMPATIBLE) if passed_next else (True, REASON_SAME_FORK)
        # Rule 2: the remote is in one of our past fork states; it must announce the fork that followed it.
        for j in range(index):
            if sums[j] == remote.hash:
                return (True, REASON_REMOTE_SYNCING) if forks[j] == remote.next else (False, REASON_REMOTE_STALE)
        # Rule 3: the remote has passed forks we know but have not reached yet.
        if remote.hash in sums[index + 1 :]:
            return True, REASON_LOCAL_SYNCING
        # Rule 4: no relation to our schedule (another chain, or a fork this configuration does not know).
        return False, REASON_INCOMPATIBLE


MAINNET_GENESIS_HASH = bytes.fromhex("d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")

# Ethereum mainnet, complete as of 2026-11-27. Block forks: go-ethereum params/config.go MainnetChainConfig and
# the EIP-2124 / go-ethereum forkid_test.go mainnet tables. Time forks: go-ethereum PR #33063 ("params: set osaka
# and BPO1 & BPO2 mainnet dates", merged) and MainnetChainConfig's ShanghaiTime..BPO2Time; EIP-7569's activation
# table (Cancun); the execution-specs BPO1/BPO2 fork modules (mainnet 1765290071 fork hash 0xcba2a1c0,
# 1767747671 fork hash 0x07c9462e). Every fork hash is checked against go-ethereum's mainnet vectors in
# tests/vectors/eip2124.json. Not scheduled on mainnet by the latest sources found (2026-09): Glamsterdam
# (EIP-7773; Sepolia 2026-10-06, Hoodi tentative, mainnet "Q4 2026" TBD) and BPO3 (EIP-8138, activation TODO).
# Add them when scheduled: until then, upgraded mainnet nodes are judged incompatible once such a fork activates.
MAINNET = ChainConfig(
    name="mainnet",
    genesis_hash=MAINNET_GENESIS_HASH,
    block_forks=(
        1_150_000,  # Homestead
        1_920_000,  # DAO fork
        2_463_000,  # Tangerine Whistle (EIP-150)
        2_675_000,  # Spurious Dragon (EIP-155/158)
        4_370_000,  # Byzantium
        7_280_000,  # Constantinople and Petersburg (same block, checksummed once)
        9_069_000,  # Istanbul
        9_200_000,  # Muir Glacier
        12_244_000,  # Berlin
        12_965_000,  # London
        13_773_000,  # Arrow Glacier
        15_050_000,  # Gray Glacier (the Merge itself was by total difficulty, not a fork id entry)
    ),
    time_forks=(
        1_681_338_455,  # Shanghai (2023-04-12)
        1_710_338_135,  # Cancun (2024-03-13; EIP-7569)
        1_746_612_311,  # Prague (2025-05-07)
        1_764_798_551,  # Osaka (2025-12-03)
        1_765_290_071,  # BPO1 (2025-12-09; EIP-7892 blob-parameter-only fork)
        1_767_747_671,  # BPO2 (2026-01-07)
    ),
)
