"""Values of the consensus-layer ENR entries and of the EIP-7636 ``client`` entry, with their codecs.

- ``eth2``: SSZ ``ENRForkID`` = ``fork_digest`` (Bytes4) ++ ``next_fork_version`` (Bytes4) ++ ``next_fork_epoch``
  (uint64, little endian): 16 bytes (consensus-specs phase0 p2p-interface.md "eth2 field"; Fulu changed how the
  values are computed, not the layout).
- ``attnets`` / ``syncnets``: SSZ ``Bitvector[64]`` / ``Bitvector[4]``; bit ``i`` is bit ``i % 8`` of byte
  ``i // 8`` and the unused high bits of the last byte must be zero (SSZ bitvector serialization).
- ``nfd`` (Fulu): SSZ Bytes4, the next fork's digest (zeros when no fork is scheduled).
- ``cgc`` (Fulu): custody group count, a big-endian integer without leading zeros.
- ``client`` (EIP-7636): the RLP list ``[name, version, (build)]`` of ASCII strings.

Decoders return ``None`` for malformed values rather than raising: a record stays valid whatever its extra
entries hold (EIP-778), and a crawler only wants what it can read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ENRForkID",
    "ClientEntry",
    "FAR_FUTURE_EPOCH",
    "ATTNETS_BITS",
    "SYNCNETS_BITS",
    "decode_bitvector",
    "encode_bitvector",
]

FAR_FUTURE_EPOCH = 2**64 - 1
ATTNETS_BITS = 64  # ATTESTATION_SUBNET_COUNT (configs/mainnet.yaml)
SYNCNETS_BITS = 4  # SYNC_COMMITTEE_SUBNET_COUNT (altair preset)


@dataclass(frozen=True, slots=True)
class ENRForkID:
    """The ``eth2`` entry: the node's current fork digest and the next fork it knows of."""

    fork_digest: bytes
    next_fork_version: bytes
    next_fork_epoch: int

    SIZE = 16

    def __post_init__(self) -> None:
        if len(self.fork_digest) != 4 or len(self.next_fork_version) != 4:
            raise ValueError("fork digest and next fork version are 4 bytes each")
        if not 0 <= self.next_fork_epoch <= FAR_FUTURE_EPOCH:
            raise ValueError(f"next fork epoch out of uint64 range: {self.next_fork_epoch}")

    @classmethod
    def from_ssz(cls, data: bytes) -> ENRForkID | None:
        """Decode the 16-byte SSZ container; anything of another length is not an ``ENRForkID``."""
        if len(data) != cls.SIZE:
            return None
        return cls(bytes(data[:4]), bytes(data[4:8]), int.from_bytes(data[8:], "little"))

    def to_ssz(self) -> bytes:
        return self.fork_digest + self.next_fork_version + self.next_fork_epoch.to_bytes(8, "little")

    @property
    def announces_next_fork(self) -> bool:
        return self.next_fork_epoch != FAR_FUTURE_EPOCH

    def __str__(self) -> str:
        nxt = f"epoch {self.next_fork_epoch}" if self.announces_next_fork else "none"
        return f"0x{self.fork_digest.hex()} (next 0x{self.next_fork_version.hex()} at {nxt})"


@dataclass(frozen=True, slots=True)
class ClientEntry:
    """EIP-7636 ``client``: software name, version and an optional build (commit) string."""

    name: str
    version: str
    build: str | None = None

    @classmethod
    def from_rlp_item(cls, item: object) -> ClientEntry | None:
        """``[name, version, (build)]``; later items are ignored so that an extended list still reads."""
        if not isinstance(item, (list, tuple)) or len(item) < 2:
            return None
        texts: list[str] = []
        for raw in item[:3]:
            if not isinstance(raw, bytes) or not raw.isascii():
                return None
            texts.append(raw.decode("ascii"))
        return cls(texts[0], texts[1], texts[2] if len(texts) > 2 else None)

    def to_rlp_item(self) -> tuple[bytes, ...]:
        parts = [self.name, self.version] + ([self.build] if self.build is not None else [])
        if not all(p.isascii() for p in parts):
            raise ValueError("EIP-7636 client strings must be ASCII")
        return tuple(p.encode("ascii") for p in parts)

    def __str__(self) -> str:
        return "/".join(p for p in (self.name, self.version, self.build) if p is not None)


def decode_bitvector(raw: bytes, bits: int) -> frozenset[int] | None:
    """The set indices of an SSZ ``Bitvector[bits]``, or None if the length or the padding bits are wrong."""
    if len(raw) != (bits + 7) // 8:
        return None
    value = int.from_bytes(raw, "little")  # little-endian bytes, low bit first: bit i is bit i of the integer
    if value >> bits:
        return None
    return frozenset(i for i in range(bits) if value >> i & 1)


def encode_bitvector(indices: Iterable[int], bits: int) -> bytes:
    value = 0
    for i in indices:
        if not 0 <= i < bits:
            raise ValueError(f"bit {i} outside Bitvector[{bits}]")
        value |= 1 << i
    return value.to_bytes((bits + 7) // 8, "little")
