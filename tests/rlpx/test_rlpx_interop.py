"""Interop: our dialer against independent @ethereumjs/devp2p 10.0.0 RLPx + ETH peers on loopback.

24 ordinary peers and 3 "full" ones (maxPeers 0) in one Node process. Client id and Status must be read from at
least 95 % of the ordinary peers; the full ones answer the Hello exchange and then "too many peers".
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest
from peers.rlpx_harness import Network, rlpx_network_fixture

from monitor.crawl.records import dial_client
from monitor.discovery.forkid import MAINNET_GENESIS_HASH
from monitor.p2p.keys import PrivateKey, PublicKey
from monitor.p2p.netpolicy import NetRestrict
from monitor.rlpx import DialResult, dial_many

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

ORDINARY, FULL = 24, 3
rlpx_network = rlpx_network_fixture(ORDINARY + FULL, full=FULL, seed=3, base="127.4.0.1", tcp_port=40303)


async def _dial_all(network: Network, concurrency: int = 12) -> list[DialResult]:
    targets = [(PublicKey(bytes.fromhex(n["pubkey"])), n["ip"], n["tcp"]) for n in network["nodes"]]
    key = PrivateKey.from_seed(b"interop-dialer")
    restrict = NetRestrict.parse("127.0.0.0/8")
    return await dial_many(targets, key, concurrency=concurrency, timeout=10, netrestrict=restrict)


@pytest.fixture(scope="module")
def results(rlpx_network: Network) -> Iterator[list[DialResult]]:
    yield asyncio.run(_dial_all(rlpx_network))


def test_client_id_and_status_from_95_percent(rlpx_network: Network, results: list[DialResult]) -> None:
    by_ip = {r.ip: r for r in results}
    ordinary = [n for n in rlpx_network["nodes"] if not n["full"]]
    expected = rlpx_network["status"]
    good = 0
    for node in ordinary:
        result = by_ip[node["ip"]]
        if result.kind != "ok" or result.hello is None or result.status is None:
            continue
        assert result.hello.client_id == node["client_id"]
        assert result.hello.node_pubkey.hex() == node["pubkey"]
        status = result.status
        assert (status.version, status.network_id, status.genesis) == (68, 1, MAINNET_GENESIS_HASH)
        assert (status.fork_id.hash.hex(), status.fork_id.next) == (expected["fork_hash"], expected["fork_next"])
        good += 1
    assert good >= 0.95 * len(ordinary), Counter(r.kind for r in results)


def test_full_peers_say_too_many_peers_after_their_hello(rlpx_network: Network, results: list[DialResult]) -> None:
    by_ip = {r.ip: r for r in results}
    for node in (n for n in rlpx_network["nodes"] if n["full"]):
        result = by_ip[node["ip"]]
        assert result.kind == "too_many_peers", result
        assert result.hello is not None and result.hello.client_id == node["client_id"]
        client = dial_client(result)
        assert client is not None and client.disconnect_reason == "too_many_peers"


def test_client_info_is_parsed(results: list[DialResult]) -> None:
    clients = [c for c in map(dial_client, results) if c is not None]
    assert clients
    for client in clients:
        assert client.name == "ethereumjs" and client.language == "nodejs" and client.capabilities == ("eth/68",)


def test_a_second_round_reuses_nothing_and_still_works(rlpx_network: Network) -> None:
    # devp2p keeps per-peer state (LRU, connection map); a crawler revisits peers, so a second pass must too.
    again = asyncio.run(_dial_all(rlpx_network, concurrency=27))
    assert Counter(r.kind for r in again)["ok"] >= 0.95 * ORDINARY
