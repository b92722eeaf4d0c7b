"""Crawler CPU per discv4 packet, codec and hot path only (no sockets), for this tree or another checkout.

Usage::

    .venv/bin/python bench/packet_cpu.py [ROOT]      # ROOT: another checkout's directory (default: this one)

Times, per packet, what the crawler does for each datagram it sends or receives, in the proportions of a crawl
(per node: 1 PING, ~8 FINDNODE, 1 ENRREQUEST sent; 1 PONG, 1 PING, ~15 NEIGHBORS, 1 ENRRESPONSE received):
encode + sign, or verify + decode + the driver's admission of every NEIGHBORS entry (``Discv4Driver.admit``: a
shared Peer per distinct node, as in a crawl where each node is listed by many others). Best of 5 runs.
"""

from __future__ import annotations

import ipaddress
import sys
import time
from pathlib import Path

root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root))

from monitor.crawl.discv4 import Discv4Driver  # noqa: E402
from monitor.discovery.enr import ENR  # noqa: E402
from monitor.discovery.v4 import wire  # noqa: E402
from monitor.discovery.v4.service import Discv4Service  # noqa: E402
from monitor.p2p.keys import PrivateKey  # noqa: E402
from monitor.p2p.netpolicy import NetRestrict  # noqa: E402

me, peer = PrivateKey.from_seed(b"crawler"), PrivateKey.from_seed(b"peer")
ep = wire.Endpoint(ipaddress.IPv4Address("127.0.0.1"), 30303, 30303)
exp = int(time.time()) + 60
entries = [
    wire.NodeEntry(
        ipaddress.IPv4Address(f"10.0.{i // 250}.{i % 250 + 1}"), 30303, 30303, PrivateKey.from_seed(b"%d" % i).pubkey
    )
    for i in range(3000)
]
record = ENR.create(peer, 3, ip=ipaddress.IPv4Address("127.0.0.2"), udp=30303, tcp=30303)
received = (
    [wire.encode(wire.Pong(ep, b"h" * 32, exp, 3), peer)[0], wire.encode(wire.Ping(4, ep, ep, exp, 3), peer)[0]]
    + [wire.encode(wire.Neighbors(tuple(entries[i * 12 : i * 12 + 12]), exp), peer)[0] for i in range(15)]
    + [wire.encode(wire.ENRResponse(b"h" * 32, record.to_rlp()), peer)[0]]
)
sent = [wire.Ping(4, ep, ep, exp, None)] + [wire.FindNode(b"t" * 64, exp)] * 8 + [wire.ENRRequest(exp)]


driver = Discv4Driver(Discv4Service(me), NetRestrict.parse("10.0.0.0/8"))


def one_node(offset: int) -> None:
    for packet in sent:
        wire.encode(packet, me)
    for data in received:
        decoded = wire.decode(data)
        if isinstance(decoded.packet, wire.Neighbors):
            for entry in decoded.packet.nodes:
                driver.admit(entry)


def main() -> None:
    nodes = 200
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for i in range(nodes):
            one_node(i)
        best = min(best, time.process_time() - t0)
    packets = nodes * (len(sent) + len(received))
    print(f"{root}: {1e6 * best / packets:.1f} µs CPU per packet ({packets} packets, best of 5)")


main()
