"""Benchmark the discv4 crawler at mainnet scale against the mainnet-like simulator (monitor/sim/mainnet.py).

Usage::

    .venv/bin/python bench/crawl_scale.py                         # 20,000 live nodes
    .venv/bin/python bench/crawl_scale.py --sizes 5000,10000,20000 --markdown   # the scaling curve

Three processes, as in bench/crawl.py: the simulator (``python -m monitor.sim.mainnet``, its CPU read from /proc), the
crawler (this script with ``--worker``: ``run_crawl`` once, netrestrict 127.60.0.0/14, getrusage CPU and peak RSS),
and this parent, which compares the crawl with the simulator's ground truth.

Figures
-------
reachable
    live nodes that answer (not NAT'd) and neither left nor joined during the crawl; "found" = in the crawl's
    records, "ENR" = the record carries the node's ENR, out of those reachable nodes that serve one.
t99 found / t99 ENR
    seconds from the crawl's start until 99 % of the reachable nodes had been first listed / had their visit done
    with an ENR (from the records' first_seen and last_seen).
wall
    the whole ``run_crawl`` (until the frontier is exhausted or the deadline), simulator running beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.crawl import _loadavg, _proc_cpu, _stop  # noqa: E402

START_LIMIT = 300.0


def worker(cfg: dict[str, Any]) -> None:
    import asyncio

    from monitor.crawl.rlpx_stage import RlpxSettings
    from monitor.crawl.runner import CrawlSettings, run_crawl
    from monitor.discovery.enode import load_node_urls

    settings = CrawlSettings(
        bootnodes=load_node_urls(cfg["bootnodes"]),
        network="mainnet",
        netrestrict=cfg["netrestrict"],
        listen_host=cfg["listen_host"],
        listen_port=cfg["listen_port"],
        timeout=cfg["timeout"],
        concurrency=cfg["concurrency"],
        duration=cfg["duration"],
        send_rate=cfg["send_rate"],
        rlpx=RlpxSettings(enabled=False),
    )
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if cfg.get("profile"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        outcome = profiler.runcall(asyncio.run, run_crawl(settings))
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
    else:
        outcome = asyncio.run(run_crawl(settings))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    start = outcome.meta.started_at
    result = {
        "wall": wall,
        "cpu": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
        "maxrss_kb": after.ru_maxrss,
        "nodes": {
            r.node_id: [r.first_seen - start, r.last_seen - start, r.answered_ping, r.enr is not None]
            for r in outcome.nodes
        },
        "counters": outcome.meta.counters,
    }
    Path(cfg["result"]).write_text(json.dumps(result), encoding="utf-8")


def _t99(times: list[float], total: int) -> float | None:
    need = -(-99 * total // 100)
    return sorted(times)[need - 1] if len(times) >= need and need else None


def compare(truth: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    nodes = truth["nodes"]
    found = result["nodes"]
    stable = [n for n in nodes if n["reachable"] and n["join_at"] is None and n["leave_at"] is None]
    serving = [n for n in stable if n["serves_enr"]]
    got = [n for n in stable if n["id"] in found]
    with_enr = [n for n in serving if n["id"] in found and found[n["id"]][3]]
    joiners = [n for n in nodes if n["join_at"] is not None]
    leavers = [n for n in nodes if n["leave_at"] is not None]
    listed = [n for n in nodes if n["listed_by"] > 0]
    live = [n for n in nodes if n["kind"] != "dead"]
    return {
        "live": len(live),
        "entries": len(nodes),
        "reachable": len(stable),
        "found_pct": 100 * len(got) / max(1, len(stable)),
        "enr_pct": 100 * len(with_enr) / max(1, len(serving)),
        "t99_found": _t99([found[n["id"]][0] for n in got], len(stable)),
        "t99_enr": _t99([found[n["id"]][1] for n in with_enr], len(serving)),
        "listed_found_pct": 100 * sum(n["id"] in found for n in listed) / max(1, len(listed)),
        "joiners_found": sum(n["id"] in found for n in joiners),
        "joiners": len(joiners),
        "leavers_answered": sum(n["id"] in found and found[n["id"]][2] for n in leavers),
        "leavers": len(leavers),
        "invented": len(set(found) - {n["id"] for n in nodes}),
    }


def run_one(live: int, index: int, args: argparse.Namespace) -> dict[str, Any]:
    sim = crawler = None
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        out = work / "sim"
        port = args.port + 10 * index
        try:
            t0 = time.perf_counter()
            log = (work / "sim.log").open("wb")
            sim = subprocess.Popen(
                [sys.executable, "-m", "monitor.sim.mainnet", "--live", str(live), "--seed", str(args.seed + index),
                 "--port", str(port), "--out", str(out)],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            )  # fmt: skip
            log.close()
            while not (out / "truth.json").exists():
                if sim.poll() is not None:
                    raise RuntimeError(f"simulator exited: {(work / 'sim.log').read_text()}")
                if time.perf_counter() - t0 > START_LIMIT:
                    raise RuntimeError("simulator not ready")
                time.sleep(0.2)
            sim_start = time.perf_counter() - t0
            print(f"  simulator of {live:,} live nodes ready in {sim_start:.1f} s", file=sys.stderr, flush=True)
            cfg = {
                "bootnodes": str(out / "bootnodes.txt"),
                "netrestrict": "127.60.0.0/14",
                "listen_host": "127.60.0.1",
                "listen_port": args.port + 900 + index,
                "timeout": args.timeout,
                "concurrency": args.concurrency,
                "duration": args.max_duration,
                "send_rate": args.send_rate,
                "result": str(work / "result.json"),
                "profile": args.profile,
            }
            sim_cpu0, load0 = _proc_cpu(sim.pid), _loadavg()
            crawler = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(cfg)])
            if crawler.wait() != 0:
                raise RuntimeError(f"crawler failed with exit code {crawler.returncode}")
            sim_cpu, load1 = _proc_cpu(sim.pid) - sim_cpu0, _loadavg()
            _stop(sim)
            result = json.loads((work / "result.json").read_text())
            truth = json.loads((out / "truth.json").read_text())
            sim_stats = json.loads((out / "stats.json").read_text()) if (out / "stats.json").exists() else {}
        finally:
            _stop(crawler)
            _stop(sim)
    row = compare(truth, result)
    c = result["counters"]
    packets = c.get("packets_datagrams_in", 0) + c.get("packets_datagrams_out", 0)
    row.update(
        wall=result["wall"], cpu=result["cpu"], rss_mb=result["maxrss_kb"] / 1024, sim_cpu=sim_cpu,
        sim_start=sim_start, packets=packets, us_per_packet=1e6 * result["cpu"] / max(1, packets),
        load=(load0, load1), counters=c, sim_stats=sim_stats,
    )  # fmt: skip
    return row


def run_dpt(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Crawl ``n`` @ethereumjs/devp2p DPT nodes (tests/peers harness, one Node.js process) with the CLI's defaults."""
    import asyncio

    sys.path.insert(0, str(ROOT / "tests"))
    from peers.harness import start_dpt_network

    from monitor.crawl.rlpx_stage import RlpxSettings
    from monitor.crawl.runner import CrawlSettings, run_crawl
    from monitor.discovery.enode import parse_node_url

    with start_dpt_network(n, seed=7, base="127.62.0.1", udp_port=28300, tcp_port=28400, timeout=120) as nodes:
        settings = CrawlSettings(
            bootnodes=[parse_node_url(nodes[0]["enode"])],
            network="dpt",
            netrestrict="127.62.0.0/16",
            listen_host="127.62.255.1",
            duration=60,
            rlpx=RlpxSettings(enabled=False),
        )
        before = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        outcome = asyncio.run(run_crawl(settings))
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF)
    truth = {node["id"] for node in nodes}
    found = {r.node_id for r in outcome.nodes}
    firsts = sorted(r.first_seen - outcome.meta.started_at for r in outcome.nodes if r.node_id in truth)
    c = outcome.meta.counters
    return {
        "nodes": n,
        "found_pct": 100 * len(found & truth) / n,
        "t99_found": _t99(firsts, n),
        "wall": wall,
        "cpu": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
        "counters": {k: v for k, v in c.items() if k.startswith(("packets_sent", "packets_timeout", "error_"))},
    }


