"""``monitor classify`` and ``monitor data update|status``: parse, call the hosting library, render (rich or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from monitor.errors import ConfigError
from monitor.hosting.classify import classify_inputs
from monitor.hosting.loading import load_default_resolver

__all__ = ["register", "data_args", "stdout_console"]

_FIELDS = ("provider", "category", "region", "country", "asn", "as_name", "source", "data_date")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("classify", help="provider, hosting category, region, country and AS of IP addresses")
    p.add_argument("ips", nargs="+", metavar="IP", help="addresses, or '-' to read one per line from stdin")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--offline", action="store_true", help="never ask ipwhois (Cymru DNS / RDAP) about unknown IPs")
    data_args(p)
    p.set_defaults(func=cmd_classify)


def data_args(p: argparse.ArgumentParser, ranges: bool = True) -> None:
    p.add_argument("--data-dir", type=Path, default=None, help="dataset directory (env MONITOR_DATA_DIR)")
    if ranges:
        help_text = "overlay range file (CSV/JSON prefix -> provider/region); wins over everything"
        p.add_argument("--ranges", action="append", type=Path, default=[], metavar="FILE", help=help_text)


def stdout_console() -> Console:
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
        stdout_console().print(table)
    for r in rows:
        if "error" in r:
            sys.stderr.write(f"monitor classify: {r['ip']!r}: {r['error']}\n")
    return 2 if any("error" in r for r in rows) else 0
