"""discv4 protocol state without I/O (monitor/discovery/v4/protocol.py): reply matching, bonds, expiry, NEIGHBORS."""

from __future__ import annotations

import ipaddress

import pytest

from monitor.discovery.v4.protocol import (
    BOND_EXPIRATION,
    BUCKET_SIZE,
    PACKET_LIFETIME,
    BondState,
    ENRMatcher,
    NeighborsMatcher,
    PendingReplies,
    PongMatcher,
    endpoint_of,
    expiration_from,
    split_neighbors,
)
from monitor.discovery.v4.wire import (
    MAX_NEIGHBORS,
    Endpoint,
    ENRResponse,
    FindNode,
    Neighbors,
    NodeEntry,
    Ping,
    Pong,
    check_expiration,
    decode,
    encode,
)
from monitor.errors import ExpiredError
from monitor.p2p.keys import NodeID, PrivateKey

NOW = 1_800_000_000.0
PEER_A = NodeID(b"\xaa" * 32)
PEER_B = NodeID(b"\xbb" * 32)
HASH_1, HASH_2 = b"\x01" * 32, b"\x02" * 32
HERE = Endpoint(ipaddress.IPv4Address("127.56.0.1"), 26001, 26001)


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def pong(ping_hash: bytes, expiration: int = int(NOW) + 20) -> Pong:
    return Pong(HERE, ping_hash, expiration)


def entries(n: int) -> list[NodeEntry]:
    keys = [PrivateKey.from_seed(f"protocol-entry-{i}".encode()) for i in range(n)]
    return [NodeEntry(ipaddress.IPv4Address(f"127.56.9.{i + 1}"), 26300, 26300, k.pubkey) for i, k in enumerate(keys)]


def neighbors(n: int) -> Neighbors:
    return Neighbors(tuple(entries(n)), int(NOW) + 20)


# -- expiration ----------------------------------------------------------------------------------------------------


def test_expiration_is_now_plus_the_packet_lifetime_in_whole_seconds() -> None:
    assert PACKET_LIFETIME == 20.0
    assert expiration_from(NOW) == int(NOW) + 20
    assert expiration_from(NOW + 0.9) == int(NOW) + 20  # truncated, never rounded up past the lifetime
    assert expiration_from(NOW, lifetime=5) == int(NOW) + 5


def test_a_packet_stamped_now_is_accepted_for_its_lifetime_then_rejected() -> None:
    packet = FindNode(bytes(64), expiration_from(NOW))
    check_expiration(packet, NOW + PACKET_LIFETIME)  # still valid at the last second
    with pytest.raises(ExpiredError, match="findnode expired 1s ago"):
        check_expiration(packet, NOW + PACKET_LIFETIME + 1)


# -- matchers ------------------------------------------------------------------------------------------------------


def test_pong_matcher_takes_only_the_pong_naming_its_ping() -> None:
    matcher = PongMatcher(PEER_A, "pong", ping_hash=HASH_1)
    assert matcher.feed(pong(HASH_2), HASH_2) == (False, False)
    assert matcher.feed(neighbors(1), HASH_1) == (False, False)
    assert matcher.reply is None
    reply = pong(HASH_1)
    assert matcher.feed(reply, b"\x09" * 32) == (True, True)  # matched on the hash the PONG names, not its own
    assert matcher.reply is reply


def test_enr_matcher_takes_only_the_response_naming_its_request() -> None:
    matcher = ENRMatcher(PEER_A, "enr", request_hash=HASH_1)
    assert matcher.feed(ENRResponse(HASH_2, b"\xc0"), HASH_2) == (False, False)
    assert matcher.feed(pong(HASH_1), HASH_1) == (False, False)  # right hash, wrong packet type
    reply = ENRResponse(HASH_1, b"\xc0")
    assert matcher.feed(reply, HASH_2) == (True, True)
    assert matcher.reply is reply


def test_neighbors_matcher_completes_on_a_short_packet() -> None:
    matcher = NeighborsMatcher(PEER_A, "neighbors")
    assert matcher.feed(pong(HASH_1), HASH_1) == (False, False)
    assert matcher.feed(neighbors(MAX_NEIGHBORS), HASH_1) == (True, False)  # full: more may follow
    assert not matcher.complete
    assert matcher.feed(neighbors(3), HASH_2) == (True, True)  # short: the last one
    assert (len(matcher.nodes), matcher.packets, matcher.complete) == (MAX_NEIGHBORS + 3, 2, True)