HEADERS = [
    "live nodes", "table entries", "reachable found %", "ENR %", "t99 found s", "t99 ENR s", "wall s",
    "CPU s (crawler)", "µs CPU/packet", "peak RSS MB", "RSS MB /10k entries", "packets", "simulator CPU s",
]  # fmt: skip


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "—" if x is None else format(x, spec)


def cells(r: dict[str, Any]) -> list[str]:
    return [
        f"{r['live']:,}", f"{r['entries']:,}", f"{r['found_pct']:.2f}", f"{r['enr_pct']:.2f}", _fmt(r["t99_found"]),
        _fmt(r["t99_enr"]), f"{r['wall']:.1f}", f"{r['cpu']:.1f}", f"{r['us_per_packet']:.0f}", f"{r['rss_mb']:.0f}",
        f"{10_000 * r['rss_mb'] / r['entries']:.0f}", f"{r['packets']:,}", f"{r['sim_cpu']:.1f}",
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000", help="live nodes, comma-separated (20000)")
    parser.add_argument("--concurrency", type=int, default=2048)
    parser.add_argument("--send-rate", type=float, default=5000.0, help="crawler requests per second (5000)")
    parser.add_argument("--timeout", type=float, default=1.0, help="longest request timeout (1.0)")
    parser.add_argument("--max-duration", type=float, default=175.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=28001, help="first simulator port (28001); crawler: +900")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dpt", type=int, help="instead: crawl this many @ethereumjs/devp2p DPT nodes")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.dpt:
        row = run_dpt(args.dpt, args)
        print(json.dumps(row, indent=1))
        return 0
    rows = []
    for index, live in enumerate(int(s) for s in args.sizes.split(",") if s.strip()):
        print(f"run {index}: {live:,} live nodes", file=sys.stderr, flush=True)
        row = run_one(live, index, args)
        rows.append(row)
        c = row["counters"]
        print(
            f"  {cells(row)}\n  joiners found {row['joiners_found']}/{row['joiners']}, leavers that answered "
            f"{row['leavers_answered']}/{row['leavers']}, listed found {row['listed_found_pct']:.2f} %, invented "
            f"{row['invented']}; load {row['load'][0]:.2f} -> {row['load'][1]:.2f}; sim start {row['sim_start']:.0f} s"
            f"\n  counters: { {k: v for k, v in sorted(c.items()) if not k.startswith(('layer_', 'network_'))} }"
            f"\n  simulator: {row['sim_stats']}",
            file=sys.stderr,
            flush=True,
        )
    table = [HEADERS, *(cells(r) for r in rows)]
    if args.markdown:
        print("| " + " | ".join(HEADERS) + " |\n|" + "|".join("---:" for _ in HEADERS) + "|")
        print("\n".join("| " + " | ".join(c) + " |" for c in table[1:]))
    else:
        print("\n".join("  ".join(c) for c in table))
    print(f"(load average at the end {_loadavg():.2f} on {os.cpu_count()} CPUs)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
