"""Writing files so that readers never see half of one: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from monitor.errors import MonitorError

__all__ = ["atomic_write_text", "atomic_write_bytes", "atomic_write_lines"]


def atomic_write_text(path: Path, text: str, error: type[MonitorError] = MonitorError) -> None:
    """Write ``text`` to ``path`` atomically (mode 0644); an OS failure becomes ``error`` naming the file.

    A crash or a full disk leaves the previous file, if any, untouched and no temporary file behind.
    """
    atomic_write_bytes(path, text.encode("utf-8"), error)


def atomic_write_bytes(path: Path, data: bytes, error: type[MonitorError] = MonitorError) -> None:
    """Write ``data`` to ``path`` atomically, as :func:`atomic_write_text` does."""
    _atomic_write(path, [data], error)


def atomic_write_lines(path: Path, lines: Iterable[str], error: type[MonitorError] = MonitorError) -> None:
    """Like :func:`atomic_write_text`, but each piece is written as it is produced: the whole text never exists
    in memory at once (a Sybil-sized crawl's JSONL was 215 MB, joined from a list of as much, issue 16)."""
    _atomic_write(path, (line.encode("utf-8") for line in lines), error)


def _atomic_write(path: Path, pieces: Iterable[bytes], error: type[MonitorError]) -> None:
    """Write the pieces to a temporary file beside ``path`` (mode 0644), then rename it over ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise error(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as fh:
            for piece in pieces:
                fh.write(piece)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise error(f"cannot write {path}: {err.strerror or err}") from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
