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

__all__ = ["main", "build_parser"]

log = logging.getLogger("monitor")

# One module per command, in the order ``monitor --help`` lists them.
COMMANDS = ("crawl", "snapshot", "classify", "data", "claim", "report", "serve", "devnet")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, like every other expected failure (issue 16); the usage block is one --help away.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="monitor", description="Measure who hosts Ethereum.")
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (repeat for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors; no progress bar")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"monitor.cli.{name}").register(subparsers)
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
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
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
