"""Benchmark the discv5 crawl (and both protocols at once) on loopback: coverage, speed, handshakes, CPU and memory.

Usage::

    .venv/bin/python bench/crawl_v5.py                   # the three runs below (about 2 minutes on 2 cores)
    .venv/bin/python bench/crawl_v5.py --runs chainsafe --chainsafe-nodes 300 --markdown

Runs (``--runs``, comma-separated):

* ``ours``: 2,000 of our own discv5 nodes (``monitor devnet --discovery v5``), crawled with ``--discovery v5``;
* ``chainsafe``: 1,000 independent @chainsafe/discv5 nodes (``tests/peers``, one Node.js process, static tables of
  k = 16 random peers), crawled with ``--discovery v5``;
* ``mixed``: a mixed 2,000-node devnet (``monitor devnet --discovery both``: discv4-only, discv5-only and dual
  nodes with one key), crawled with ``--discovery both`` in one run.

As in ``bench/crawl.py`` the network runs in its own process and the crawler in a fresh interpreter (this script
with ``--worker``) that calls ``run_crawl`` once with ``netrestrict`` set to the network's /16 and RLPx off, and
reports its own CPU (getrusage delta around the crawl) and peak RSS; this parent compares the result with the
network's ground truth. Nothing is impaired (no added latency or loss); request timeout ``--timeout`` (0.5 s).
The networks' /16s and ports are options (``--ours-net``, ``--chainsafe-net``, ``--port-base``), so sessions that
share the machine can each bench in their own loopback block.

Figures: *coverage* = network nodes the crawl found / network nodes; *answered PING* = those it reached itself;
*ENRs* = network nodes whose signed record the crawl holds (discv5 returns records in NODES answers, so a node can
be counted before it is visited); *ENRs/s* = ENRs / wall; *s to 99 % of ENRs* = when the crawl first held 99 % of
the network's records (the walk goes on to visit every node; discv5 runs only: a discv4 record comes on the visit,
later than the node is first seen); *handshakes* = discv5 handshakes the crawler started (a visit
needs one; more means some were repeated) / accepted from peers;
*protocols and layer right* (mixed, in the details) = records whose ``protocols`` and ``layer`` equal the truth's.

Reference (not comparable one to one: a real network has latency, loss and NAT): a discv5 crawler that reported
about 50,000 ENRs in 55 s on mainnet, about 900 ENRs/s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from bench.crawl import _loadavg, _proc_cpu, _stop, code_version  # noqa: E402  (after the path set-up)

START_LIMIT = 240.0  # seconds to wait for a network to listen


# --------------------------------------------------------------------------------------------------------------
# The crawler process
# --------------------------------------------------------------------------------------------------------------


def worker(cfg: dict[str, Any]) -> None:
    """Run one crawl and write what the parent needs as JSON to cfg["result"]."""
    import asyncio

    from monitor.cli.flags import split_bootnodes
    from monitor.crawl.rlpx_stage import RlpxSettings
    from monitor.crawl.runner import CrawlSettings, run_crawl
    from monitor.discovery.enode import load_node_urls

    boot4, boot5 = split_bootnodes(load_node_urls(cfg["bootnodes"]))
    settings = CrawlSettings(
        bootnodes=boot4,
        bootnodes_v5=boot5,
        discovery=tuple(cfg["discovery"]),
        network="devnet",
        netrestrict=cfg["netrestrict"],
        listen_host=cfg["listen"],
        listen_port=cfg["port"],  # discv5 binds the next port; the networks never use the crawler's address
        timeout=cfg["timeout"],
        concurrency=cfg["concurrency"],
        duration=cfg["duration"],
        rlpx=RlpxSettings(enabled=False),  # discovery only
    )
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0, t_start = time.perf_counter(), time.time()
    outcome = asyncio.run(run_crawl(settings))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "wall": wall,
        "cpu": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
        "maxrss_kb": after.ru_maxrss,
        "nodes": {
            n.node_id: [n.enr is not None, list(n.protocols), n.layer, n.answered_ping, n.first_seen - t_start]
            for n in outcome.nodes
        },
        "counters": outcome.meta.counters,
    }
    Path(cfg["result"]).write_text(json.dumps(result), encoding="utf-8")


# --------------------------------------------------------------------------------------------------------------
# Networks and the parent
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    run: str
    protocols: str
    nodes: int
    found: int = 0
    answered: int = 0  # network nodes that answered the crawler's PING
    enrs_99: float = 0.0  # seconds from the crawl's start until 99 % of the network's records were held
    enrs: int = 0
    wall: float = 0.0
    handshakes_out: int = 0
    handshakes_in: int = 0
    cpu: float = 0.0
    rss_mb: float = 0.0
    network_cpu: float = 0.0
    start: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    right: int | None = None  # mixed: records whose protocols and layer match the truth
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        return self.found / self.nodes if self.nodes else 0.0

    @property
    def enr_rate(self) -> float:
        return self.enrs / self.wall if self.wall else 0.0


@dataclass
class Network:
    truth: dict[str, dict[str, Any]]  # node id -> what it runs
    bootnodes: Path
    pid: int
    start: float


@contextlib.contextmanager
def our_devnet(discovery: str, nodes: int, seed: int, work: Path, net: str, port: int) -> Iterator[Network]:
    out = work / "devnet"
    cmd = [str(ROOT / ".venv" / "bin" / "monitor"), "-q", "devnet", "--discovery", discovery, "--nodes", str(nodes),
           "--seed", str(seed), "--first-ip", f"{net}.0.1", "--port", str(port), "--out", str(out)]  # fmt: skip
    with (work / "devnet.log").open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        t0 = time.perf_counter()
        while not (out / "truth.json").exists():
            if proc.poll() is not None:
                raise RuntimeError(f"devnet exited with {proc.returncode}: {(work / 'devnet.log').read_text()}")
            if time.perf_counter() - t0 > START_LIMIT:
                raise RuntimeError(f"devnet of {nodes} nodes not ready after {START_LIMIT:.0f} s")
            time.sleep(0.1)
        truth = json.loads((out / "truth.json").read_text())["nodes"]
        by_id = {n["id"]: {"protocols": n.get("protocols", ["discv4"]), "layer": n.get("layer")} for n in truth}
        yield Network(by_id, out / "bootnodes.txt", proc.pid, time.perf_counter() - t0)
    finally:
        _stop(proc)


def _child_pid(marker: str) -> int:
    """The pid of our child process whose command line contains ``marker`` (0 if none)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            mine = int(text[text.rindex(")") + 2 :].split()[1]) == os.getpid()
            if mine and marker in (stat.parent / "cmdline").read_bytes().decode(errors="replace"):
                return int(stat.parent.name)
    return 0


