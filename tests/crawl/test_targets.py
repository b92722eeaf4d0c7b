"""The shipped FINDNODE target table: each entry's hash has its prefix; targets hit the asked-for bucket."""

from __future__ import annotations

import random

from monitor.crawl.targets import PREFIX_BITS, load_table, preimage, target_for
from monitor.p2p.keys import keccak256, log_distance


def test_table_entries_hash_to_their_prefix() -> None:
    table = load_table()
    assert len(table) == 1 << PREFIX_BITS
    rng = random.Random(3)
    for prefix in [0, 1, len(table) - 1, *rng.sample(range(len(table)), 2000)]:
        digest = keccak256(preimage(table[prefix]))
        assert int.from_bytes(digest[:2], "big") == prefix


def test_targets_land_in_the_requested_bucket() -> None:
    rng = random.Random(5)
    for _ in range(200):
        peer = rng.randbytes(32)
        for distance in range(241, 257):
            assert log_distance(keccak256(target_for(peer, distance)), peer) == distance
        for distance in (239, 240):
            assert log_distance(keccak256(target_for(peer, distance)), peer) <= 240


def test_targets_do_not_share_raw_bytes() -> None:
    """Peers that measure distance on the raw 64 bytes must see different targets for different buckets."""
    peer = bytes(range(32))
    raw = {target_for(peer, d)[:8] for d in range(241, 257)}
    assert len(raw) == 16
