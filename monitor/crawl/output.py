"""Crawl output written record by record: JSON lines, and the JSON snapshot, never whole in memory.

``snapshot.write_jsonl`` joins every line into one string and ``write_json`` serialises ``to_dict()`` (a second
copy of every record as dicts) before writing: a 300k-node crawl peaked at 1.12 GB while writing (issue 16). Here
each record is serialised and written on its own; the files read back with ``read_jsonl`` / ``read_json``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from monitor.errors import SnapshotError
from monitor.fileio import atomic_write_lines
from monitor.snapshot import SCHEMA_VERSION, CrawlMeta, NodeRecord, Snapshot, to_plain

__all__ = ["stream_jsonl", "stream_json", "Journal"]


def stream_jsonl(nodes: Iterable[NodeRecord], path: Path, meta: CrawlMeta | None = None) -> None:
    """The same lines as ``write_jsonl``: an optional ``{"schema", "meta"}`` line, then one node per line."""
    atomic_write_lines(path, _jsonl(nodes, meta), SnapshotError)


def _jsonl(nodes: Iterable[NodeRecord], meta: CrawlMeta | None) -> Iterator[str]:
    if meta is not None:
        yield json.dumps({"schema": SCHEMA_VERSION, "meta": to_plain(meta)}) + "\n"
    for node in nodes:
        yield json.dumps(to_plain(node)) + "\n"


def stream_json(snapshot: Snapshot, path: Path) -> None:
    """A snapshot document ``read_json`` reads (one node per line inside ``"nodes"``), written node by node."""
    atomic_write_lines(path, _json(snapshot), SnapshotError)


def _json(snapshot: Snapshot) -> Iterator[str]:
    yield f'{{"schema": {SCHEMA_VERSION},\n"meta": {json.dumps(to_plain(snapshot.meta), indent=1)},\n"nodes": ['
    for i, node in enumerate(snapshot.nodes):
        yield ("\n" if i == 0 else ",\n") + json.dumps(to_plain(node))
    yield "\n]}\n"


class Journal:
    """What each visit found, appended to a JSON-lines file as the crawl goes (issue 16: nothing lost).

    The final output needs the whole crawl (records merge protocols and RLPx results), so it is written at the end;
    this journal keeps the raw findings of an interrupted or killed crawl: one line per visit, flushed every
    ``flush_every`` lines or ``flush_seconds``, whichever comes first. ``monitor crawl`` removes it once the final
    file is written.
    """

    def __init__(self, path: Path, flush_every: int = 256, flush_seconds: float = 1.0) -> None:
        self.path = path
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.lines = 0
        self._flushed = time.monotonic()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: TextIO | None = path.open("a", encoding="utf-8")
        except OSError as err:
            raise SnapshotError(f"cannot write {path}: {err.strerror or err}") from err

    def writer(self, protocol: str) -> Callable[[Any], None]:
        def write(visit: Any) -> None:
            self.write(protocol, visit)

        return write

    def write(self, protocol: str, visit: Any) -> None:
        """``visit``: a discv4 or discv5 Visit (both have ``peer``, ``answered_ping``, ``enr``, ``ended``)."""
        if self._fh is None:
            return
        peer, enr = visit.peer, visit.enr
        line = {
            "protocol": protocol,
            "node_id": peer.id.hex(),
            "ip": peer.ip or None,
            "udp_port": peer.udp or None,
            "answered_ping": visit.answered_ping,
            "enr": enr.to_text() if enr is not None else None,
            "at": visit.ended,
        }
        try:
            self._fh.write(json.dumps(line) + "\n")
            self.lines += 1
            now = time.monotonic()
            if self.lines % self.flush_every == 0 or now - self._flushed >= self.flush_seconds:
                self._fh.flush()
                self._flushed = now
        except OSError:
            self.close()  # a full disk must not end the crawl: the final output will say what it can

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):  # closing after a write error: nothing more to save
                self._fh.close()
            self._fh = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
