"""A mainnet-like discv4 network in one process: 20,000+ live nodes and their dead table entries on loopback.

Why not ``monitor devnet`` with more nodes: each devnet node is a full :class:`Discv4Service` on its own socket, which
verifies every packet's signature and builds every answer with the general codec; 2,000 of them already take ~10
CPU-seconds a crawl, so 33,000 would starve the crawler of the 2 cores it shares with them. This simulator is a
different program with the cheap mode the crawl benchmark needs (population: monitor/sim/mainnet_model.py):

* address multiplexing: one UDP socket per port (4 ports, several node ids per IP) bound to the wildcard address,
  with IP_PKTINFO telling which 127.60.0.0/14 address a datagram was sent to and setting the source address of the
  answer; datagrams to any other address are dropped. Dead and NAT'd entries need no socket and are truly silent
  (no ICMP port-unreachable, as for a dead host on the Internet);
* no verification of the crawler's packets (hash and signature are not checked; the sender is known by its source
  address) and only the fields it needs are decoded;
* NEIGHBORS built from each node's table entries RLP-encoded once, with one expiration an hour ahead for the whole run
  (real nodes stamp now + 20 s), signed on first use; every reply is signed by the answering node's own key, so the
  crawler does all the work it does on mainnet;
* delays are applied to the simulator's sends only (the whole round trip at once), in 2 ms slots.

What that costs in realism: senders are not authenticated (a forged packet would be answered), expirations are not
fresh, round trips are fixed per node (no jitter, no queueing), loss is independent per datagram (no bursts), and a
node's answer never depends on its load.

Run as ``python -m monitor.sim.mainnet --live 20000 --out DIR``: writes ``DIR/truth.json`` and ``DIR/bootnodes.txt``
once listening, and ``DIR/stats.json`` on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import random
import signal
import socket
import struct
import time
from collections import Counter
from pathlib import Path

import rlp

from monitor.discovery.enode import Enode
from monitor.discovery.v4.protocol import endpoint_of
from monitor.discovery.v4.wire import Endpoint, ENRResponse, Ping, Pong, encode
from monitor.p2p.keys import keccak256
from monitor.p2p.rlp import uint_bytes
from monitor.sim.devnet import raise_fd_limit
from monitor.sim.mainnet_model import MainnetSpec, Population, SimNode

__all__ = ["MainnetSim", "main"]

IP_PKTINFO = 8  # <linux/in.h>; the socket module does not export it
PKTINFO = struct.Struct("I4s4s")  # struct in_pktinfo: ifindex, spec_dst (our source), addr (header destination)
SLOT = 0.002
PER_PACKET = 12  # geth puts 12 NEIGHBORS entries in a packet
HEAD = 97
BONDING_KINDS = frozenset({"geth", "no_enr"})  # answer FINDNODE / ENRREQUEST only after the crawler's PONG
PING_BACK_KINDS = BONDING_KINDS


def _list(payload: bytes) -> bytes:
    n = len(payload)
    if n < 56:
        return bytes([0xC0 + n]) + payload
    size = uint_bytes(n)
    return bytes([0xF7 + len(size)]) + size + payload


class MainnetSim:
    def __init__(self, population: Population, rng: random.Random | None = None) -> None:
        self.pop = population
        self.spec = population.spec
        self.rng = rng or random.Random(population.spec.seed + 1)
        self.by_addr = {(socket.inet_aton(n.ip), n.port): n for n in population.nodes}
        self.expiration = int(time.time()) + 3600
        self._exp_rlp = rlp.encode(uint_bytes(self.expiration))
        self._entries: dict[int, bytes] = {}
        self.bonded: set[tuple[int, tuple[str, int]]] = set()
        self._pings: dict[bytes, tuple[int, tuple[str, int]]] = {}
        self.stats: Counter[str] = Counter()
        self.t0: float | None = None  # monotonic time of the crawler's first packet: churn is timed from it
        self._socks: dict[int, socket.socket] = {}
        self._slots: dict[int, list[tuple[socket.socket, bytes, bytes, tuple[str, int]]]] = {}

    # -- sockets --------------------------------------------------------------------------------------------------

    def open(self) -> None:
        loop = asyncio.get_running_loop()
        for port in range(self.spec.port, self.spec.port + self.spec.ports):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024 * 1024)
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            sock.bind(("0.0.0.0", port))
            sock.setblocking(False)
            self._socks[port] = sock
            loop.add_reader(sock.fileno(), self._readable, sock)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self._socks.values():
            loop.remove_reader(sock.fileno())
            sock.close()
        self._socks.clear()

    def _readable(self, sock: socket.socket) -> None:
        for _ in range(256):
            try:
                data, anc, _flags, src = sock.recvmsg(2048, socket.CMSG_SPACE(PKTINFO.size))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.stats["socket_error"] += 1
                continue
            dst = next((d for level, kind, d in anc if level == socket.IPPROTO_IP and kind == IP_PKTINFO), None)
            if dst is None or len(dst) < PKTINFO.size:
                continue
            node = self.by_addr.get((PKTINFO.unpack(dst)[2], sock.getsockname()[1]))
            if node is None:
                self.stats["drop_unknown_address"] += 1
                continue
            self.handle(node, data, (str(src[0]), int(src[1])))

    def _send(self, node: SimNode, data: bytes, to: tuple[str, int]) -> None:
        if self.rng.random() < self.spec.loss:
            self.stats["lost_out"] += 1
            return
        loop = asyncio.get_running_loop()
        slot = math.ceil((loop.time() + node.rtt) / SLOT)
        queued = self._slots.get(slot)
        if queued is None:
            queued = self._slots[slot] = []
            loop.call_at(slot * SLOT, self._flush, slot)
        queued.append((self._socks[node.port], socket.inet_aton(node.ip), data, to))

    def _flush(self, slot: int) -> None:
        for sock, src, data, to in self._slots.pop(slot, ()):
            try:
                ancillary = [(socket.IPPROTO_IP, IP_PKTINFO, PKTINFO.pack(0, src, b"\0\0\0\0"))]
                sock.sendmsg([data], ancillary, 0, to)
                self.stats["sent"] += 1
            except OSError:
                self.stats["send_error"] += 1

    # -- protocol -------------------------------------------------------------------------------------------------

    def now(self) -> float:
        if self.t0 is None:
            self.t0 = time.monotonic()
        return time.monotonic() - self.t0

    def handle(self, node: SimNode, data: bytes, src: tuple[str, int]) -> None:
        self.stats["received"] += 1
        if not node.present(self.now()):
            self.stats[f"silent_{node.kind}" if node.reachable else f"silent_{node.kind}_entry"] += 1
            return
        if self.rng.random() < self.spec.loss:
            self.stats["lost_in"] += 1
            return
        if len(data) <= HEAD:
            return
        kind = data[HEAD]
        try:
            if kind == 1:
                self._on_ping(node, data, src)
            elif kind == 2:
                self._on_pong(node, data, src)
            elif kind == 3:
                self._on_findnode(node, data, src)
            elif kind == 5:
                self._on_enrrequest(node, data, src)
        except (rlp.exceptions.RLPException, ValueError, IndexError):
            self.stats["undecodable"] += 1

    def _on_ping(self, node: SimNode, data: bytes, src: tuple[str, int]) -> None:
        endpoint = _endpoint(src)
        seq = node.enr.seq if node.enr is not None else None
        self._send(node, encode(Pong(endpoint, data[:32], self.expiration, seq), node.key)[0], src)
        self.stats["pong"] += 1
        if node.kind in PING_BACK_KINDS and (node.index, src) not in self.bonded:
            own = _endpoint((node.ip, node.port))
            packet, digest = encode(Ping(4, own, endpoint, self.expiration, seq), node.key)
            self._pings[digest] = (node.index, src)
            self._send(node, packet, src)
            self.stats["ping_back"] += 1

    def _on_pong(self, node: SimNode, data: bytes, src: tuple[str, int]) -> None:
        items = rlp.decode(data[HEAD + 1 :], strict=False)
        pending = self._pings.pop(bytes(items[1]), None)
        if pending == (node.index, src):
            self.bonded.add(pending)

    def _bonded(self, node: SimNode, src: tuple[str, int], what: str) -> bool:
        if node.kind in BONDING_KINDS and (node.index, src) not in self.bonded:
            self.stats[f"drop_{what}_unbonded"] += 1
            return False
        return True

    def _on_findnode(self, node: SimNode, data: bytes, src: tuple[str, int]) -> None:
        if not self._bonded(node, src, "findnode"):
            return
        target = bytes(rlp.decode(data[HEAD + 1 :], strict=False)[0])
        chosen = self.pop.closest(node, int.from_bytes(keccak256(target), "big"), self.now())
        for start in range(0, max(1, len(chosen)), PER_PACKET):
            entries = b"".join(self._entry(j) for j in chosen[start : start + PER_PACKET])
            body = b"\x04" + _list(_list(entries) + self._exp_rlp)
            signature = node.key.sign_recoverable(keccak256(body))
            self._send(node, keccak256(signature + body) + signature + body, src)
            self.stats["neighbors"] += 1

    def _entry(self, index: int) -> bytes:
        entry = self._entries.get(index)
        if entry is None:
            n = self.pop.nodes[index]
            port = uint_bytes(n.port)
            entry = self._entries[index] = rlp.encode([socket.inet_aton(n.ip), port, port, n.key.pubkey])
        return entry

    def _on_enrrequest(self, node: SimNode, data: bytes, src: tuple[str, int]) -> None:
        if node.enr is None:
            self.stats["drop_enrrequest_no_enr"] += 1
            return
        if not self._bonded(node, src, "enrrequest"):
            return
        self._send(node, encode(ENRResponse(data[:32], node.enr.to_rlp()), node.key)[0], src)
        self.stats["enrresponse"] += 1


def _endpoint(addr: tuple[str, int]) -> Endpoint:
    return endpoint_of(addr[0], addr[1], addr[1])


def write_truth(pop: Population, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    boots = [pop.nodes[i] for i in pop.bootnodes]
    urls = [str(Enode(n.key.pubkey, ipaddress.IPv4Address(n.ip), n.port, n.port)) for n in boots]
    (out / "bootnodes.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    tmp = out / "truth.json.tmp"
    tmp.write_text(json.dumps(pop.truth()), encoding="utf-8")
    tmp.rename(out / "truth.json")  # appears whole: the benchmark waits for it


async def serve(spec: MainnetSpec, out: Path, duration: float | None) -> None:
    started = time.monotonic()
    pop = Population(spec)
    sim = MainnetSim(pop)
    raise_fd_limit(64)
    sim.open()
    built = time.monotonic() - started
    write_truth(pop, out)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), duration)
    except TimeoutError:
        pass
    finally:
        sim.close()
        stats = dict(sim.stats) | {"build_seconds": round(built, 2), "bonded": len(sim.bonded)}
        (out / "stats.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.sim.mainnet", description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", type=int, default=20_000, help="live node ids (20000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--network", default="127.60.0.0/14", help="addresses of the nodes (127.60.0.0/14)")
    parser.add_argument("--port", type=int, default=28001, help="first of the 4 ports the nodes listen on (28001)")
    parser.add_argument("--loss", type=float, default=0.01, help="datagram loss each way (0.01)")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--out", type=Path, required=True, help="where truth.json and bootnodes.txt go")
    args = parser.parse_args(argv)
    spec = MainnetSpec(live=args.live, seed=args.seed, network=args.network, port=args.port, loss=args.loss)
    asyncio.run(serve(spec, args.out, args.duration))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
