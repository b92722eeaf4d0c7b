"""``monitor classify`` and ``monitor data update|status``: parse, call the hosting library, render (rich or JSON)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table

from monitor.errors import ConfigError
from monitor.hosting.asn import ProviderAsns, load_geoip2fast
from monitor.hosting.bundled import cloudip_path, load_cloudip
from monitor.hosting.loading import load_default_resolver
from monitor.hosting.prefixes import is_public, parse_ip
from monitor.hosting.resolver import UNKNOWN, Resolver
from monitor.hosting.store import DATASETS, DatasetStore, default_data_dir
from monitor.hosting.update import update_datasets
from monitor.hosting.whois import WhoisAnswer, from_answer

__all__ = ["register", "classify_inputs"]

_FIELDS = ("provider", "category", "region", "country", "asn", "as_name", "source", "data_date")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("classify", help="provider, hosting category, region, country and AS of IP addresses")
    p.add_argument("ips", nargs="+", metavar="IP", help="addresses, or '-' to read one per line from stdin")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--offline", action="store_true", help="never ask ipwhois (Cymru DNS / RDAP) about unknown IPs")
    _data_args(p)
    p.set_defaults(func=cmd_classify)

    d = subparsers.add_parser("data", help="IP datasets: refresh and status")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    u = dsub.add_parser("update", help="download every dataset from its canonical URL")
    u.add_argument("--only", action="append", default=[], metavar="NAME", help="refresh only this dataset (repeat)")
    u.add_argument("--url", action="append", default=[], metavar="NAME=URL", help="override a dataset's URL")
    u.add_argument("--timeout", type=float, default=120.0, help="seconds per download (default 120)")
    u.add_argument("--retries", type=int, default=3, help="retries after a 5xx or network error (default 3)")
    u.add_argument("--json", action="store_true")
    _data_args(u, ranges=False)
    u.set_defaults(func=cmd_data_update)
    s = dsub.add_parser("status", help="every dataset with its source, date and age")
    s.add_argument("--json", action="store_true")
    _data_args(s, ranges=False)
    s.set_defaults(func=cmd_data_status)


def _data_args(p: argparse.ArgumentParser, ranges: bool = True) -> None:
    p.add_argument("--data-dir", type=Path, default=None, help="dataset directory (env MONITOR_DATA_DIR)")
    if ranges:
        help_text = "overlay range file (CSV/JSON prefix -> provider/region); wins over everything"
        p.add_argument("--ranges", action="append", type=Path, default=[], metavar="FILE", help=help_text)


def _console() -> Console:
    # Piped output keeps whole values (no "…" truncation at 80 columns); a terminal gets its own width.
    return Console() if sys.stdout.isatty() else Console(width=220)


def _read_inputs(args: Sequence[str]) -> list[str]:
    out: list[str] = []
    for arg in args:
        if arg == "-":
            out.extend(line.strip() for line in sys.stdin if line.strip() and not line.lstrip().startswith("#"))
        else:
            out.append(arg.strip())
    return out


def _input_error(resolver: Resolver, text: str) -> str | None:
    try:
        version, value = parse_ip(text)
    except ValueError:
        return "not an IP address"
    if not is_public(text) and not resolver.overlay_covers(version, value):
        return "private, loopback or reserved address: no hosting attribution (add an overlay with --ranges to map it)"
    return None


def classify_inputs(resolver: Resolver, inputs: Iterable[str]) -> list[dict[str, Any]]:
    """One row per input: the attribution fields, or ``error``. Unknown public IPs go to ``resolver.fallback``."""
    rows: list[dict[str, Any]] = []
    for text in inputs:
        error = _input_error(resolver, text)
        if error is not None:
            rows.append({"ip": text, "error": error})
        else:
            rows.append({"ip": text, **dataclasses.asdict(resolver.lookup(text))})
    if resolver.fallback is not None:
        unknown = [r["ip"] for r in rows if r.get("provider") == UNKNOWN]
        answers: dict[str, WhoisAnswer] = asyncio.run(resolver.fallback.lookup_many(unknown)) if unknown else {}
        for row in rows:
            if row["ip"] in answers and row.get("provider") == UNKNOWN:
                local = resolver.lookup(row["ip"])
                row.update(dataclasses.asdict(from_answer(resolver, local, answers[row["ip"]])))
    return rows


def cmd_classify(args: argparse.Namespace) -> int:
    inputs = _read_inputs(args.ips)
    if not inputs:
        raise ConfigError("no IP addresses given")
    resolver = load_default_resolver(offline=args.offline, overlays=args.ranges, data_dir=args.data_dir)
    rows = classify_inputs(resolver, inputs)
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
    else:
        columns = (*_FIELDS, "error") if any("error" in r for r in rows) else _FIELDS
        table = Table("ip", *columns)
        for r in rows:
            table.add_row(r["ip"], *("" if r.get(f) is None else str(r[f]) for f in columns))
        _console().print(table)
    for r in rows:
        if "error" in r:
            sys.stderr.write(f"monitor classify: {r['ip']!r}: {r['error']}\n")
    return 2 if any("error" in r for r in rows) else 0


def _age_days(date: str | None, now: float) -> float | None:
    try:
        then = datetime.strptime(date or "", "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
    return round((now - then) / 86_400, 1)


def dataset_status(data_dir: Path, now: float | None = None) -> list[dict[str, Any]]:
    now = time.time() if now is None else now
    cloud = load_cloudip()  # columns: only its name and date are shown
    geo = load_geoip2fast()
    rows: list[dict[str, Any]] = [
        {"name": cloud.name, "kind": "bundled", "source": str(cloudip_path()), "data_date": cloud.data_date},
        {"name": geo.source, "kind": "bundled", "source": "geoip2fast package (GeoLite2)", "data_date": geo.data_date},
        {"name": "asn-providers", "kind": "bundled", "source": "monitor/hosting/data/asn_providers.csv",
         "data_date": ProviderAsns.bundled().data_date},
    ]  # fmt: skip
    manifest = DatasetStore(data_dir).manifest()
    for spec in DATASETS:
        entry = manifest.get(spec.name)
        rows.append({
            "name": spec.name, "kind": "refreshed" if entry else "not fetched",
            "source": entry.url if entry else spec.url, "data_date": entry.data_date if entry else None,
            "fetched_at": datetime.fromtimestamp(entry.fetched_at, UTC).isoformat() if entry else None,
            "size": entry.size if entry else None, "sha256": entry.sha256 if entry else None,
        })  # fmt: skip
    for row in rows:
        row["age_days"] = _age_days(row["data_date"], now)
    return rows


def cmd_data_status(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or default_data_dir()
    rows = dataset_status(data_dir)
    if args.json:
        sys.stdout.write(json.dumps({"data_dir": str(data_dir), "datasets": rows}, indent=1) + "\n")
        return 0
    table = Table("dataset", "kind", "data date", "age (days)", "source", title=f"datasets in {data_dir}")
    for r in rows:
        age = "" if r["age_days"] is None else f"{r['age_days']:.0f}"
        table.add_row(r["name"], r["kind"], r["data_date"] or "-", age, r["source"])
    _console().print(table)
    return 0


def _url_overrides(pairs: Sequence[str]) -> dict[str, str]:
    names = {s.name for s in DATASETS}
    out = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or name not in names or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--url expects NAME=http(s)://..., NAME one of {', '.join(sorted(names))}; got {pair!r}")
        out[name] = url
    return out


def _cache_outcome(data_dir: Path, started: float, seconds: float) -> str:
    """What the load after an update (begun at wall time ``started``) did with the lookup cache; the load logs,
    but does not raise, a failed cache write."""
    cached = list((data_dir / "cache").glob("fused-*.bin"))
    if any(p.stat().st_mtime >= started - 1 for p in cached):
        return f"lookup tables rebuilt in {seconds:.1f} s and cached in {data_dir / 'cache'}"
    if cached:
        return "lookup tables unchanged (the cached ones match the data)"
    return f"lookup tables rebuilt in {seconds:.1f} s, but the cache in {data_dir / 'cache'} could not be written"


def cmd_data_update(args: argparse.Namespace) -> int:
    names = {s.name for s in DATASETS}
    unknown = [n for n in args.only if n not in names]
    if unknown:
        raise ConfigError(f"unknown dataset {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    specs = [s for s in DATASETS if not args.only or s.name in args.only]
    data_dir = args.data_dir or default_data_dir()
    store = DatasetStore(data_dir)
    urls = _url_overrides(args.url)
    quiet = args.json or getattr(args, "quiet", False) or not sys.stderr.isatty()
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=console,
                  disable=quiet) as bar:  # fmt: skip
        tasks = {s.name: bar.add_task(s.name, total=None) for s in specs}

        def progress(name: str, done: int, total: int | None) -> None:
            bar.update(tasks[name], completed=done, total=total)

        results = asyncio.run(update_datasets(store, specs, urls=urls, timeout_s=args.timeout, retries=args.retries,
                                              progress=progress))  # fmt: skip
    tables = None
    if any(r.ok for r in results):
        # Build the lookup tables over the new data now (and cache them), so the next command loads them warm
        # (~0.05 s) instead of paying the rebuild (~0.8 s, ~2 s more with a refreshed iptoasn file).
        wall, t = time.time(), time.perf_counter()
        load_default_resolver(data_dir=data_dir)
        tables = _cache_outcome(data_dir, wall, time.perf_counter() - t)
    if args.json:
        doc = [{"name": r.name, "ok": r.ok, "message": r.message} for r in results]
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    else:
        for r in results:
            sys.stdout.write(f"{'ok  ' if r.ok else 'FAIL'} {r.message}\n")
        if tables is not None:
            sys.stdout.write(tables + "\n")
    return 0 if all(r.ok for r in results) else 1
