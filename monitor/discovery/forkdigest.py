"""Consensus-layer fork digests of Ethereum mainnet, computed from its fork schedule, and a network verdict on an
ENR ``eth2`` entry.

A consensus node advertises ``eth2 = ENRForkID(fork_digest, next_fork_version, next_fork_epoch)``. The digest is
the first 4 bytes of ``compute_fork_data_root(version, genesis_validators_root)`` (phase0 beacon-chain.md), the SSZ
``hash_tree_root`` of ``ForkData(current_version: Bytes4, genesis_validators_root: Root)``: two 32-byte chunks, the
version right-padded with zeros, hashed once with SHA-256. From Fulu on (EIP-7892, fulu/beacon-chain.md "Modified
compute_fork_digest") that root is XORed with ``sha256(uint64_le(blob_params.epoch) ++ uint64_le(max_blobs))`` of
the blob parameters in force, so every blob-parameter-only (BPO) fork changes the digest without a new version.

Facts and their sources (the schedule is data; every digest is computed):
- genesis_validators_root 0x4b363db9...bfe95 and genesis_time 1606824023: eth-clients/mainnet README.md.
- fork versions and epochs, phase0 to Fulu (FULU_FORK_EPOCH 411392, version 0x06000000), BLOB_SCHEDULE
  (epoch 412672: 15 blobs; epoch 419072: 21 blobs) and MAX_BLOBS_PER_BLOCK_ELECTRA 9: consensus-specs
  configs/mainnet.yaml (eth-clients/mainnet metadata/config.yaml carries the same fork epochs).
- before the first BPO entry the blob parameters are Electra's (ELECTRA_FORK_EPOCH, MAX_BLOBS_PER_BLOCK_ELECTRA):
  fulu/beacon-chain.md ``get_blob_parameters``.
- SECONDS_PER_SLOT 12, SLOTS_PER_EPOCH 32: mainnet config and preset.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from monitor.discovery.enr_entries import FAR_FUTURE_EPOCH, ENRForkID
from monitor.discovery.forkid import NetworkVerdict

__all__ = [
    "MAINNET",
    "MAINNET_GENESIS_VALIDATORS_ROOT",
    "MAINNET_GENESIS_TIME",
    "GRACE_SECONDS",
    "Fork",
    "BlobParameters",
    "DigestPoint",
    "ConsensusConfig",
    "compute_fork_data_root",
    "consensus_verdict",
]

MAINNET_GENESIS_VALIDATORS_ROOT = bytes.fromhex("4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95")
MAINNET_GENESIS_TIME = 1606824023
SECONDS_PER_SLOT = 12
SLOTS_PER_EPOCH = 32
EPOCH_SECONDS = SECONDS_PER_SLOT * SLOTS_PER_EPOCH

# How long around a digest change the neighbouring digest still counts as mainnet. Clients switch their ENR at the
# fork epoch, but a crawler reads records relayed through other nodes' tables (refreshed lazily) and a crawl lasts
# minutes to an hour; a node whose clock runs a little ahead switches early.
GRACE_SECONDS = 3600


def compute_fork_data_root(version: bytes, genesis_validators_root: bytes) -> bytes:
    """``hash_tree_root(ForkData(version, root))``: two leaf chunks, so one SHA-256 of their concatenation."""
    if len(version) != 4 or len(genesis_validators_root) != 32:
        raise ValueError("version is 4 bytes and genesis_validators_root 32")
    return hashlib.sha256(version + b"\x00" * 28 + genesis_validators_root).digest()


@dataclass(frozen=True, slots=True)
class Fork:
    name: str
    epoch: int
    version: bytes


@dataclass(frozen=True, slots=True)
class BlobParameters:
    epoch: int
    max_blobs_per_block: int

    def mask(self) -> bytes:
        return hashlib.sha256(
            self.epoch.to_bytes(8, "little") + self.max_blobs_per_block.to_bytes(8, "little")
        ).digest()


@dataclass(frozen=True, slots=True)
class DigestPoint:
    """An epoch at which the fork digest changes: a regular fork or a BPO fork (same version, new blob limit)."""

    name: str
    epoch: int
    version: bytes
    digest: bytes


@dataclass(frozen=True, slots=True)
class ConsensusConfig:
    """The parts of a consensus network config that decide its fork digests."""

    name: str
    genesis_validators_root: bytes
    genesis_time: int
    forks: tuple[Fork, ...]  # ascending epochs, the genesis fork first at epoch 0
    blob_schedule: tuple[BlobParameters, ...]  # ascending epochs, all at or after the Fulu fork
    default_blobs: BlobParameters  # Electra's (fork epoch, MAX_BLOBS_PER_BLOCK_ELECTRA)
    fulu_epoch: int

    def fork_at(self, epoch: int) -> Fork:
        return [f for f in self.forks if f.epoch <= epoch][-1]

    def blob_parameters(self, epoch: int) -> BlobParameters:
        passed = [b for b in self.blob_schedule if b.epoch <= epoch]
        return passed[-1] if passed else self.default_blobs

    def fork_digest(self, epoch: int) -> bytes:
        """``compute_fork_digest(genesis_validators_root, epoch)`` as Fulu defines it (plain before Fulu)."""
        base = compute_fork_data_root(self.fork_at(epoch).version, self.genesis_validators_root)
        if epoch < self.fulu_epoch:
            return base[:4]
        mask = self.blob_parameters(epoch).mask()
        return bytes(a ^ b for a, b in zip(base[:4], mask[:4], strict=True))

    def digest_points(self) -> tuple[DigestPoint, ...]:
        """Every digest change in order; BPO forks are named bpo1, bpo2, ... as the configs' comments call them."""
        return _digest_points(self)

    def _compute_points(self) -> tuple[DigestPoint, ...]:
        epochs = {f.epoch: f.name for f in self.forks}
        bpo = 0
        for entry in self.blob_schedule:
            if entry.epoch not in epochs:
                bpo += 1
                epochs[entry.epoch] = f"bpo{bpo}"
        return tuple(
            DigestPoint(name, epoch, self.fork_at(epoch).version, self.fork_digest(epoch))
            for epoch, name in sorted(epochs.items())
        )

    def pre_genesis_digest(self) -> bytes:
        """What bootnode ENRs carry before genesis: the genesis version with a zero root (phase0 p2p-interface)."""
        return compute_fork_data_root(self.forks[0].version, b"\x00" * 32)[:4]

    def epoch_at(self, now: float) -> int:
        return max(0, int(now - self.genesis_time) // EPOCH_SECONDS)

    def epoch_start(self, epoch: int) -> int:
        return self.genesis_time + epoch * EPOCH_SECONDS


@functools.cache
def _digest_points(config: ConsensusConfig) -> tuple[DigestPoint, ...]:
    # A crawl judges every record against the same schedule: hash it once per config, not once per node.
    return config._compute_points()


def _v(hex4: str) -> bytes:
    return bytes.fromhex(hex4)


MAINNET = ConsensusConfig(
    name="mainnet",
    genesis_validators_root=MAINNET_GENESIS_VALIDATORS_ROOT,
    genesis_time=MAINNET_GENESIS_TIME,
    forks=(
        Fork("phase0", 0, _v("00000000")),
        Fork("altair", 74240, _v("01000000")),
        Fork("bellatrix", 144896, _v("02000000")),
        Fork("capella", 194048, _v("03000000")),
        Fork("deneb", 269568, _v("04000000")),
        Fork("electra", 364032, _v("05000000")),
        Fork("fulu", 411392, _v("06000000")),
    ),
    blob_schedule=(BlobParameters(412672, 15), BlobParameters(419072, 21)),
    default_blobs=BlobParameters(364032, 9),
    fulu_epoch=411392,
)


def _known_name(digest: bytes, points: tuple[DigestPoint, ...], config: ConsensusConfig) -> str | None:
    for p in points:
        if p.digest == digest:
            return p.name
    return "pre-genesis" if digest == config.pre_genesis_digest() else None


def _next_note(eth2: ENRForkID, current: DigestPoint, nxt: DigestPoint | None) -> str:
    """How the node's announced next fork compares with the schedule (informative: peers may still connect)."""
    want_epoch, want_version = (nxt.epoch, nxt.version) if nxt else (FAR_FUTURE_EPOCH, current.version)
    if (eth2.next_fork_epoch, eth2.next_fork_version) == (want_epoch, want_version):
        return f"next fork {nxt.name} announced as scheduled" if nxt else "no next fork, as scheduled"
    if not eth2.announces_next_fork:
        return f"announces no next fork ({nxt.name} is scheduled at epoch {want_epoch})" if nxt else "no next fork"
    return f"announces next fork 0x{eth2.next_fork_version.hex()} at epoch {eth2.next_fork_epoch}, not in our schedule"


def consensus_verdict(
    eth2: ENRForkID | None, now: float, config: ConsensusConfig = MAINNET, grace: float = GRACE_SECONDS
) -> tuple[NetworkVerdict, str]:
    """``(verdict, reason)`` for an ``eth2`` entry seen at wall-clock ``now`` (UNIX seconds).

    ``mainnet``: the digest is the one in force at ``now``; or the previous one within ``grace`` seconds after the
    change, from a node that had announced that change in its next-fork fields; or the next one within ``grace``
    before it (a clock slightly ahead). ``other``: any other digest, the reason naming a stale or future mainnet
    fork when it is one. ``unknown``: no entry.
    """
    if eth2 is None:
        return "unknown", "no eth2 entry"
    points = config.digest_points()
    i = max(j for j, p in enumerate(points) if p.epoch <= config.epoch_at(now))
    current, prev = points[i], points[i - 1] if i else None
    nxt = points[i + 1] if i + 1 < len(points) else None
    digest = eth2.fork_digest
    if digest == current.digest:
        return "mainnet", f"{config.name} {current.name} digest 0x{digest.hex()}; {_next_note(eth2, current, nxt)}"
    since = now - config.epoch_start(current.epoch)
    if prev is not None and digest == prev.digest and since <= grace:
        if (eth2.next_fork_epoch, eth2.next_fork_version) == (current.epoch, current.version):
            return "mainnet", f"{config.name} {prev.name} digest {since:.0f} s after {current.name}, which it announced"
        return "other", f"stuck on {config.name} {prev.name} digest: never announced {current.name}"
    if nxt is not None and digest == nxt.digest and config.epoch_start(nxt.epoch) - now <= grace:
        return "mainnet", f"{config.name} {nxt.name} digest shortly before its epoch (clock ahead)"
    name = _known_name(digest, points, config)
    if name is None:
        last = points[-1].name
        why = f"another network, or a {config.name} fork after {last} this tool does not know"
        return "other", f"digest 0x{digest.hex()} is not {config.name}'s ({why})"
    when = "future" if any(p.name == name and p.epoch > current.epoch for p in points) else "stale"
    return "other", f"{when} {config.name} digest 0x{digest.hex()} ({name}); {current.name} is in force"
