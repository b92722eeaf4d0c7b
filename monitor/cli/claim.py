"""``monitor claim [SNAPSHOT]``: re-evaluate the claims file against a stored snapshot."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitor.analysis.context import snapshot_context
from monitor.analysis.jsonform import claims_to_dict
from monitor.analysis.verdict import MIN_N_FOR_VERDICT, check_claims
from monitor.errors import ConfigError, SnapshotError
from monitor.outputs.terminal.claims import render_claims
from monitor.outputs.terminal.layout import report_console
from monitor.seeds import load_claims
from monitor.snapshot import read_json

__all__ = ["register", "claim_command", "newest_snapshot"]

DEFAULT_OUT = Path("snapshots")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "claim",
        help="check the claims file against a stored snapshot, under every denominator",
        description=(
            "Evaluate each claim (default: seeds/claims.toml, or the copy shipped with the package) against a stored "
            "snapshot: our share with its Wilson 95 % interval and a verdict under every denominator."
        ),
    )
    parser.add_argument(
        "snapshot", nargs="?", type=Path, metavar="SNAPSHOT", help="snapshot JSON (default: newest under --out)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"where snapshots are stored (default: ./{DEFAULT_OUT})"
    )
    parser.add_argument("--claims", type=Path, default=None, metavar="FILE", help="claims TOML file")
    parser.add_argument(
        "--min-n",
        type=int,
        default=MIN_N_FOR_VERDICT,
        metavar="N",
        help=f"fewest units a denominator needs for a verdict (default: {MIN_N_FOR_VERDICT})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(func=claim_command)


def newest_snapshot(directory: Path) -> Path:
    """The newest ``snapshot-*.json`` in ``directory``.

    Chosen by file name, not modification time: names carry the crawl's UTC time in a sortable form, and copying a
    directory rewrites mtimes.
    """
    if not directory.is_dir():
        raise SnapshotError(f"no snapshot directory {directory}; pass a SNAPSHOT file or run `monitor snapshot`")
    candidates = sorted(p for p in directory.glob("snapshot-*.json") if p.is_file())
    if not candidates:
        raise SnapshotError(f"no snapshot-*.json under {directory}; pass a SNAPSHOT file or run `monitor snapshot`")
    return candidates[-1]


def claim_command(args: argparse.Namespace) -> int:
    if args.min_n < 0:
        raise ConfigError("--min-n must be 0 or more")
    claims = load_claims(args.claims)
    path: Path = args.snapshot if args.snapshot is not None else newest_snapshot(args.out)
    snapshot = read_json(path)
    results = check_claims(claims.claims, snapshot, min_n=args.min_n)
    ctx = snapshot_context(snapshot)
    if args.json:
        data = claims_to_dict(ctx, results, claims.external, args.min_n)
        data["snapshot_file"] = str(path)
        data["claims_file"] = claims.origin
        sys.stdout.write(json.dumps(data, indent=1) + "\n")
    else:
        console = report_console()
        console.print(f"Snapshot file: {path}\nClaims file: {claims.origin}", markup=False)
        render_claims(console, ctx, results, claims.external, args.min_n)
    return 0
