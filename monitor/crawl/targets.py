"""FINDNODE targets that land in a chosen bucket of a chosen peer.

A FINDNODE names a 64-byte target; the peer answers with its nodes closest to keccak256(target). To read bucket
``d`` of a peer whose id is P, the target's hash must share P's first ``256 - d`` bits and differ in the next
one. Searching for such a preimage per peer and bucket would cost up to 2^17 hashes; instead we keep one
preimage for every 16-bit hash prefix (the known trick from Nebula and the EF crawler, done our own way): the
table is 65,536 small counters, shipped as data and checked by the tests. Buckets 256..241 are then hit
exactly; for 240 and 239 (geth's deepest, nearly always sparse) the target shares 16 bits and lands at
distance <= 240.
"""

from __future__ import annotations

import argparse
import logging
import sys
from array import array
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from monitor.p2p.keys import keccak256

__all__ = ["PREFIX_BITS", "preimage", "target_for", "generate_table", "load_table"]

log = logging.getLogger(__name__)

PREFIX_BITS: Final = 16
_TABLE_FILE: Final = "findnode_targets.u32"


def preimage(counter: int) -> bytes:
    """The 64-byte target for a table counter.

    The target itself looks random (two keccak256 outputs), not just its hash: peers such as
    @ethereumjs/devp2p measure distance on the raw 64 bytes, and targets sharing 60 zero bytes would all look
    the same to them, always returning the same 16 nodes of a larger table.
    """
    seed = counter.to_bytes(4, "big")
    return keccak256(seed) + keccak256(seed + b"\x01")


def generate_table(bits: int = PREFIX_BITS) -> array[int]:
    """Smallest counter whose target hash starts with each ``bits``-bit prefix (~15 s for 16 bits, run once)."""
    size = 1 << bits
    table = array("I", [0xFFFFFFFF]) * size
    missing = size
    counter = 0
    shift = 256 - bits
    while missing:
        prefix = int.from_bytes(keccak256(preimage(counter)), "big") >> shift
        if table[prefix] == 0xFFFFFFFF:
            table[prefix] = counter
            missing -= 1
        counter += 1
    return table


@cache
def load_table() -> array[int]:
    data = resources.files("monitor.crawl").joinpath(_TABLE_FILE).read_bytes()
    table = array("I")
    table.frombytes(data)
    if sys.byteorder != "little":
        table.byteswap()
    if len(table) != 1 << PREFIX_BITS:
        raise ValueError(f"{_TABLE_FILE}: expected {1 << PREFIX_BITS} entries, found {len(table)}")
    return table


def target_for(peer_id: bytes, distance: int) -> bytes:
    """A 64-byte FINDNODE target whose hash lies at ``distance`` (241..256 exactly) from ``peer_id``."""
    if not 1 <= distance <= 256:
        raise ValueError("distance must be in 1..256")
    pid = int.from_bytes(peer_id, "big")
    flip_bit = distance - 1  # bit index (from the least significant end) where the hash must differ
    wanted = pid ^ (1 << flip_bit)
    prefix = wanted >> (256 - PREFIX_BITS)
    if distance <= 256 - PREFIX_BITS:
        # The differing bit is below the prefix: keep P's prefix, and the bit decides nothing we can control.
        prefix = pid >> (256 - PREFIX_BITS)
    return preimage(load_table()[prefix])


def _main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate the FINDNODE target table")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    table = generate_table()
    if sys.byteorder != "little":
        table.byteswap()
    args.out.write_bytes(table.tobytes())


if __name__ == "__main__":
    _main()
