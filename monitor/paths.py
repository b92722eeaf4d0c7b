"""Where the tool keeps its state: the user data directory and the crawler's node key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from monitor.errors import ConfigError
from monitor.p2p.keys import PrivateKey

__all__ = ["APP_DIR", "default_data_dir", "load_or_create_nodekey"]

APP_DIR: Final = "eth-hosting-monitor"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$MONITOR_DATA_DIR``, else ``$XDG_DATA_HOME/eth-hosting-monitor``, else ``~/.local/share/...``."""
    env = os.environ if env is None else env
    if env.get("MONITOR_DATA_DIR"):
        return Path(env["MONITOR_DATA_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / APP_DIR


def load_or_create_nodekey(path: Path) -> PrivateKey:
    """The crawler's secp256k1 key, kept across runs.

    A stable identity matters: peers remember bonds (geth for 24 h) by node id, so a crawler that keeps its key
    is answered at once on its next crawl instead of going through the PING/PONG round trip again, and peers'
    operators see one crawler, not a new node every run. Created with mode 0600 on first use.
    """
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.secret.hex() + "\n")
        return key
    except OSError as err:
        raise ConfigError(f"cannot read node key {path}: {err.strerror or err}") from err
    try:
        return PrivateKey.from_hex(text)
    except ValueError as err:
        raise ConfigError(f"{path} does not hold a 32-byte hex secp256k1 key") from err
