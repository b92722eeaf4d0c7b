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
from typing import TYPE_CHECKING, Any

from monitor.cli.flags import add_crawl_args, check_out_dir, crawl_progress, settings_from_args
from monitor.crawl.runner import CrawlOutcome, CrawlSettings, run_crawl
from monitor.snapshot import LAYERS, Snapshot, write_jsonl

if TYPE_CHECKING:
    from collections.abc import Callable

    from monitor.cli.crawl_store import StorePlan
    from monitor.crawl.engine import EngineProgress

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    crawl = subparsers.add_parser(
        "crawl", help="crawl discovery (discv4, discv5) and write the raw node records (JSON lines)"
    )
    add_crawl_args(crawl)
    crawl.add_argument("--out", type=Path, default=Path("snapshots"), help="output directory (./snapshots)")
    crawl.add_argument("--json", action="store_true", help="print the crawl summary as JSON")
    h = crawl.add_argument_group("history store (what `monitor serve` writes; several vantage points share one)")
    h.add_argument(
        "--store",
        default=None,
        help="also attribute (offline), analyse and record the crawl here: postgresql://... URL or a SQLite file "
        "(default: $MONITOR_STORE, else not stored)",
    )
    h.add_argument("--vantage", default=None, help="vantage point name of the stored crawl (default: the host name)")
    crawl.set_defaults(func=cmd_crawl)


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


def _counts(counts: dict[str, int]) -> str:
    return " / ".join(f"{name.replace('+', ' and ')} {n}" for name, n in counts.items()) or "none"


async def _crawl(
    settings: CrawlSettings,
    progress: Callable[[EngineProgress], None],
    plan: StorePlan | None,
    write: Callable[[CrawlOutcome], None],
) -> tuple[CrawlOutcome, str | None]:
    """Crawl, write the JSON lines (``write``) and, with a store, record the crawl there; the store is opened (and
    migrated) first so that a wrong URL fails at once, not after a ten-minute crawl."""
    if plan is None:
        outcome = await run_crawl(settings, on_progress=progress)
        write(outcome)
        return outcome, None
    from monitor.cli.crawl_store import record_crawl
    from monitor.store import open_store

    store = await open_store(plan.spec)
    try:
        outcome = await run_crawl(settings, on_progress=progress)
        outcome.meta = dataclasses.replace(outcome.meta, vantage=plan.vantage)  # the JSON lines name it too
        write(outcome)
        snapshot = Snapshot(meta=outcome.meta, nodes=tuple(outcome.nodes))
        await record_crawl(store, snapshot, plan.vantage, outcome.meta.started_at)
        return outcome, f"{store.location} (vantage {plan.vantage})"
    finally:
        await store.close()


def cmd_crawl(args: argparse.Namespace) -> int:
    from monitor.cli.crawl_store import plan_store

    plan = plan_store(args.store, args.vantage)
    settings = settings_from_args(args)
    check_out_dir(args.out)
    journal = args.out / f"crawl-{_stamp(time.time())}.partial.jsonl"  # kept if the crawl never finishes
    settings = dataclasses.replace(settings, journal=journal)
    path = args.out / "crawl.jsonl"

    def write(outcome: CrawlOutcome) -> None:
        nonlocal path
        path = args.out / f"crawl-{_stamp(outcome.meta.started_at)}.jsonl"
        write_jsonl(outcome.nodes, path, outcome.meta)
        journal.unlink(missing_ok=True)

    with crawl_progress(args.quiet, settings.duration) as progress:
        outcome, stored = asyncio.run(_crawl(settings, progress, plan, write))
    _report(args.json, outcome, path, stored)
    return 0


def _report(as_json: bool, outcome: CrawlOutcome, path: Path, stored: str | None) -> None:
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
        "stored": stored,
    }
    if as_json:
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
        if stored is not None:
            sys.stdout.write(f"stored in {stored}\n")