@contextlib.contextmanager
def chainsafe_network(nodes: int, seed: int, work: Path, net: str, port: int) -> Iterator[Network]:
    from peers.discv5_harness import start_discv5_network

    t0 = time.perf_counter()
    with start_discv5_network(nodes, seed=seed, base=f"{net}.1.1", udp_port=port, timeout=START_LIMIT) as started:
        (work / "bootnodes.txt").write_text(started[0]["enr"] + "\n", encoding="utf-8")
        truth = {n["id"]: {"protocols": ["discv5"], "layer": "consensus"} for n in started}
        yield Network(truth, work / "bootnodes.txt", _child_pid("discv5_network.mjs"), time.perf_counter() - t0)


def run_one(name: str, args: argparse.Namespace) -> Row:
    discovery = ["discv4", "discv5"] if name == "mixed" else ["discv5"]
    nodes = args.chainsafe_nodes if name == "chainsafe" else args.nodes
    row = Row(name, "+".join(discovery), nodes)
    with tempfile.TemporaryDirectory(prefix="bench-crawl-v5-") as tmp:
        work = Path(tmp)
        if name == "chainsafe":
            block = args.chainsafe_net
            network = chainsafe_network(nodes, args.seed, work, block, args.port_base)
        else:
            block = args.ours_net
            network = our_devnet(
                "both" if name == "mixed" else "v5", nodes, args.seed, work, block, args.port_base + 100
            )
        netrestrict, listen = f"{block}.0.0/16", f"{block}.0.1"
        with network as net:
            row.start = net.start
            _log(f"  {name}: {nodes:,} nodes listening after {net.start:.1f} s")
            cfg = {"bootnodes": str(net.bootnodes), "discovery": discovery, "netrestrict": netrestrict,
                   "listen": listen, "port": args.port_base + 50, "concurrency": args.concurrency,
                   "timeout": args.timeout,
                   "duration": args.max_duration, "result": str(work / "result.json")}  # fmt: skip
            cpu0, load0 = _proc_cpu(net.pid), _loadavg()
            crawler = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(cfg)])
            row.network_cpu, row.load = _proc_cpu(net.pid) - cpu0, (load0, _loadavg())
            if crawler.returncode != 0:
                raise RuntimeError(f"crawler process failed with exit code {crawler.returncode}")
            compare(row, net.truth, json.loads((work / "result.json").read_text()))
    return row


def compare(row: Row, truth: dict[str, dict[str, Any]], result: dict[str, Any]) -> None:
    found = {k: v for k, v in result["nodes"].items() if k in truth}
    c = result["counters"]
    row.found, row.enrs = len(found), sum(v[0] for v in found.values())
    row.answered = sum(v[3] for v in found.values())
    seen = sorted(v[4] for v in found.values() if v[0])
    enough = len(seen) >= 0.99 * len(truth) and row.protocols == "discv5"
    row.enrs_99 = seen[max(0, math.ceil(0.99 * len(truth)) - 1)] if enough else float("nan")
    row.wall, row.cpu, row.rss_mb = result["wall"], result["cpu"], result["maxrss_kb"] / 1024
    row.handshakes_out = c.get("discv5_packets_session_handshake_sent", 0)
    row.handshakes_in = c.get("discv5_packets_handshake_accepted", 0)
    if len(row.protocols.split("+")) > 1:
        row.right = sum(v[1] == truth[k]["protocols"] and v[2] == truth[k]["layer"] for k, v in found.items())
    row.counters = c


