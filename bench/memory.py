"""Memory of a crawl per node: the crawl's tables (bytes per node) and the peak RSS of a whole crawl's end
(tables + node records + streamed JSONL) per 100k nodes. Issue 16's budget: the figures behind ``--max-nodes``.

Usage::

    .venv/bin/python bench/memory.py                 # 100,000 nodes, a tenth of them visited with an ENR
    .venv/bin/python bench/memory.py --nodes 200000 --visited 1.0

No network: the nodes are what a Sybil peer hands out (fresh keys, 16 per FINDNODE answer), put through the real
driver (``Discv4Driver.admit``), engine (``CrawlEngine.submit``) and visit records, then ``discv4_records``,
``merge_protocols`` and ``write_jsonl`` as ``monitor crawl`` runs them. Each size runs in a fresh interpreter
(``--worker``), so ru_maxrss is this crawl's alone.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(nodes: int, visited: float) -> dict[str, float]:
    from monitor.crawl.budget import Limits
    from monitor.crawl.discv4 import Discv4Driver, Visit
    from monitor.crawl.engine import CrawlEngine, EngineConfig
    from monitor.crawl.merge import merge_protocols
    from monitor.crawl.records import discv4_records
    from monitor.discovery.enr import ENR
    from monitor.discovery.v4.service import Discv4Service
    from monitor.discovery.v4.wire import NodeEntry
    from monitor.p2p.keys import PrivateKey
    from monitor.p2p.netpolicy import NetRestrict
    from monitor.snapshot import write_jsonl

    # Keys first (not the crawl's memory: a real crawl holds public keys only, which the entries carry)
    keys = [PrivateKey.from_seed(i.to_bytes(4, "big")) for i in range(nodes)]
    entries = [NodeEntry(ipaddress.IPv4Address(0x14000000 + i), 30303, 30303, k.pubkey) for i, k in enumerate(keys)]
    n_visited = int(nodes * visited)
    base_rss = _rss_mb()
    service = Discv4Service(PrivateKey.from_seed(b"bench"))
    driver = Discv4Driver(service, NetRestrict.parse(None), limits=Limits(enabled=False))
    engine: CrawlEngine[object, Visit] = CrawlEngine(driver, EngineConfig(max_tasks=None))  # type: ignore[arg-type]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    referrer = b"r" * 32
    for entry in entries:
        peer = driver.admit(entry, referrer)
        assert peer is not None
        engine.submit(peer)
    result = engine._result  # the engine's tables, as run() returns them
    now = time.time()
    for i, (key, peer) in enumerate(result.tasks.items()):
        if i >= n_visited:
            break
        enr = ENR.create(keys[i], 1, ip=ipaddress.IPv4Address(peer.ip), udp=30303, tcp=30303)  # type: ignore[attr-defined]
        visit = Visit(peer=peer, started=now, ended=now, answered_ping=True, pong_enr_seq=1, enr=enr)  # type: ignore[arg-type]
        visit.findnode_sent = visit.findnode_answered = 17
        visit.seen = {e.pubkey for e in entries[i : i + 272]}  # what one walk of a full table returns
        visit.settle()
        result.results[key] = visit
    tables = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del keys, entries
    tables_rss = _rss_mb()
    records = merge_protocols([discv4_records(result, now)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "crawl.jsonl"
        write_jsonl(records, path)
        size = path.stat().st_size
    return {
        "nodes": nodes,
        "visited": n_visited,
        "table_bytes_per_node": tables / nodes,
        "rss_tables_mb": tables_rss - base_rss,
        "rss_peak_over_base_mb": _rss_mb() - base_rss,
        "rss_peak_mb": _rss_mb(),
        "jsonl_bytes_per_node": size / nodes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--visited", type=float, default=0.1, help="share of nodes visited, with an ENR (0.1)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.nodes[0], args.visited)))
        return
    for n in args.nodes:
        cmd = [sys.executable, __file__, "--worker", "--nodes", str(n), "--visited", str(args.visited)]
        out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        per_100k = out["rss_peak_over_base_mb"] * 100_000 / n
        print(
            f"{n:>8} nodes ({out['visited']} visited): tables {out['table_bytes_per_node']:.0f} B/node; "
            f"peak RSS {out['rss_peak_mb']:.0f} MB, {out['rss_peak_over_base_mb']:.0f} MB over the start "
            f"= {per_100k:.0f} MB per 100k nodes; JSONL {out['jsonl_bytes_per_node']:.0f} B/node"
        )


if __name__ == "__main__":
    main()
