"""Command-line surface: exit codes, usage errors, settings precedence (flag > env > TOML > default)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import COMMANDS, build_parser, main
from monitor.cli.config import apply_defaults


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: monitor" in capsys.readouterr().err


def test_bad_flag_value_is_usage_error() -> None:
    proc = _run("crawl", "--timeout", "-1")
    assert proc.returncode == 2 and "must be positive" in proc.stderr


def test_bad_bootnode_is_usage_error_naming_the_entry() -> None:
    proc = _run("crawl", "--bootnodes", "enode://nothex@1.2.3.4:30303", "--netrestrict", "127.0.0.0/8")
    assert proc.returncode == 2
    assert "nothex" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_netrestrict_is_usage_error() -> None:
    proc = _run("crawl", "--netrestrict", "300.1.0.0/8")
    assert proc.returncode == 2 and "netrestrict" in proc.stderr


def _crawl_args(argv: list[str], env: dict[str, str]) -> object:
    parser = build_parser()
    apply_defaults(parser, argv, env)
    return parser.parse_args(argv)


def test_precedence_flag_over_env_over_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "m.toml"
    cfg.write_text('[monitor]\nconcurrency = 11\ntimeout = 2.5\nnetrestrict = "10.0.0.0/8"\n')
    args = _crawl_args(["crawl", "--config", str(cfg)], {"MONITOR_TIMEOUT": "3.5"})
    assert (args.concurrency, args.timeout, args.netrestrict) == (11, 3.5, "10.0.0.0/8")  # type: ignore[attr-defined]
    args = _crawl_args(["crawl", "--config", str(cfg), "--timeout", "4"], {"MONITOR_TIMEOUT": "3.5"})
    assert args.timeout == 4.0  # type: ignore[attr-defined]


def test_env_values_go_through_the_flag_type() -> None:
    with pytest.raises(SystemExit):
        _crawl_args(["crawl"], {"MONITOR_CONCURRENCY": "many"})


def test_missing_config_file_is_usage_error(tmp_path: Path) -> None:
    proc = _run("crawl", "--config", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def _command_help(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {c.dest: c.help for c in sub._choices_actions}


def test_the_command_list_matches_what_each_command_registers() -> None:
    """``monitor --help`` lists commands without importing them: its table must say what each module says."""
    assert _command_help(build_parser()) == COMMANDS
    assert _command_help(build_parser(only="")) == COMMANDS


def test_help_imports_only_the_command_it_runs() -> None:
    code = (
        "import sys; from monitor.cli import main\n"
        "try:\n    main(['claim', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('web3', 'monitor.crawl.runner', 'monitor.exporter.app') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout + proc.stderr
