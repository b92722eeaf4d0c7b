"""Flag groups shared by several commands (crawl, attribution), the settings they build, and the crawl progress bar."""

from __future__ import annotations

import argparse
import ipaddress
import math
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.discovery.enode import Enode, load_node_urls
from monitor.errors import ConfigError
from monitor.p2p.nodekey import load_or_create_nodekey
from monitor.paths import default_data_dir
from monitor.seeds import consensus_bootnodes, mainnet_bootnodes

if TYPE_CHECKING:  # the crawl stack (secp256k1, RLP) loads only for the commands that crawl
    from monitor.crawl.engine import EngineProgress
    from monitor.crawl.runner import CrawlSettings

__all__ = ["add_crawl_args", "add_attribution_args", "settings_from_args", "split_bootnodes", "crawl_progress"]


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(text)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from err
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
    return value


def _positive_float(text: str, limit: float = 7 * 24 * 3600.0) -> float:
    value = _number(text, float)
    if not 0 < value <= limit:
        raise argparse.ArgumentTypeError(f"must be positive and at most {limit:g}: {text!r}")
    return value


def _seconds_per_reply(text: str) -> float:
    return _positive_float(text, 600.0)


def _positive_int(text: str, limit: int = 100_000_000) -> int:
    value = int(_number(text, int))
    if not 1 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must be between 1 and {limit}: {text!r}")
    return value


def _concurrency(text: str) -> int:
    return _positive_int(text, 65536)


def _retries(text: str) -> int:
    value = int(_number(text, int))
    from monitor.crawl.runner import MAX_RETRIES

    if not 0 <= value <= MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_RETRIES}: {text!r}")
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
    g.add_argument("--concurrency", type=_concurrency, default=256, help="nodes visited at once (256)")
    g.add_argument("--timeout", type=_seconds_per_reply, default=1.0, help="seconds to wait for each reply (1.0)")
    g.add_argument("--retries", type=_retries, default=1, help="extra attempts after a timeout (1)")
    g.add_argument(
        "--listen", default=None, help="HOST:PORT for our discv4 UDP socket; discv5 takes PORT+1 (default: ephemeral)"
    )
    g.add_argument(
        "--max-nodes", type=_positive_int, default=100_000, help="node table cap per protocol, counted (100000)"
    )
    g.add_argument(
        "--max-per-ip",
        type=_positive_int,
        default=32,
        help="nodes per IP that only one peer vouched for; more wait for a second peer (32)",
    )
    g.add_argument(
        "--max-per-referrer",
        type=_positive_int,
        default=320,
        help="nodes one peer may introduce that no other peer lists (320)",
    )
    g.add_argument("--no-rlpx", action="store_true", help="skip the RLPx dial (no client names, no eth Status)")
    g.add_argument("--rlpx-concurrency", type=_concurrency, default=64, help="RLPx dials at once (64)")
    g.add_argument("--rlpx-timeout", type=_seconds_per_reply, default=5.0, help="seconds per RLPx dial (5)")
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
    from monitor.crawl.budget import Limits
    from monitor.crawl.rlpx_stage import RlpxSettings
    from monitor.crawl.runner import CrawlSettings

    bootnodes_v5 = None
    if args.bootnodes is not None and not args.bootnodes.strip(" ,"):
        raise ConfigError("--bootnodes is empty (leave it out to crawl mainnet)")
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
    host, port = parse_listen(args.listen) if args.listen else (None, 0)
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
        max_nodes=args.max_nodes,
        limits=Limits(per_referrer=args.max_per_referrer, per_ip=args.max_per_ip),
    )
    settings.validate()
    return settings


def parse_listen(text: str) -> tuple[str | None, int]:
    """``HOST:PORT`` (``[v6]:PORT``), checked before any socket is opened: an IP address and a port in range."""
    host_text, _, port_text = text.rpartition(":")
    try:
        port = int(port_text)
    except ValueError as err:
        raise ConfigError(f"--listen must be HOST:PORT, got {text!r}") from err
    if not 0 <= port <= 65535:
        raise ConfigError(f"--listen: port must be between 0 and 65535, got {port}")
    host = host_text.strip("[]") or None
    if host is not None:
        try:
            ipaddress.ip_address(host)
        except ValueError as err:
            raise ConfigError(f"--listen: {host!r} is not an IP address") from err
    return host, port


def check_out_dir(path: Path) -> None:
    """Fail before the crawl, not after it: the directory is created and a file written and removed in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".monitor-write-check-"):
            pass
    except OSError as err:
        raise ConfigError(f"--out {path}: not a writable directory ({err.strerror or err})") from err


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
