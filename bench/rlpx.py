"""Benchmark RLPx dials against independent loopback peers: handshakes per second (target >= 200/s).

Usage::

    .venv/bin/python bench/rlpx.py                           # 50 peers, 1,000 dials, concurrency 32
    .venv/bin/python bench/rlpx.py --peers 100 --dials 3000 --concurrency 64 --processes 2

The peers are ``@ethereumjs/devp2p`` RLPx + ETH nodes (``tests/peers/rlpx_network.mjs``), in ``--processes``
Node processes on 127.x addresses. Each dial is a full one: TCP connect, EIP-8 auth/ack, Hello both ways,
eth Status both ways, Disconnect. A handshake counts when it ends with kind ``ok``; the figure is ok dials per
wall-clock second. The dialer's own CPU time (getrusage) is printed beside it; peer CPU is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peers.rlpx_harness import start_rlpx_network  # noqa: E402

from monitor.p2p.keys import PrivateKey, PublicKey  # noqa: E402
from monitor.p2p.netpolicy import NetRestrict  # noqa: E402
from monitor.rlpx import DialResult, dial  # noqa: E402


async def run(nodes: list[dict[str, object]], dials: int, concurrency: int, budget: float) -> list[DialResult]:
    key = PrivateKey.generate()
    restrict = NetRestrict.parse("127.0.0.0/8")
    sem = asyncio.Semaphore(concurrency)
    # devp2p drops a second connection from an id it is already talking to (ALREADY_CONNECTED): one dial per peer
    # at a time, as a crawler with one key does.
    locks = [asyncio.Lock() for _ in nodes]
    results: list[DialResult] = []

    async def one(i: int) -> None:
        node = nodes[i % len(nodes)]
        async with sem, locks[i % len(nodes)]:
            pubkey = PublicKey(bytes.fromhex(str(node["pubkey"])))
            results.append(
                await dial(pubkey, str(node["ip"]), int(str(node["tcp"])), key, timeout=budget, netrestrict=restrict)
            )

    await asyncio.gather(*(one(i) for i in range(dials)))
    return results


def proc_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=50)
    parser.add_argument("--dials", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=1, help="Node processes the peers are spread over")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    per = -(-args.peers // args.processes)
    with contextlib.ExitStack() as stack:
        nodes: list[dict[str, object]] = []
        pids: list[int] = []
        for p in range(args.processes):
            net = stack.enter_context(
                start_rlpx_network(per, seed=100 + p, base=f"127.5.{p}.1", tcp_port=41000 + p * per)
            )
            nodes += net["nodes"]
            pids.append(int(net["pid"]))
        asyncio.run(run(nodes[:4], 8, 4, args.timeout))  # warm-up: imports, JIT in the peers
        peer_cpu0 = sum(proc_cpu(pid) for pid in pids)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        results = asyncio.run(run(nodes, args.dials, args.concurrency, args.timeout))
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        peer_cpu = sum(proc_cpu(pid) for pid in pids) - peer_cpu0
    kinds = Counter(r.kind for r in results)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    durations = sorted(r.duration for r in results)
    print(
        f"peers {len(nodes)} in {args.processes} Node process(es); dials {args.dials}; concurrency {args.concurrency}"
    )
    print(f"wall {wall:.2f} s; handshakes (kind ok) {kinds['ok']}; {kinds['ok'] / wall:.0f} handshakes/s")
    print(f"dialer CPU {cpu:.2f} s ({cpu / max(len(results), 1) * 1e3:.2f} ms per dial)")
    print(f"peer CPU {peer_cpu:.2f} s ({peer_cpu / max(len(results), 1) * 1e3:.2f} ms per dial)")
    p50, p99 = durations[len(durations) // 2], durations[int(len(durations) * 0.99)]
    print(f"dial duration p50 {p50 * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms")
    print("kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))


if __name__ == "__main__":
    main()
