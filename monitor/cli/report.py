"""``monitor report SNAPSHOT``: analyse a stored snapshot; print the terminal report, and/or write the self-contained
HTML report (``--html FILE``), and/or print the analysis as JSON (``--json``)."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from monitor.analysis.bootstrap import DEFAULT_SAMPLES
from monitor.analysis.jsonform import analysis_to_dict
from monitor.analysis.report import analyse
from monitor.errors import ConfigError
from monitor.fileio import atomic_write_text
from monitor.outputs.html import render_html
from monitor.outputs.terminal.layout import report_console
from monitor.outputs.terminal.report import render_report
from monitor.seeds import load_claims
from monitor.snapshot import read_json

__all__ = ["register", "report_command", "write_atomic"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="print the report of a stored snapshot; --html FILE writes it as one HTML file, --json as JSON",
        description=(
            "Analyse a stored snapshot: provider, region and country shares with 95 % intervals under every "
            "denominator, nodes per IP, concentration indices and the claim check. By default the report is printed "
            "as tables sized to the terminal (COLUMNS when set, else the terminal's width; 80 when piped). "
            "--html FILE writes a self-contained HTML report with inline charts instead (it needs no network to "
            "open), --json prints the whole analysis as JSON instead; both can be given together, and --terminal "
            "prints the tables as well."
        ),
    )
    parser.add_argument("snapshot", type=Path, metavar="SNAPSHOT", help="snapshot JSON written by `monitor snapshot`")
    parser.add_argument("--html", type=Path, default=None, metavar="FILE", help="write the HTML report to FILE")
    parser.add_argument("--json", action="store_true", help="print the analysis as JSON on standard output")
    parser.add_argument(
        "--terminal",
        action="store_true",
        help="print the terminal report as well (the default when neither --html nor --json is given)",
    )
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
    as_json: bool = getattr(args, "json", False)
    terminal: bool = getattr(args, "terminal", False) or (args.html is None and not as_json)
    if as_json and terminal:
        raise ConfigError("--json and --terminal both print to standard output; choose one")
    if args.bootstrap < 0:
        raise ConfigError("--bootstrap must be 0 or more")
    claims = load_claims(args.claims)
    snapshot = read_json(args.snapshot)
    analysis = analyse(snapshot, rng=random.Random(args.seed), claims=claims, bootstrap_samples=args.bootstrap)
    if terminal:
        render_report(report_console(), analysis)
    if args.html is not None:
        write_atomic(args.html, render_html(analysis, snapshot.meta))
        if not getattr(args, "quiet", False):
            # With --json, stdout holds the JSON document alone.
            (sys.stderr if as_json else sys.stdout).write(f"wrote {args.html}\n")
    if as_json:
        payload: dict[str, object] = {"snapshot": str(args.snapshot), "analysis": analysis_to_dict(analysis)}
        if args.html is not None:
            payload["html"] = str(args.html)
        sys.stdout.write(json.dumps(payload, indent=1) + "\n")
    return 0
