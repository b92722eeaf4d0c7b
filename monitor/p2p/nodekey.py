"""The crawler's own secp256k1 key, kept in a file across runs."""

from __future__ import annotations

import os
from pathlib import Path

from monitor.errors import ConfigError
from monitor.p2p.keys import PrivateKey

__all__ = ["load_or_create_nodekey"]


def load_or_create_nodekey(path: Path) -> PrivateKey:
    """The crawler's secp256k1 key, kept across runs.

    A stable identity matters: peers remember bonds (geth for 24 h) by node id, so a crawler that keeps its key
    is answered at once on its next crawl instead of going through the PING/PONG round trip again, and peers'
    operators see one crawler, not a new node every run. Created with mode 0600 on first use.
    """
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return _create(path)
    except UnicodeDecodeError as err:  # a binary file, or the wrong file given to --nodekey
        raise ConfigError(f"{path} does not hold a 32-byte hex secp256k1 key (not text)") from err
    except OSError as err:
        raise ConfigError(f"cannot read node key {path}: {err.strerror or err}") from err
    try:
        return PrivateKey.from_hex(text)
    except ValueError as err:
        raise ConfigError(f"{path} does not hold a 32-byte hex secp256k1 key") from err


def _create(path: Path) -> PrivateKey:
    key = PrivateKey.generate()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.secret.hex() + "\n")
    except OSError as err:  # an unwritable data directory: said before the crawl, in one line
        raise ConfigError(f"cannot create node key {path}: {err.strerror or err}") from err
    return key