def test_neighbors_matcher_completes_at_k_nodes_even_on_full_packets() -> None:
    matcher = NeighborsMatcher(PEER_A, "neighbors")
    # @ethereumjs/devp2p fits all 16 in one packet: more than MAX_NEIGHBORS, and k reached.
    assert matcher.feed(neighbors(BUCKET_SIZE), HASH_1) == (True, True)
    assert len(matcher.nodes) == BUCKET_SIZE


def test_neighbors_matcher_counts_an_empty_answer_as_complete() -> None:
    matcher = NeighborsMatcher(PEER_A, "neighbors")
    assert matcher.feed(neighbors(0), HASH_1) == (True, True)
    assert matcher.nodes == [] and matcher.packets == 1


# -- pending replies -------------------------------------------------------------------------------------------------


def test_replies_are_matched_by_peer_and_hash() -> None:
    """Two requests to two peers with one hash (same second, deterministic signatures): each reply finds its own."""
    pending = PendingReplies()
    for_a, for_b = PongMatcher(PEER_A, "pong", ping_hash=HASH_1), PongMatcher(PEER_B, "pong", ping_hash=HASH_1)
    pending.add(for_a)
    pending.add(for_b)
    expected, done = pending.dispatch(PEER_B, pong(HASH_1), HASH_2)
    assert expected and done == [for_b] and for_b.reply is not None and for_a.reply is None
    assert len(pending) == 1
    assert pending.dispatch(PEER_B, pong(HASH_1), HASH_2) == (False, [])  # a duplicate is unsolicited
    assert pending.dispatch(PEER_A, pong(HASH_2), HASH_2) == (False, [])  # A's reply to another ping
    assert pending.dispatch(PEER_A, pong(HASH_1), HASH_2) == (True, [for_a])
    assert len(pending) == 0


def test_a_reply_from_a_peer_with_nothing_pending_is_unsolicited() -> None:
    pending = PendingReplies()
    pending.add(ENRMatcher(PEER_A, "enr", request_hash=HASH_1))
    assert pending.dispatch(PEER_B, ENRResponse(HASH_1, b"\xc0"), HASH_2) == (False, [])
    assert len(pending) == 1


def test_neighbors_go_to_the_oldest_findnode_of_that_peer() -> None:
    pending = PendingReplies()
    first, second = NeighborsMatcher(PEER_A, "neighbors"), NeighborsMatcher(PEER_A, "neighbors")
    other = NeighborsMatcher(PEER_B, "neighbors")
    for matcher in (first, second, other):
        pending.add(matcher)
    assert pending.dispatch(PEER_A, neighbors(MAX_NEIGHBORS), HASH_1) == (True, [])  # partial: stays pending
    assert (first.packets, second.packets, other.packets) == (1, 0, 0)
    assert len(pending) == 3
    assert pending.dispatch(PEER_A, neighbors(2), HASH_1) == (True, [first])
    assert pending.dispatch(PEER_A, neighbors(1), HASH_1) == (True, [second])
    assert len(pending) == 1 and other.packets == 0


def test_a_timed_out_request_no_longer_takes_its_late_reply() -> None:
    """The service removes a request when its timeout fires; a reply arriving after that is unsolicited."""
    pending = PendingReplies()
    matcher = PongMatcher(PEER_A, "pong", ping_hash=HASH_1)
    pending.add(matcher)
    pending.remove(matcher)
    assert len(pending) == 0
    assert pending.dispatch(PEER_A, pong(HASH_1), HASH_1) == (False, [])
    assert matcher.reply is None
    pending.remove(matcher)  # removing twice (timeout after completion) is harmless
    pending.remove(PongMatcher(PEER_B, "pong", ping_hash=HASH_2))  # as is removing what was never added


