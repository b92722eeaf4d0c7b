"""A Sybil discv4 peer (issue 16): every FINDNODE answer lists 16 identities never seen before, and each of them
answers PING, FINDNODE and ENRREQUEST as a node of its own, listing 16 more. Run as a script:

    python tests/peers/sybil.py --ips 32 --first-ip 127.65.0.1 --port 29100 --ports 16

It binds ``ips x ports`` UDP sockets, prints one JSON line ``{"bootnode": "enode://..."}`` and serves until its
stdin closes. An identity is a function of (address, the TCP port written in its NEIGHBORS entry): the crawler
echoes that TCP port in its PING's ``to`` field, which is how one socket answers as thousands of nodes. FINDNODE
and ENRREQUEST carry no such hint; they are answered by the identity last pinged at that socket.

Hostile test peer, not a reference implementation: it uses our own wire codec on purpose.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import random
import sys
import time
from typing import Any

from monitor.discovery.enr import ENR
from monitor.discovery.v4.wire import (
    Endpoint,
    ENRRequest,
    ENRResponse,
    FindNode,
    Neighbors,
    NodeEntry,
    Packet,
    Ping,
    Pong,
    decode,
    encode,
)
from monitor.errors import DecodeError
from monitor.p2p.keys import PrivateKey

Address = tuple[str, int]


class Sybil:
    def __init__(self, addresses: list[Address], seed: int) -> None:
        self.addresses = addresses
        self.seed = seed
        self.rng = random.Random(seed)
        self.next_tcp = dict.fromkeys(addresses, 1)
        self.last_pinged: dict[Address, int] = {}
        self.transports: dict[Address, asyncio.DatagramTransport] = {}
        self.keys: dict[tuple[Address, int], PrivateKey] = {}
        self.handed_out = 0

    def key(self, addr: Address, tcp: int) -> PrivateKey:
        found = self.keys.get((addr, tcp))
        if found is None:
            if len(self.keys) > 200_000:
                self.keys.clear()  # re-derived on demand: deterministic
            found = self.keys[(addr, tcp)] = PrivateKey.from_seed(f"{self.seed}/{addr[0]}/{addr[1]}/{tcp}".encode())
        return found

    def fresh(self) -> NodeEntry:
        addr = self.rng.choice(self.addresses)
        tcp = self.next_tcp[addr]
        self.next_tcp[addr] = tcp % 65535 + 1
        self.handed_out += 1
        return NodeEntry(ipaddress.ip_address(addr[0]), addr[1], tcp, self.key(addr, tcp).pubkey)

    def send(self, here: Address, packet: Packet, key: PrivateKey, to: Address) -> None:
        self.transports[here].sendto(encode(packet, key)[0], to)

    def received(self, here: Address, data: bytes, src: Address) -> None:
        try:
            decoded = decode(data)
        except DecodeError:
            return
        packet, exp = decoded.packet, int(time.time()) + 20
        if isinstance(packet, Ping):
            tcp = packet.recipient.tcp
            self.last_pinged[here] = tcp
            key = self.key(here, tcp)
            self.send(here, Pong(Endpoint(ipaddress.ip_address(src[0]), src[1], 0), decoded.hash, exp, 1), key, src)
            me = Endpoint(ipaddress.ip_address(here[0]), here[1], tcp)
            to = Endpoint(ipaddress.ip_address(src[0]), src[1], 0)
            self.send(here, Ping(4, me, to, exp, 1), key, src)  # the ping-back that completes the bond
            return
        tcp = self.last_pinged.get(here, 1)
        key = self.key(here, tcp)
        if isinstance(packet, FindNode):
            nodes = [self.fresh() for _ in range(16)]
            self.send(here, Neighbors(tuple(nodes[:12]), exp), key, src)
            self.send(here, Neighbors(tuple(nodes[12:]), exp), key, src)
        elif isinstance(packet, ENRRequest):
            record = ENR.create(key, 1, ip=ipaddress.IPv4Address(here[0]), udp=here[1], tcp=tcp)
            self.send(here, ENRResponse(decoded.hash, record.to_rlp()), key, src)


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, sybil: Sybil, here: Address) -> None:
        self.sybil, self.here = sybil, here

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.sybil.received(self.here, data, (addr[0], addr[1]))


async def serve(args: argparse.Namespace) -> None:
    first = ipaddress.IPv4Address(args.first_ip)
    addresses = [(str(first + i), args.port + p) for i in range(args.ips) for p in range(args.ports)]
    sybil = Sybil(addresses, args.seed)
    loop = asyncio.get_running_loop()
    for addr in addresses:
        transport, _ = await loop.create_datagram_endpoint(lambda a=addr: _Socket(sybil, a), local_addr=addr)
        sybil.transports[addr] = transport
    boot = addresses[0]
    pubkey = sybil.key(boot, 1).pubkey.hex()
    print(json.dumps({"bootnode": f"enode://{pubkey}@{boot[0]}:1?discport={boot[1]}"}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    print(json.dumps({"handed_out": sybil.handed_out}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-ip", default="127.65.0.1")
    parser.add_argument("--ips", type=int, default=32)
    parser.add_argument("--port", type=int, default=29100)
    parser.add_argument("--ports", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
