"""The crawler's persistent node key and the data directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.p2p.nodekey import load_or_create_nodekey
from monitor.paths import default_data_dir


def test_nodekey_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "nodekey"
    first = load_or_create_nodekey(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_nodekey(path) == first


def test_bad_nodekey_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nodekey"
    path.write_text("not a key\n")
    with pytest.raises(ConfigError, match="32-byte hex"):
        load_or_create_nodekey(path)


def test_data_dir_precedence(tmp_path: Path) -> None:
    assert default_data_dir({"MONITOR_DATA_DIR": str(tmp_path)}) == tmp_path
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "eth-hosting-monitor"