HEADERS = [
    "network", "crawled", "nodes", "coverage %", "answered PING %", "wall s", "s to 99 % of ENRs", "ENRs", "ENRs/s",
    "handshakes out/in",
    "CPU s (crawler)", "peak RSS MB (crawler)", "network CPU s",
]  # fmt: skip


def _cells(r: Row) -> list[str]:
    label = {"ours": "our discv5 devnet", "chainsafe": "@chainsafe/discv5", "mixed": "mixed devnet"}[r.run]
    return [
        label, r.protocols.replace("+", " + "), f"{r.nodes:,}", f"{100 * r.coverage:.2f}",
        f"{100 * r.answered / r.nodes:.1f}", f"{r.wall:.1f}",
        "n/a" if math.isnan(r.enrs_99) else f"{r.enrs_99:.1f}",
        f"{r.enrs:,}", f"{r.enr_rate:.0f}", f"{r.handshakes_out:,}/{r.handshakes_in:,}", f"{r.cpu:.1f}",
        f"{r.rss_mb:.0f}", f"{r.network_cpu:.1f}",
    ]  # fmt: skip


def render(rows: list[Row], markdown: bool) -> str:
    table = [HEADERS, *(_cells(r) for r in rows)]
    if markdown:
        lines = ["| " + " | ".join(table[0]) + " |", "|" + "|".join("---:" for _ in table[0]) + "|"]
        return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in table[1:]])
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table)


def details(rows: list[Row]) -> str:
    out = []
    for r in rows:
        c = r.counters
        per = "; ".join(
            f"{p}: discovered {c.get(f'{p}_discovered', 0):,}, answered PING {c.get(f'{p}_answered_ping', 0):,}, "
            f"FINDNODE sent {c.get(f'{p}_findnode_sent', 0):,}"
            for p in r.protocols.split("+")
        )
        seen = ", ".join(
            f"{k.removeprefix('seen_by_')} {v:,}" for k, v in sorted(c.items()) if k.startswith("seen_by_")
        )
        layers = ", ".join(f"{k.removeprefix('layer_')} {v:,}" for k, v in sorted(c.items()) if k.startswith("layer_"))
        right = f"; protocols and layer as the truth says: {r.right:,}/{r.found:,}" if r.right is not None else ""
        out.append(
            f"- {r.run}: found {r.found:,}/{r.nodes:,}; {per}; layers {layers}"
            + (f"; seen by {seen}" if seen else "")
            + f"{right}; timeouts findnode {c.get('discv5_packets_timeout_findnode', 0):,} / ping "
            f"{c.get('discv5_packets_timeout_ping', 0):,}; deadline hit {bool(c.get('deadline_hit'))}; network "
            f"listening after {r.start:.1f} s; load average {r.load[0]:.2f} -> {r.load[1]:.2f}"
            + (" (OTHER LOAD ON THE MACHINE: figures not representative)" if r.load[0] > 1.5 else "")
        )
    return "\n".join(out)


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="ours,chainsafe,mixed", help="of ours, chainsafe, mixed (all three)")
    parser.add_argument("--nodes", type=int, default=2000, help="nodes of our devnets (2000)")
    parser.add_argument("--chainsafe-nodes", type=int, default=1000, help="@chainsafe/discv5 nodes (1000)")
    parser.add_argument("--concurrency", type=int, default=256, help="crawler concurrency (256, the default)")
    parser.add_argument("--timeout", type=float, default=0.5, help="request timeout in seconds (0.5)")
    parser.add_argument("--max-duration", type=float, default=120.0, help="crawl deadline in seconds (120)")
    parser.add_argument("--seed", type=int, default=5100, help="network seed (5100)")
    parser.add_argument("--ours-net", default="127.57", help="/16 of our devnets (127.57)")
    parser.add_argument("--chainsafe-net", default="127.58", help="/16 of the chainsafe network (127.58)")
    parser.add_argument("--port-base", type=int, default=27000, help="chainsafe port; +50 crawler, +100 devnet")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    if unknown := [r for r in runs if r not in ("ours", "chainsafe", "mixed")]:
        parser.error(f"unknown run(s) {unknown}")
    version, started = code_version(), time.perf_counter()
    _log(f"monitor code {version}")
    rows = []
    for name in runs:
        rows.append(run_one(name, args))
        _log("  " + details([rows[-1]])[2:])
    print(render(rows, args.markdown))
    print()
    print(details(rows))
    print(f"\n(monitor code {version}; request timeout {args.timeout:g} s, concurrency {args.concurrency}; total bench "
          f"time {time.perf_counter() - started:.0f} s on {os.cpu_count()} CPUs)")  # fmt: skip
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
