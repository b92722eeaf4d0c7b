"""Flag groups shared by several commands (crawl, attribution), the settings they build, and the crawl progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.crawl.engine import EngineProgress
from monitor.crawl.rlpx_stage import RlpxSettings
from monitor.crawl.runner import CrawlSettings
from monitor.discovery.enode import Enode, load_node_urls
from monitor.errors import ConfigError
from monitor.p2p.nodekey import load_or_create_nodekey
from monitor.paths import default_data_dir
from monitor.seeds import consensus_bootnodes, mainnet_bootnodes

__all__ = ["add_crawl_args", "add_attribution_args", "settings_from_args", "split_bootnodes", "crawl_progress"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from err
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from err
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_crawl_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("crawl")
    g.add_argument("--bootnodes", help="comma-separated enode:// or enr: URLs, or a file of them (default: mainnet)")
    g.add_argument(
        "--discovery",
        choices=("v4", "v5", "both"),
        default=None,
        help="discovery protocols to crawl, at once under one deadline: v4 (execution layer), v5 (consensus layer "
        "and execution clients that run it) or both (default: both on mainnet, v4 with --bootnodes)",
    )
    g.add_argument("--network", default=None, help="label for the crawled network (default: mainnet, or 'custom')")
    g.add_argument("--netrestrict", help="CIDR list; never send a packet outside it (e.g. 127.0.0.0/8)")
    g.add_argument("--duration", type=_positive_float, default=600.0, help="stop the crawl after SECONDS (600)")
    g.add_argument("--concurrency", type=_positive_int, default=256, help="nodes visited at once (256)")
    g.add_argument("--timeout", type=_positive_float, default=1.0, help="seconds to wait for each reply (1.0)")
    g.add_argument("--retries", type=int, default=1, help="extra attempts after a timeout (1)")
    g.add_argument(
        "--listen", default=None, help="HOST:PORT for our discv4 UDP socket; discv5 takes PORT+1 (default: ephemeral)"
    )
    g.add_argument("--no-rlpx", action="store_true", help="skip the RLPx dial (no client names, no eth Status)")
    g.add_argument("--rlpx-concurrency", type=_positive_int, default=64, help="RLPx dials at once (64)")
    g.add_argument("--rlpx-timeout", type=_positive_float, default=5.0, help="seconds per RLPx dial (5)")
    g.add_argument(
        "--nodekey",
        type=Path,
        default=None,
        help="file with the crawler's hex secp256k1 key (default: <data dir>/nodekey, created once)",
    )
    g.add_argument("--config", type=Path, help="TOML file with defaults for these flags")


def add_attribution_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("attribution")
    g.add_argument(
        "--ranges",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="overlay of prefix -> provider/region (CSV or JSON); wins over all data; repeatable",
    )
    g.add_argument("--offline", action="store_true", help="local tables only: no ipwhois fallback")
    g.add_argument(
        "--rpc",
        action="append",
        default=[],
        metavar="URL",
        help="also sample admin_peers of your own node (HTTP, WebSocket or IPC path); repeatable",
    )
    g.add_argument("--data-dir", type=Path, default=None, help="where refreshed datasets live")


_PROTOCOLS = {"v4": ("discv4",), "v5": ("discv5",), "both": ("discv4", "discv5")}


def split_bootnodes(given: list[Enode]) -> tuple[list[Enode], list[Enode]]:
    """``(discv4's, discv5's)`` for a crawl of both: ``enode://`` URLs to discv4, ``enr:`` records to discv5.

    A list of one kind only goes to both (geth's bootnodes serve both protocols on one port). Mixed lists are split
    because a consensus client's record names its discv5 port, where discv4 gets no answer, and a discv4-only
    node would be listed as seen by discv5.
    """
    v4 = [b for b in given if b.enr is None]
    v5 = [b for b in given if b.enr is not None]
    return (v4, v5) if v4 and v5 else (given, given)


def settings_from_args(args: argparse.Namespace) -> CrawlSettings:
    bootnodes_v5 = None
    if args.bootnodes:
        bootnodes = load_node_urls(args.bootnodes)
        network = args.network or "custom"
        discovery = _PROTOCOLS[args.discovery or "v4"]
        if len(discovery) > 1:
            bootnodes, bootnodes_v5 = split_bootnodes(bootnodes)
    else:
        bootnodes = mainnet_bootnodes()
        # discv5 starts from the consensus bootnodes and geth's (which run both protocols on one port)
        bootnodes_v5 = [*consensus_bootnodes(), *bootnodes]
        network = args.network or "mainnet"
        discovery = _PROTOCOLS[args.discovery or "both"]
    host, port = None, 0
    if args.listen:
        host, _, port_text = args.listen.rpartition(":")
        try:
            port = int(port_text)
        except ValueError as err:
            raise ConfigError(f"--listen must be HOST:PORT, got {args.listen!r}") from err
        host = host.strip("[]") or None
    if args.retries < 0:
        raise ConfigError("--retries must be 0 or more")
    settings = CrawlSettings(
        bootnodes=bootnodes,
        bootnodes_v5=bootnodes_v5,
        discovery=discovery,
        network=network,
        netrestrict=args.netrestrict,
        listen_host=host,
        listen_port=port,
        duration=args.duration,
        concurrency=args.concurrency,
        timeout=args.timeout,
        retries=args.retries,
        rlpx=RlpxSettings(not args.no_rlpx, args.rlpx_concurrency, args.rlpx_timeout),
        key=load_or_create_nodekey(args.nodekey or default_data_dir() / "nodekey"),
    )
    settings.validate()
    return settings


@contextmanager
def crawl_progress(quiet: bool, duration: float | None) -> Iterator[Callable[[EngineProgress], None]]:
    """A live progress bar on stderr (found / visited / answering / rate); silent when quiet or not a terminal."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield lambda _p: None
        return
    columns = (
        TextColumn("[bold]crawl[/]"),
        BarColumn(),
        TextColumn("{task.fields[text]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("crawl", total=None, text="starting")

        def update(p: EngineProgress) -> None:
            text = (
                f"found {p.found}  visited {p.visited}  answering {p.answered}  "
                f"in flight {p.in_flight}  {p.rate:.0f} nodes/s"
            )
            bar.update(task, completed=p.visited, total=max(p.found, 1), text=text)

        yield update


def stderr_line(text: str) -> None:
    sys.stderr.write(text + "\n")
