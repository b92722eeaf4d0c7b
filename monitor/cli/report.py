"""``monitor report SNAPSHOT --html FILE``: analyse a stored snapshot and write the self-contained HTML report."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

from monitor.analysis.bootstrap import DEFAULT_SAMPLES
from monitor.analysis.report import analyse
from monitor.errors import ConfigError
from monitor.fileio import atomic_write_text
from monitor.outputs.html import render_html
from monitor.seeds import load_claims
from monitor.snapshot import read_json

__all__ = ["register", "report_command", "write_atomic"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report (charts, claim check, method) of a stored snapshot",
        description=(
            "Analyse a stored snapshot and write one HTML file with inline charts: provider, region and country "
            "shares with 95 % intervals under every denominator, nodes per IP, concentration indices and the claim "
            "check. The file needs no network to open."
        ),
    )
    parser.add_argument("snapshot", type=Path, metavar="SNAPSHOT", help="snapshot JSON written by `monitor snapshot`")
    parser.add_argument("--html", type=Path, default=None, metavar="FILE", help="where to write the report")
    parser.add_argument("--claims", type=Path, default=None, metavar="FILE", help="claims TOML file")
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="seed of the bootstrap resampling (1)")
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=DEFAULT_SAMPLES,
        metavar="N",
        help=f"bootstrap replicates for the HHI and Nakamoto intervals, 0 to switch off ({DEFAULT_SAMPLES})",
    )
    parser.set_defaults(func=report_command)


def write_atomic(path: Path, text: str) -> None:
    if path.is_dir():
        raise ConfigError(f"--html {path} is a directory; name a file")
    atomic_write_text(path, text)


def report_command(args: argparse.Namespace) -> int:
    if args.html is None:
        raise ConfigError("--html FILE is required (the HTML file is the report's only output)")
    if args.bootstrap < 0:
        raise ConfigError("--bootstrap must be 0 or more")
    claims = load_claims(args.claims)
    snapshot = read_json(args.snapshot)
    analysis = analyse(snapshot, rng=random.Random(args.seed), claims=claims, bootstrap_samples=args.bootstrap)
    write_atomic(args.html, render_html(analysis, snapshot.meta))
    if not getattr(args, "quiet", False):
        sys.stdout.write(f"wrote {args.html}\n")
    return 0
