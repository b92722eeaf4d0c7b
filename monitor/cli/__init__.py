"""The ``monitor`` command line: parse, call the library, render. One module per command in this package.

Each command module exposes ``register(subparsers)`` that adds its parser with ``set_defaults(func=handler)``; a
handler takes the parsed namespace and returns the exit code (0 ok, 1 runtime failure, 2 bad usage). Shared flag
groups live in :mod:`monitor.cli.flags`, the flag > environment > config-file precedence in :mod:`monitor.cli.config`.
Nothing outside this package imports it; domain packages export functions, never argparse.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.cli.config import apply_defaults
from monitor.errors import ConfigError, MonitorError

__all__ = ["main", "build_parser", "selected_command", "COMMANDS"]

log = logging.getLogger("monitor")

# One module per command, in the order ``monitor --help`` lists them, with the one-line help it shows. Only the
# command being run is imported (its module brings the crawl stack, numpy, web3, ... as it needs them); the others
# are listed by name and help. tests/test_cli_basics.py checks that each module registers the same help.
COMMANDS: dict[str, str] = {
    "crawl": "crawl discovery (discv4, discv5) and write the raw node records (JSON lines)",
    "snapshot": "crawl, attribute, analyse; print the report; write JSON + CSV",
    "classify": "provider, hosting category, region, country and AS of IP addresses",
    "data": "IP datasets: refresh and status",
    "claim": "check the claims file against a stored snapshot, under every denominator",
    "report": "print the report of a stored snapshot; --html FILE writes it as one HTML file, --json as JSON",
    "serve": "scheduled crawls, history and Prometheus metrics over HTTP",
    "devnet": "run a local discovery network on 127.0.0.0/8 until Ctrl-C",
    "db": "history store: schema migrations, status, SQLite -> PostgreSQL import",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, like every other expected failure (issue 16); the usage block is one --help away.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def selected_command(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the first word that is one), if any."""
    return next((arg for arg in argv if arg in COMMANDS), None)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser (``only`` None), or only that command in full and the others as names with their help."""
    parser = _Parser(prog="monitor", description="Measure who hosts Ethereum.")
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (repeat for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors; no progress bar")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"monitor.cli.{name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    for sub in subparsers.choices.values():
        # Global flags after the command too (``monitor crawl -q``); SUPPRESS keeps the value given before it.
        g = sub.add_argument_group("global")
        g.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output")
        g.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors")
    return parser


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=selected_command(raw) or "")  # "": no command named, list them all by name
    try:
        apply_defaults(parser, raw)
    except ConfigError as err:
        sys.stderr.write(f"monitor: error: {err}\n")
        return 2
    args = parser.parse_args(raw)
    _setup_logging(args.verbose, args.quiet)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = func(args)
    except ConfigError as err:
        sys.stderr.write(f"monitor: error: {err}\n")
        return 2
    except MonitorError as err:
        sys.stderr.write(f"monitor: {err}\n")
        return 1
    except OSError as err:  # a disk or socket failure we did not wrap: still one line, not a traceback
        where = f" {err.filename}" if err.filename else ""
        sys.stderr.write(f"monitor: error:{where}: {err.strerror or err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("monitor: interrupted\n")
        return 130
    return code
