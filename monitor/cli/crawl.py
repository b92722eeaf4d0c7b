"""``monitor crawl``: crawl only, and write the raw node records as JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.cli.flags import add_crawl_args, check_out_dir, crawl_progress, settings_from_args
from monitor.crawl.runner import run_crawl
from monitor.snapshot import LAYERS, write_jsonl

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    crawl = subparsers.add_parser(
        "crawl", help="crawl discovery (discv4, discv5) and write the raw node records (JSON lines)"
    )
    add_crawl_args(crawl)
    crawl.add_argument("--out", type=Path, default=Path("snapshots"), help="output directory (./snapshots)")
    crawl.add_argument("--json", action="store_true", help="print the crawl summary as JSON")
    crawl.set_defaults(func=cmd_crawl)


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


def _counts(counts: dict[str, int]) -> str:
    return " / ".join(f"{name.replace('+', ' and ')} {n}" for name, n in counts.items()) or "none"


def cmd_crawl(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    check_out_dir(args.out)
    journal = args.out / f"crawl-{_stamp(time.time())}.partial.jsonl"  # kept if the crawl never finishes
    settings = dataclasses.replace(settings, journal=journal)
    with crawl_progress(args.quiet, settings.duration) as progress:
        outcome = asyncio.run(run_crawl(settings, on_progress=progress))
    path = args.out / f"crawl-{_stamp(outcome.meta.started_at)}.jsonl"
    write_jsonl(outcome.nodes, path, outcome.meta)
    journal.unlink(missing_ok=True)
    c = outcome.meta.counters
    filtered = dict(outcome.meta.filtered)
    summary: dict[str, Any] = {
        "file": str(path),
        "discovered": c["discovered"],
        "answered_ping": c["answered_ping"],
        "answered_findnode": c["answered_findnode"],
        "enr_fetched": c["enr_fetched"],
        "mainnet": c["network_mainnet"],
        "other": c["network_other"],
        "unknown": c["network_unknown"],
        "layers": {layer: c.get(f"layer_{layer}", 0) for layer in LAYERS},
        "protocols": dict(Counter("+".join(n.protocols) for n in outcome.nodes)),
        "filtered": filtered,
        "seconds": round(outcome.meta.ended_at - outcome.meta.started_at, 1),
    }
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    else:
        reasons = ", ".join(f"{k} {v}" for k, v in filtered.items()) or "none"
        sys.stdout.write(
            f"{summary['discovered']} nodes discovered in {summary['seconds']} s: "
            f"{summary['answered_ping']} answered PING, {summary['answered_findnode']} answered FINDNODE, "
            f"{summary['enr_fetched']} ENRs; network mainnet {summary['mainnet']} / other {summary['other']} / "
            f"unknown {summary['unknown']}; not contacted (by reason): {reasons}\n"
            f"layers: {_counts(summary['layers'])}; seen by: {_counts(summary['protocols'])}\n"
            f"wrote {path}\n"
        )
    return 0
