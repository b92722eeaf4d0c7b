"""Settings precedence: command-line flag > ``MONITOR_<FLAG>`` environment variable > ``--config FILE.toml`` > default.

The TOML file holds the same names as the flags (``netrestrict = "127.0.0.0/8"``, ``concurrency = 128``), at the
top level or under a ``[monitor]`` table. Values from the environment are strings and go through the flag's own
type conversion, so ``MONITOR_TIMEOUT=abc`` fails exactly like ``--timeout abc``.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

__all__ = ["ENV_PREFIX", "apply_defaults", "read_toml"]

ENV_PREFIX = "MONITOR_"
_SKIP = {"help", "version", "command", "func", "config"}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"--config: {path} does not exist") from err
    except (OSError, ValueError) as err:  # TOMLDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise ConfigError(f"--config {path}: {err}") from err
    section = data.get("monitor", data)
    if not isinstance(section, dict):
        raise ConfigError(f"--config {path}: [monitor] must be a table")
    return {str(k).replace("-", "_"): v for k, v in section.items()}


def _config_path(argv: Sequence[str], env: Mapping[str, str]) -> Path | None:
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    value = env.get(ENV_PREFIX + "CONFIG")
    return Path(value) if value else None


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:  # argparse exposes no public way to walk sub-commands
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.extend(_subparsers(sub))
    return found


def apply_defaults(parser: argparse.ArgumentParser, argv: Sequence[str], env: Mapping[str, str] = os.environ) -> None:
    """Install TOML and environment values as defaults on every (sub)parser that has the option."""
    path = _config_path(argv, env)
    from_file = read_toml(path) if path is not None else {}
    parsers = _subparsers(parser)
    known = {a.dest for sub in parsers for a in sub._actions}
    for name in from_file:
        if name not in known or name in _SKIP:
            # a misspelt ``netrestrict`` used to leave the crawl unrestricted, silently (issue 16)
            raise ConfigError(f"--config {path}: unknown key {name!r}")
    # Numbers go through the flag's own type as text, so ``duration = nan`` fails like ``--duration nan``.
    from_file = {
        k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for k, v in from_file.items()
    }
    for sub in parsers:
        dests = {a.dest for a in sub._actions if a.dest not in _SKIP and a.dest != argparse.SUPPRESS}
        defaults: dict[str, Any] = {k: v for k, v in from_file.items() if k in dests}
        for dest in dests:
            value = env.get(ENV_PREFIX + dest.upper())
            if value is not None:
                defaults[dest] = value
        if defaults:
            sub.set_defaults(**defaults)
