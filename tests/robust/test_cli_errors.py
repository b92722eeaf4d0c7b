"""Issue 16, defects 3-5: every expected failure is one line and exit code 1 or 2, found before any packet."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.p2p.keys import PrivateKey

NOBODY = f"enode://{PrivateKey.from_seed(b'nobody').pubkey.hex()}@127.64.0.50:29050"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's own usage errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    return code, err


def _one_line(err: str) -> bool:
    lines = [line for line in err.splitlines() if line.strip()]
    return len(lines) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--listen", "127.0.0.1:99999"], "port must be between 0 and 65535"),
        (["--listen", "localhost-ish:30303"], "is not an IP address"),
        (["--duration", "nan"], "finite"),
        (["--duration", "1e400"], "finite"),
        (["--timeout", "nan"], "finite"),
        (["--timeout", "100000"], "at most 600"),
        (["--retries", "1000000000"], "between 0 and 10"),
        (["--concurrency", "10000000"], "between 1 and 65536"),
        (["--max-nodes", "0"], "between 1 and"),
    ],
)
def test_bad_numbers_and_addresses_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, err = _run(capsys, "crawl", "--bootnodes", NOBODY, "--netrestrict", "127.64.0.0/16", *argv)
    assert code == 2 and needle in err and _one_line(err), err


def test_empty_bootnodes_is_an_error_not_mainnet(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "crawl", "--bootnodes", "", "--netrestrict", "127.64.0.0/16")
    assert code == 2 and "--bootnodes is empty" in err and _one_line(err)


def test_binary_nodekey_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = tmp_path / "nodekey"
    key.write_bytes(bytes(range(256)))
    code, err = _run(capsys, "crawl", "--bootnodes", NOBODY, "--netrestrict", "127.64.0.0/16", "--nodekey", str(key))
    assert code == 2 and "not text" in err and _one_line(err)


def test_unwritable_out_fails_before_the_first_packet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.64.0.51", 29051))
    sock.setblocking(False)
    boot = f"enode://{PrivateKey.from_seed(b'listener').pubkey.hex()}@127.64.0.51:29051"
    try:
        code, err = _run(capsys, "crawl", "--bootnodes", boot, "--netrestrict", "127.64.0.0/16", "--duration", "5",
                         "--out", str(blocker / "sub"))  # fmt: skip
        with pytest.raises(BlockingIOError):
            sock.recv(2048)  # the bootnode never heard from us
    finally:
        sock.close()
    assert code == 2 and "not a writable directory" in err and _one_line(err)


def test_unknown_config_key_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('net_restrict = "127.0.0.0/8"\n')  # misspelt: it used to leave the crawl unrestricted
    code, err = _run(capsys, "crawl", "--config", str(config), "--bootnodes", NOBODY)
    assert code == 2 and "unknown key 'net_restrict'" in err and _one_line(err)


def test_nan_in_config_file_goes_through_the_flag_type(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text("duration = nan\n")
    code, err = _run(capsys, "crawl", "--config", str(config), "--bootnodes", NOBODY)
    assert code == 2 and "finite" in err


def test_quiet_after_the_command_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "crawl", "-q", "--bootnodes", "", "-v")
    assert code == 2 and "--bootnodes is empty" in err  # parsed as far as the settings: -q and -v were accepted


def _snapshot(tmp_path: Path, **node: object) -> Path:
    record = {"node_id": "aa" * 32, "pubkey": "bb" * 64, "ip": "1.2.3.4", "udp_port": 30303, "tcp_port": 30303}
    record.update(node)
    meta = {"id": "x", "network": "mainnet", "started_at": 1.0, "ended_at": 2.0, "tool_version": "t"}
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"schema": 2, "meta": meta, "nodes": [record]}))
    return path


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("ip", "not-an-ip", "node 0 (aaaaaaaaaaaaaaaa): field 'ip': 'not-an-ip' is not an IP address"),
        ("first_seen", "yesterday", "field 'first_seen': 'yesterday' is not a UNIX time"),
        ("udp_port", 70000, "field 'udp_port'"),
        ("answered_ping", "yes", "field 'answered_ping'"),
    ],
)
@pytest.mark.parametrize("command", ["report", "claim"])
def test_snapshot_with_a_bad_field_names_record_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, field: str, value: object, needle: str
) -> None:
    code, err = _run(capsys, command, str(_snapshot(tmp_path, **{field: value})))
    assert code == 1 and needle in err and _one_line(err), err


@pytest.mark.parametrize("command", ["report", "claim"])
def test_snapshot_with_invalid_utf8_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    path = tmp_path / "snap.json"
    path.write_bytes(b'{"schema": 2, "meta": "\xff\xfe"}')
    code, err = _run(capsys, command, str(path))
    assert code == 1 and "cannot read snapshot" in err and _one_line(err), err
