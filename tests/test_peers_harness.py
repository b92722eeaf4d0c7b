"""The interop test network itself: 20 @ethereumjs/devp2p DPT nodes on loopback, checked from their ready line
and by one signed FINDNODE. Skipped only when Node.js is missing; missing npm packages fail ("run `make peers`")."""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections import deque
from collections.abc import Iterator

import coincurve
import pytest
import rlp
from Crypto.Hash import keccak
from peers.fixtures import require_node
from peers.harness import Node, start_dpt_network

pytestmark = pytest.mark.interop

N = 20


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


@pytest.fixture(scope="module")
def nodes() -> Iterator[list[Node]]:
    require_node()
    with start_dpt_network(N, seed=1, base="127.2.0.1", k=16, timeout=60) as started:
        yield started


def test_ready_line_describes_every_node(nodes: list[Node]) -> None:
    assert len(nodes) == N
    for node in nodes:
        pubkey = bytes.fromhex(node["pubkey"])
        assert len(pubkey) == 64
        assert node["id"] == keccak256(pubkey).hex()
        assert ipaddress.ip_address(node["ip"]) in ipaddress.ip_network("127.0.0.0/8")
        assert node["enode"] == f"enode://{node['pubkey']}@{node['ip']}:{node['tcp']}?discport={node['udp']}"
    assert len({n["ip"] for n in nodes}) == N
    assert len({n["udp"] for n in nodes}) == N
    assert len({n["tcp"] for n in nodes}) == N
    assert len({n["pubkey"] for n in nodes}) == N


def test_tables_form_a_connected_graph(nodes: list[Node]) -> None:
    by_pubkey = {n["pubkey"]: n for n in nodes}
    for node in nodes:
        assert node["table"], f"{node['ip']} has an empty table"
        assert node["pubkey"] not in node["table"]
        assert set(node["table"]) <= by_pubkey.keys()
    # BFS over the directed "knows" edges from node 0 must reach everyone (a crawler starts from one bootnode).
    start = nodes[0]["pubkey"]
    seen, todo = {start}, deque([start])
    while todo:
        for peer in by_pubkey[todo.popleft()]["table"]:
            if peer not in seen:
                seen.add(peer)
                todo.append(peer)
    assert seen == by_pubkey.keys()


def test_a_node_answers_findnode_with_its_table(nodes: list[Node]) -> None:
    """One signed discv4 FINDNODE (no bond first: DPT does not require one) gets a NEIGHBORS from the table."""
    key = coincurve.PrivateKey(keccak256(b"test_peers_harness"))
    expiration = (int(time.time()) + 20).to_bytes(4, "big")
    typed = b"\x03" + rlp.encode([os.urandom(64), expiration])  # FINDNODE [target, expiration]
    body = key.sign_recoverable(keccak256(typed), hasher=None) + typed
    target = nodes[0]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        sock.sendto(keccak256(body) + body, (target["ip"], target["udp"]))
        packet, source = sock.recvfrom(65535)
    assert source == (target["ip"], target["udp"])
    assert packet[:32] == keccak256(packet[32:])
    assert packet[97] == 0x04  # NEIGHBORS
    sender = coincurve.PublicKey.from_signature_and_message(packet[32:97], keccak256(packet[97:]), hasher=None)
    assert sender.format(compressed=False)[1:].hex() == target["pubkey"]
    entries = rlp.decode(packet[98:], strict=False)[0]
    listed = {bytes(entry[3]).hex() for entry in entries}
    assert listed and listed <= set(target["table"])
