"""Benchmark the discv4 crawler against a local devnet: coverage, speed, FINDNODE economy, CPU and memory.

Usage::

    .venv/bin/python bench/crawl.py                      # 500 and 2,000 nodes, clean and lossy (< ~3 min)
    .venv/bin/python bench/crawl.py --sizes 2000 --scenarios clean --repeat 3 --markdown

Each run has three processes, so that the crawler's own CPU and memory are measured alone:

* the devnet: ``monitor -q devnet`` in its own process (distinct seed, first address and port per run); the
  benchmark waits for its ``truth.json`` (written once every node listens) and always terminates it at the end,
  also on errors and Ctrl-C;
* the crawler: this script re-run with ``--worker`` in a fresh interpreter: it calls ``run_crawl`` once, with
  ``netrestrict="127.0.0.0/8"`` (nothing is ever sent off the loopback), and reports the getrusage(RUSAGE_SELF)
  CPU delta around the crawl and its peak RSS (ru_maxrss, read before the result is serialised);
* this parent, which compares the crawl with the devnet's ground truth. The devnet's CPU during the crawl is read
  from /proc/<pid>/stat.

Scenarios: ``clean`` (no impairment, request timeout 0.5 s) and ``lossy`` (every devnet node delays each datagram
it sends by 50 ms and drops 10 % of them; request timeout 1 s). The crawler's own sends are not impaired.

Figures
-------
coverage
    |nodes the crawl found ∩ devnet nodes| / |devnet nodes|.
wall, visits/s
    wall-clock seconds of ``run_crawl`` (socket set-up to engine end); visits = nodes contacted (PING sent).
FINDNODE per node: sent vs minimum
    Averaged over the devnet nodes that the crawler visited and that answered PING. *sent* is the crawler's
    ``Visit.findnode_sent`` (retries of one request are not counted again). *minimum* is computed from ground
    truth for every such node P, under the same rules the crawler plays by: a FINDNODE is answered with the
    k = 16 entries of P's table closest (XOR) to keccak256(target), and the crawler may ask its 17 bucket
    queries ``target_for(P, d)`` for d = 256..239 (the exact targets the crawler sends). The minimum is the
    smallest number of those queries whose answers together contain every table entry they can reach at all
    (an exact set cover, solved per node; entries no bucket query can reach are counted separately and are
    0 on these devnets). It is therefore what a walk that knew the table in advance would need. Two
    reference points are printed with it: the plain lower bound ceil(|table| / 16) (any targets at all),
    and the "one query per non-empty bucket" count (non-empty buckets among 256..240, plus 1 if anything
    is at distance <= 239), which over-counts because the answer for a sparse bucket spills into deeper ones.
tables read
    share of those nodes whose whole ground-truth table appeared in their answers (the walk did not stop early).
CPU s, peak RSS
    crawler process only (user + system CPU during the crawl; peak resident set of the whole crawler process,
    interpreter and imports included, which is ~idle RSS plus what the crawl added).
packets
    datagrams the crawler sent / received.

Target (issue): 2,000 nodes, >= 99.5 % coverage, <= 30 s wall with no added latency, on a 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCENARIOS: dict[str, dict[str, float]] = {
    "clean": {"latency": 0.0, "loss": 0.0, "timeout": 0.5},
    "lossy": {"latency": 0.05, "loss": 0.10, "timeout": 1.0},
}
K = 16  # answer size (BUCKET_SIZE)
DEVNET_START_LIMIT = 240.0  # seconds to wait for truth.json
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------------------
# The crawler process
# --------------------------------------------------------------------------------------------------------------


def worker(cfg: dict[str, Any]) -> None:
    """Run one crawl and write what the parent needs as JSON to cfg["result"]."""
    import asyncio

    from monitor.crawl.rlpx_stage import RlpxSettings
    from monitor.crawl.runner import CrawlSettings, run_crawl
    from monitor.discovery.enode import load_node_urls

    bootnodes = load_node_urls(cfg["bootnodes"])
    settings = CrawlSettings(
        bootnodes=bootnodes,
        network="mainnet",
        netrestrict="127.0.0.0/8",
        timeout=cfg["timeout"],
        concurrency=cfg["concurrency"],
        duration=cfg["duration"],
        rlpx=RlpxSettings(enabled=False),  # discovery only: the RLPx stage has its own benchmark (bench/rlpx.py)
    )
    idle_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if cfg.get("profile"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        outcome = profiler.runcall(asyncio.run, run_crawl(settings))
        wall = time.perf_counter() - t0
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
    else:
        outcome = asyncio.run(run_crawl(settings))
        wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    visits = {
        key.hex(): [v.answered_ping, v.findnode_sent, v.findnode_answered, sorted(pk.hex()[:16] for pk in v.seen)]
        for key, v in outcome.engines["discv4"].results.items()
    }
    result = {
        "wall": wall,
        "cpu_user": after.ru_utime - before.ru_utime,
        "cpu_sys": after.ru_stime - before.ru_stime,
        "maxrss_kb": after.ru_maxrss,
        "involuntary_switches": after.ru_nivcsw - before.ru_nivcsw,
        "idle_rss_kb": idle_rss,
        "found": [n.node_id for n in outcome.nodes],
        "visits": visits,
        "counters": outcome.meta.counters,
        "packets": {  # the discv4 part's socket and service counters, as the snapshot's counters name them
            k: outcome.meta.counters.get(f"packets_{k.replace(':', '_')}", 0)
            for k in ("datagrams_out", "datagrams_in", "sent:findnode")
        },
    }
    Path(cfg["result"]).write_text(json.dumps(result), encoding="utf-8")


# --------------------------------------------------------------------------------------------------------------
# Ground truth: the minimum FINDNODE per node
# --------------------------------------------------------------------------------------------------------------


def _min_cover(sets: list[int], universe: int) -> int:
    """Smallest number of bitmask ``sets`` whose union is ``universe`` (exact; the instances are tiny)."""
    if universe == 0:
        return 0
    uniq = sorted({s & universe for s in sets if s & universe}, key=lambda s: -s.bit_count())
    useful = [s for i, s in enumerate(uniq) if not any(o != s and (o | s) == o for o in uniq[:i] + uniq[i + 1 :])]
    chosen, covered = [], 0
    rest = universe
    while rest:  # elements only one set covers force that set
        low = rest & -rest
        rest ^= low
        holders = [s for s in useful if s & low]
        if len(holders) == 1 and holders[0] not in chosen:
            chosen.append(holders[0])
            covered |= holders[0]
    remaining = universe & ~covered
    if not remaining:
        return len(chosen)
    others = [s & remaining for s in useful if s not in chosen and s & remaining]
    for size in range(1, len(others) + 1):
        for combo in combinations(others, size):
            acc = 0
            for s in combo:
                acc |= s
            if acc == remaining:
                return len(chosen) + size
    raise AssertionError("universe not coverable")  # cannot happen: universe is the union of the sets


@dataclass
class TableNeeds:
    size: int
    minimum: int  # exact set cover with the crawler's 17 bucket targets
    lower_bound: int  # ceil(size / 16)
    per_bucket: int  # non-empty buckets 256..240, +1 if anything at <= 239
    unreachable: int  # entries none of the 17 bucket queries returns


def table_needs(truth: dict[str, Any]) -> dict[str, TableNeeds]:
    from monitor.crawl.discv4 import DISTANCES
    from monitor.crawl.targets import target_for
    from monitor.p2p.keys import keccak256

    hash_of: dict[bytes, int] = {}
    needs: dict[str, TableNeeds] = {}
    for node in truth["nodes"]:
        pid_bytes = bytes.fromhex(node["id"])
        pid = int.from_bytes(pid_bytes, "big")
        table = [int(t, 16) for t in node["table"]]
        m = len(table)
        sets = []
        for d in DISTANCES:
            target = target_for(pid_bytes, d)
            h = hash_of.get(target)
            if h is None:
                h = hash_of[target] = int.from_bytes(keccak256(target), "big")
            closest = sorted(range(m), key=lambda j, h=h: table[j] ^ h)[:K]
            mask = 0
            for j in closest:
                mask |= 1 << j
            sets.append(mask)
        reachable = 0
        for s in sets:
            reachable |= s
        buckets = {max((pid ^ t).bit_length(), 239) for t in table}
        needs[node["id"]] = TableNeeds(
            size=m,
            minimum=_min_cover(sets, reachable),
            lower_bound=math.ceil(m / K),
            per_bucket=len(buckets),
            unreachable=m - reachable.bit_count(),
        )
    return needs


# --------------------------------------------------------------------------------------------------------------
# The parent: devnet, crawl, comparison
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    nodes: int
    scenario: str
    run: int
    timeout: float
    devnet_start: float = 0.0
    coverage: float = 0.0
    found: int = 0
    answered: int = 0
    wall: float = 0.0
    visits: int = 0
    fn_sent: float = 0.0
    fn_min: float = 0.0
    fn_lb: float = 0.0
    fn_bucket: float = 0.0
    unreachable: int = 0
    tables_read: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    idle_rss_mb: float = 0.0
    sent: int = 0
    received: int = 0
    devnet_cpu: float = 0.0
    fn_packets: float = 0.0  # FINDNODE datagrams (retries and revisits included) per node contacted
    deadline_hit: bool = False
    load_before: float = 0.0  # 1-min load average when the crawl started (other processes compete for 2 cores)
    load_after: float = 0.0
    preempted: int = 0  # involuntary context switches of the crawler during the crawl
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.visits / self.wall if self.wall else 0.0

    @property
    def ratio(self) -> float:
        return self.fn_sent / self.fn_min if self.fn_min else 0.0


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start_devnet(
    nodes: int, run_index: int, sc: dict[str, float], work: Path, seed: int, port: int, first_octet: int
) -> Any:
    out = work / "devnet"
    log = (work / "devnet.log").open("wb")
    cmd = [
        str(ROOT / ".venv" / "bin" / "monitor"), "-q", "devnet", "--nodes", str(nodes), "--seed", str(seed),
        "--first-ip", f"127.{first_octet + run_index % 4}.0.1", "--port", str(port),
        "--latency", str(sc["latency"]), "--loss", str(sc["loss"]), "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    log.close()
    return proc, out


def run_one(nodes: int, scenario: str, run_index: int, args: argparse.Namespace) -> Row:
    sc = SCENARIOS[scenario]
    row = Row(nodes=nodes, scenario=scenario, run=run_index, timeout=sc["timeout"])
    seed, port = args.seed + run_index, args.port + run_index
    devnet = crawler = None
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        work = Path(tmp)
        try:
            t0 = time.perf_counter()
            devnet, out = _start_devnet(nodes, run_index, sc, work, seed, port, args.net)
            truth_path = out / "truth.json"
            while not truth_path.exists():
                if devnet.poll() is not None:
                    raise RuntimeError(f"devnet exited with {devnet.returncode}: {(work / 'devnet.log').read_text()}")
                if time.perf_counter() - t0 > DEVNET_START_LIMIT:
                    raise RuntimeError(f"devnet of {nodes} nodes not ready after {DEVNET_START_LIMIT:.0f} s")
                time.sleep(0.1)
            row.devnet_start = time.perf_counter() - t0
            _log(args, f"  devnet of {nodes} ready in {row.devnet_start:.1f} s (seed {seed}, port {port})")
            cfg = {
                "bootnodes": str(out / "bootnodes.txt"),
                "timeout": sc["timeout"],
                "concurrency": args.concurrency,
                "duration": args.max_duration,
                "result": str(work / "result.json"),
                "profile": args.profile,
            }
            devnet_cpu0 = _proc_cpu(devnet.pid)
            row.load_before = _loadavg()
            crawler = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(cfg)])
            if crawler.wait() != 0:
                raise RuntimeError(f"crawler process failed with exit code {crawler.returncode}")
            row.devnet_cpu = _proc_cpu(devnet.pid) - devnet_cpu0
            row.load_after = _loadavg()
            result = json.loads((work / "result.json").read_text())
            truth = json.loads(truth_path.read_text())
        finally:
            _stop(crawler)
            _stop(devnet)
    compare(row, truth, result)
    return row


def compare(row: Row, truth: dict[str, Any], result: dict[str, Any]) -> None:
    truth_ids = {n["id"] for n in truth["nodes"]}
    found = set(result["found"])
    row.found = len(found & truth_ids)
    row.coverage = row.found / len(truth_ids)
    visits = result["visits"]
    row.visits = len(visits) + int(result["counters"].get("revisits", 0))  # the engine keeps the latest visit only
    row.wall = result["wall"]
    row.cpu = result["cpu_user"] + result["cpu_sys"]
    row.rss_mb = result["maxrss_kb"] / 1024
    row.idle_rss_mb = result["idle_rss_kb"] / 1024
    packets = result["packets"]
    row.sent, row.received = packets.get("datagrams_out", 0), packets.get("datagrams_in", 0)
    row.counters = result["counters"]
    row.preempted = result.get("involuntary_switches", 0)
    row.fn_packets = packets.get("sent:findnode", 0) / max(1, len(visits))
    row.deadline_hit = bool(row.counters.get("deadline_hit"))
    needs = table_needs(truth)
    pubkey_of = {n["id"]: n["pubkey"] for n in truth["nodes"]}
    prefix_of = {n["id"]: {pubkey_of[x][:16] for x in n["table"]} for n in truth["nodes"]}
    answered = [nid for nid, v in visits.items() if v[0] and nid in truth_ids]
    row.answered = len(answered)
    if answered:
        row.fn_sent = sum(visits[n][1] for n in answered) / len(answered)
        row.fn_min = sum(needs[n].minimum for n in answered) / len(answered)
        row.fn_lb = sum(needs[n].lower_bound for n in answered) / len(answered)
        row.fn_bucket = sum(needs[n].per_bucket for n in answered) / len(answered)
        row.tables_read = sum(prefix_of[n] <= set(visits[n][3]) for n in answered) / len(answered)
    row.unreachable = sum(x.unreachable for x in needs.values())


# --------------------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------------------

HEADERS = [
    "nodes", "scenario", "timeout s", "coverage %", "wall s", "visits/s", "FINDNODE/node sent", "min",
    "sent/min", "CPU s (crawler)", "peak RSS MB (crawler)", "packets sent/recv", "devnet CPU s",
]  # fmt: skip


def _cells(r: Row) -> list[str]:
    return [
        f"{r.nodes:,}", r.scenario, f"{r.timeout:g}", f"{100 * r.coverage:.2f}", f"{r.wall:.1f}", f"{r.rate:.0f}",
        f"{r.fn_sent:.2f}", f"{r.fn_min:.2f}", f"{r.ratio:.2f}", f"{r.cpu:.1f}", f"{r.rss_mb:.0f}",
        f"{r.sent:,}/{r.received:,}", f"{r.devnet_cpu:.1f}",
    ]  # fmt: skip


def render(rows: list[Row], markdown: bool) -> str:
    table = [HEADERS, *(_cells(r) for r in rows)]
    if markdown:
        lines = ["| " + " | ".join(table[0]) + " |", "|" + "|".join("---:" for _ in table[0]) + "|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in table[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table)


def details(rows: list[Row]) -> str:
    out = []
    for r in rows:
        c = r.counters
        out.append(
            f"- {r.nodes:,} {r.scenario} (run {r.run}): found {r.found:,}/{r.nodes:,}, answered PING {r.answered:,}, "
            f"whole table read for {100 * r.tables_read:.1f} % of them; FINDNODE/node sent {r.fn_sent:.2f}, "
            f"minimum {r.fn_min:.2f}, lower bound ceil(|table|/16) {r.fn_lb:.2f}, one-per-non-empty-bucket "
            f"{r.fn_bucket:.2f}; FINDNODE datagrams per node contacted (retries, revisits) {r.fn_packets:.2f}; "
            f"revisits {c.get('revisits', 0):,}; unreachable table entries {r.unreachable}; findnode timeouts "
            f"{c.get('error_findnode_timeout', 0):,}, ping timeouts {c.get('error_ping_timeout', 0):,}, "
            f"deadline hit {r.deadline_hit}; crawler idle RSS {r.idle_rss_mb:.0f} MB; devnet start "
            f"{r.devnet_start:.1f} s; load average {r.load_before:.2f} -> {r.load_after:.2f}, crawler preempted "
            f"{r.preempted:,} times"
            + (" (OTHER LOAD ON THE MACHINE: figures not representative)" if r.load_before > 1.5 else "")
        )
    return "\n".join(out)


def code_version() -> str:
    """git HEAD plus a digest of uncommitted changes under monitor/ (the crawler code is what is measured)."""
    import hashlib

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    diff = git("diff", "HEAD", "--", "monitor")
    return f"{head}+dirty:{hashlib.sha256(diff.encode()).hexdigest()[:10]}" if diff else head


def _log(args: argparse.Namespace, text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,2000", help="devnet sizes, comma-separated (500,2000)")
    parser.add_argument("--scenarios", default="clean,lossy", help=f"of {','.join(SCENARIOS)} (both)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per combination, each on a new devnet (1)")
    parser.add_argument("--concurrency", type=int, default=256, help="crawler concurrency (256, the default)")
    parser.add_argument("--max-duration", type=float, default=120.0, help="crawl deadline in seconds (120)")
    parser.add_argument("--seed", type=int, default=4100, help="first devnet seed; +1 per run (4100)")
    parser.add_argument("--port", type=int, default=30400, help="first devnet port; +1 per run (30400)")
    parser.add_argument("--net", type=int, default=40, help="devnets use 127.NET.0.0/16 .. 127.NET+3 (40)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table ready for the README")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--profile", action="store_true", help="cProfile the crawler (slower; stats on stderr)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if unknown := [s for s in scenarios if s not in SCENARIOS]:
        parser.error(f"unknown scenario(s) {unknown}; known: {list(SCENARIOS)}")
    rows: list[Row] = []
    run_index = 0
    version = code_version()
    _log(args, f"monitor code {version}")
    started = time.perf_counter()
    try:
        for nodes in sizes:
            for scenario in scenarios:
                for rep in range(args.repeat):
                    sc = SCENARIOS[scenario]
                    _log(args, f"run {run_index}: {nodes} nodes, {scenario} (latency {sc['latency'] * 1000:g} ms, "
                               f"loss {sc['loss'] * 100:g} %, crawler timeout {sc['timeout']:g} s, "
                               f"concurrency {args.concurrency}), repeat {rep + 1}/{args.repeat}")  # fmt: skip
                    row = run_one(nodes, scenario, run_index, args)
                    rows.append(row)
                    _log(args, "  " + details([row])[2:])
                    run_index += 1
    except KeyboardInterrupt:
        _log(args, "interrupted; devnet and crawler stopped")
        if not rows:
            return 130
    print(render(rows, args.markdown))
    print()
    print(details(rows))
    print(
        f"\n(monitor code {version}; total bench time {time.perf_counter() - started:.0f} s on {os.cpu_count()} CPUs)"
    )
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ | {"rate": r.rate, "ratio": r.ratio} for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