def test_a_retry_replaces_the_timed_out_attempt() -> None:
    """Retries send a new PING (new hash); only the pending attempt's PONG completes the request."""
    pending = PendingReplies()
    attempt_1 = PongMatcher(PEER_A, "pong", ping_hash=HASH_1)
    pending.add(attempt_1)
    pending.remove(attempt_1)  # timed out
    attempt_2 = PongMatcher(PEER_A, "pong", ping_hash=HASH_2)
    pending.add(attempt_2)
    assert pending.dispatch(PEER_A, pong(HASH_1), HASH_1) == (False, [])  # the first attempt's late PONG
    assert pending.dispatch(PEER_A, pong(HASH_2), HASH_1) == (True, [attempt_2])


# -- bonds ---------------------------------------------------------------------------------------------------------


def test_bond_holds_for_a_day_after_the_last_pong() -> None:
    clock = Clock()
    bonds = BondState(clock)
    assert BOND_EXPIRATION == 24 * 3600
    assert not bonds.is_bonded(PEER_A)
    bonds.pong_received(PEER_A)
    assert bonds.is_bonded(PEER_A) and not bonds.is_bonded(PEER_B)
    clock.now = NOW + BOND_EXPIRATION - 1
    assert bonds.is_bonded(PEER_A)
    clock.now = NOW + BOND_EXPIRATION
    assert not bonds.is_bonded(PEER_A)  # expired exactly at the limit
    bonds.pong_received(PEER_A)  # a new PONG renews it
    clock.now += BOND_EXPIRATION - 1
    assert bonds.is_bonded(PEER_A)


def test_being_pinged_is_tracked_apart_from_the_bond() -> None:
    """A peer that PINGs us has not proved its endpoint: it may not ask FINDNODE until it answers our PING."""
    clock = Clock()
    bonds = BondState(clock, expiration=60)
    bonds.ping_received(PEER_A)
    assert bonds.pinged_us(PEER_A) and not bonds.is_bonded(PEER_A)
    bonds.pong_received(PEER_B)
    assert bonds.is_bonded(PEER_B) and not bonds.pinged_us(PEER_B)
    clock.now = NOW + 59
    assert bonds.pinged_us(PEER_A) and bonds.is_bonded(PEER_B)
    clock.now = NOW + 60
    assert not bonds.pinged_us(PEER_A) and not bonds.is_bonded(PEER_B)


# -- answering FINDNODE ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("known", "sizes"),
    [(0, [0]), (1, [1]), (MAX_NEIGHBORS, [MAX_NEIGHBORS]), (13, [MAX_NEIGHBORS, 1]), (40, [MAX_NEIGHBORS, 4])],
)
def test_findnode_answer_is_at_most_k_nodes_split_into_packets(known: int, sizes: list[int]) -> None:
    nodes = entries(known)
    packets = list(split_neighbors(nodes, 1234))
    assert [len(p.nodes) for p in packets] == sizes
    assert all(p.expiration == 1234 for p in packets)
    assert [n for p in packets for n in p.nodes] == nodes[:BUCKET_SIZE]  # the closest first, in order


def test_every_neighbors_packet_fits_the_1280_byte_datagram_limit() -> None:
    key = PrivateKey.from_seed(b"protocol-sender")
    widest = [  # IPv6 addresses and the largest ports: the biggest encoding a node entry can have
        NodeEntry(ipaddress.IPv6Address(f"2001:db8::{i + 1}"), 65535, 65535, entry.pubkey)
        for i, entry in enumerate(entries(BUCKET_SIZE))
    ]
    for packet in split_neighbors(widest, 2**32 - 1):
        data, _ = encode(packet, key)
        assert len(data) <= 1280
        assert decode(data).packet == packet


def test_endpoint_of_parses_both_address_families() -> None:
    assert endpoint_of("127.56.0.1", 26001) == Endpoint(ipaddress.IPv4Address("127.56.0.1"), 26001, 0)
    assert endpoint_of("::1", 26001, 26002) == Endpoint(ipaddress.IPv6Address("::1"), 26001, 26002)
    with pytest.raises(ValueError):
        endpoint_of("not-an-ip", 1)


def test_ping_is_not_a_reply_to_anything() -> None:
    pending = PendingReplies()
    pending.add(PongMatcher(PEER_A, "pong", ping_hash=HASH_1))
    pending.add(NeighborsMatcher(PEER_A, "neighbors"))
    ping = Ping(4, HERE, HERE, expiration_from(NOW))
    assert pending.dispatch(PEER_A, ping, HASH_1) == (False, [])
    assert len(pending) == 2
