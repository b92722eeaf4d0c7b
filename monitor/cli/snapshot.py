"""``monitor snapshot``: crawl, attribute, analyse, print the report, write JSON + CSV."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from pathlib import Path
from typing import Any

from monitor.analysis.jsonform import analysis_to_dict
from monitor.analysis.report import analyse
from monitor.cli.flags import (
    add_attribution_args,
    add_crawl_args,
    check_out_dir,
    crawl_progress,
    settings_from_args,
)
from monitor.hosting import load_default_resolver
from monitor.outputs.terminal.layout import report_console
from monitor.outputs.terminal.report import render_report
from monitor.pipeline import save_snapshot, take_snapshot
from monitor.seeds import load_claims

__all__ = ["register"]


def register(subparsers: Any) -> None:
    snap = subparsers.add_parser("snapshot", help="crawl, attribute, analyse; print the report; write JSON + CSV")
    add_crawl_args(snap)
    add_attribution_args(snap)
    snap.add_argument("--out", type=Path, default=Path("snapshots"), help="output directory (./snapshots)")
    snap.add_argument("--claims", type=Path, default=None, help="claims file (default: seeds/claims.toml)")
    snap.add_argument("--seed", type=int, default=1, help="seed of the bootstrap resampling (reproducible)")
    snap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates for HHI/Nakamoto intervals")
    snap.add_argument("--simulated", action="store_true", help="label every output as simulated (devnet demo)")
    snap.add_argument("--json", action="store_true", help="print the analysis as JSON instead of tables")
    snap.set_defaults(func=cmd_snapshot)


def cmd_snapshot(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    check_out_dir(args.out)
    claims = load_claims(args.claims)
    resolver = load_default_resolver(offline=args.offline, overlays=args.ranges, data_dir=args.data_dir)
    with crawl_progress(args.quiet, settings.duration) as progress:
        snapshot = asyncio.run(
            take_snapshot(settings, resolver, simulated=args.simulated, rpc_urls=args.rpc, on_progress=progress)
        )
    json_path, csv_path = save_snapshot(snapshot, args.out)
    analysis = analyse(snapshot, rng=random.Random(args.seed), claims=claims, bootstrap_samples=args.bootstrap)
    if args.json:
        payload = {"snapshot": str(json_path), "csv": str(csv_path), "analysis": analysis_to_dict(analysis)}
        sys.stdout.write(json.dumps(payload, indent=1) + "\n")
    else:
        console = report_console()
        render_report(console, analysis)
        console.print(f"wrote {json_path}\nwrote {csv_path}", markup=False)
    return 0
