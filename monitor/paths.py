"""Where the tool keeps its state: the user data directory (light: no crypto is loaded to find it)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

__all__ = ["APP_DIR", "default_data_dir"]

APP_DIR: Final = "eth-hosting-monitor"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$MONITOR_DATA_DIR``, else ``$XDG_DATA_HOME/eth-hosting-monitor``, else ``~/.local/share/...``."""
    env = os.environ if env is None else env
    if env.get("MONITOR_DATA_DIR"):
        return Path(env["MONITOR_DATA_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / APP_DIR
